"""The staff console in real headless Chromium (Debian's, driven by Playwright), as each role uses it.

The tests read what the page shows: which sections each role gets, that every field is words (no
"[object Object]", "undefined", "NaN"), that a status change made in the page is in the database
and in the audit log, and that a CSV export opens with the right rows. Accounts are made the way an
operator makes them: the first admin with `python -m bot.admin`, the others in the console.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.db import Database
from bot.models import AuditEntry, Enrollment, Handoff, Lead, StaffAccount, StaffNote

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "var" / "reports"
UNREADABLE = ("[object Object]", "undefined", "NaN")
SUPPORT_SECTIONS = ["知识检索", "未解答问题", "用户反馈", "转人工队列"]
SALES_SECTIONS = ["报名", "回访线索"]
ADMIN_SECTIONS = SUPPORT_SECTIONS + SALES_SECTIONS + ["账号管理", "操作日志", "设置"]
RUN = uuid.uuid4().hex[:4]  # account names of this run (the e2e stack's database lives for the session)


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database_url(stack) -> str:
    return stack.env.get("DATABASE_URL") or f"sqlite:///{stack.var_dir / 'bot.db'}"


@pytest.fixture(scope="module")
def db(database_url):
    database = Database(database_url)
    yield database
    database.close()


def new_page(browser, stack, **options):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN", **options)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.bot_url)
    return context.new_page()


@pytest.fixture(scope="module")
def team(stack, browser, database_url):
    """The first admin from the command line; a 客服 and a 课程顾问 account made by that admin in
    the console. Returns each person's login name and one-time password (the admin's is replaced)."""
    env = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "test"}
    made = subprocess.run(
        [sys.executable, "-m", "bot.admin", "create", f"boss{RUN}", "--role", "admin", "--display-name", "管理员"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    otp = re.search(r"一次性密码：(\S+)", made.stdout).group(1)
    admin = {"username": f"boss{RUN}", "password": f"boss-own-password-{RUN}"}
    page = new_page(browser, stack)
    first_login(page, stack, admin["username"], otp, admin["password"])
    people = {"admin": admin}
    for role, username, name, label in (
        ("support", f"kefu{RUN}", "李客服", "客服"),
        ("sales", f"guwen{RUN}", "王顾问", "课程顾问"),
    ):
        open_section(page, "账号管理")
        page.fill("#acc-username", username)
        page.fill("#acc-name", name)
        page.select_option("#acc-role", role)
        page.click("#account-form button[type=submit]")
        shown = page.wait_for_selector(f"[data-role=one-time]:has-text('{username}')")
        assert label in shown.inner_text()
        people[role] = {
            "username": username,
            "name": name,
            "otp": page.inner_text("[data-role=otp]"),
            "password": f"{role}-own-password-{RUN}",
        }
        page.wait_for_selector(f"#accounts tr[data-username='{username}']")
    page.context.close()
    return people


# -- what a person does in the page ---------------------------------------------------------------


def first_login(page, stack, username: str, one_time: str, password: str) -> None:
    """Log in with a one-time password; the console asks for one's own password first."""
    page.goto(stack.bot_url + "/staff")
    page.fill("#username", username)
    page.fill("#password", one_time)
    page.click("#login-btn")
    page.wait_for_selector("#password-card:not([hidden])")
    assert "一次性密码" in page.inner_text("#password-why")
    page.fill("#pw-current", one_time)
    page.fill("#pw-new", password)
    page.fill("#pw-repeat", password)
    page.click("#pw-btn")
    page.wait_for_selector("#app:not([hidden])")


def login(page, stack, username: str, password: str) -> None:
    page.goto(stack.bot_url + "/staff")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-btn")
    page.wait_for_selector("#app:not([hidden])")


def sections(page) -> list[str]:
    return [b.inner_text() for b in page.locator("#nav button").all()]


def open_section(page, label: str) -> None:
    page.click(f"#nav button:text-is('{label}')")
    page.wait_for_selector("section.view.active")


def assert_readable(page) -> None:
    """Every field shows words: nothing a script failed to turn into text."""
    shown = page.inner_text("body")
    for word in UNREADABLE:
        assert word not in shown, f"the page shows {word!r}: {shown[:2000]}"


def wait_for_toast(page, words: str) -> None:
    page.wait_for_selector(f"#toast:not([hidden]):has-text('{words}')")


def screenshot(page, name: str) -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(REPORTS / f"console-{name}.png"), full_page=True)


def widget_send(page, text: str) -> None:
    before = page.locator(".jzs-bot").count()
    page.fill(".jzs-form textarea", text)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.jzs-bot').length > {before}", timeout=30_000)
    page.wait_for_selector(".jzs-typing", state="detached", timeout=30_000)


def audit_rows(db, actor: str) -> list[tuple[str, str | None, str | None]]:
    with db.transaction(write=False) as session:
        return [
            (e.action, e.target_id, e.detail)
            for e in session.scalars(select(AuditEntry).where(AuditEntry.actor == actor).order_by(AuditEntry.id))
        ]


# -- the days' work -------------------------------------------------------------------------------


def test_support_looks_up_an_answer_with_its_source_and_takes_a_handoff_the_user_hears_of(stack, browser, team, db):
    person = team["support"]
    user = new_page(browser, stack)  # a visitor of the website, in the chat widget
    user.goto(stack.bot_url + "/")
    user.click(".jzs-launch")
    widget_send(user, "转人工")
    assert "人工客服" in user.locator(".jzs-bot").last.inner_text()
    sender = json.loads(user.evaluate("localStorage.getItem('jzs-widget')"))["sender"]

    page = new_page(browser, stack)
    first_login(page, stack, person["username"], person["otp"], person["password"])
    assert sections(page) == SUPPORT_SECTIONS
    assert person["name"] in page.inner_text("header") and "客服" in page.inner_text("header")

    # Lookup: the decision, the answer and its source in words, copied with the source.
    page.fill("#q", "资格库里没有我的数据")
    page.click("#search-form button")
    decision = page.wait_for_selector("[data-role=decision]")
    verdict = page.inner_text("[data-role=verdict]")
    assert verdict.startswith("判断：") and "把握" in verdict
    source = page.inner_text("[data-role=decision] [data-role=source]")
    assert re.match(r"来源：福建省.+ · .+", source), source
    answer = page.inner_text("[data-role=decision] [data-role=answer]")
    page.click("[data-role=decision] [data-role=copy]")
    page.wait_for_selector("[data-role=decision] [data-role=copy]:text-is('已复制')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(answer) and source.replace("来源：", "") in copied
    hits = page.locator("[data-role=hit-meta]").all()
    assert len(hits) >= 2 and all(re.match(r"得分 \d\.\d{3} · 来源：\S", h.inner_text()) for h in hits)
    assert decision.is_visible()
    assert_readable(page)
    screenshot(page, "support-lookup")

    # The hand-off queue: the widget's request waits; taking it tells the user in the chat.
    open_section(page, "转人工队列")
    row = page.wait_for_selector(f"#handoffs tr:has-text('{sender}')")
    assert "等待接待" in row.inner_text() and "已等待" in row.inner_text()
    assert_readable(page)
    row.query_selector("button:text-is('接手')").click()
    wait_for_toast(page, "已接手")
    page.wait_for_selector("#drawer [data-role=transcript]:has-text('用户：转人工')")
    with db.transaction(write=False) as session:
        handoff = session.scalar(select(Handoff).where(Handoff.sender == sender).order_by(Handoff.id.desc()))
        taker = session.get(StaffAccount, handoff.taken_by_id)
        assert handoff.status == "taken" and taker.username == person["username"]
    user.wait_for_selector(f".jzs-staff:has-text('人工客服{person['name']}已接手')", timeout=20_000)
    page.fill("#drawer textarea", "您好，我是李客服。请问是在哪一步看不到数据？")
    page.click("#drawer button:text-is('发送回复')")
    wait_for_toast(page, "已发送")
    user.wait_for_selector(".jzs-staff:has-text('请问是在哪一步看不到数据')", timeout=20_000)
    screenshot(user, "widget-handoff")
    assert [a for a, target, _ in audit_rows(db, person["username"]) if target == str(handoff.id)] == [
        "handoff_taken",
        "handoff_reply",
    ]

    # The other lists of the day read as text too; the sales pipeline is not theirs.
    for label in ("未解答问题", "用户反馈"):
        open_section(page, label)
        page.wait_for_selector("section.view.active tbody tr")
        assert_readable(page)
    refused = page.evaluate("fetch('/api/enrollments').then(r => r.status)")
    assert refused == 403
    open_section(page, "转人工队列")
    page.click("#handoff-tabs button[data-status=taken]")
    page.wait_for_selector(f"#handoffs tr:has-text('{sender}'):has-text('{person['name']}')")
    screenshot(page, "support-handoffs")
    user.context.close()
    page.context.close()


def test_sales_follow_up_an_enrollment_and_a_lead_and_the_admin_sees_who_did_what(stack, browser, team, db):
    person, boss = team["sales"], team["admin"]
    # What the assistant captured: a conversation that ended in an enrollment, and a call-back request.
    sender = f"e2e-sales-{uuid.uuid4().hex[:8]}"
    api = httpx.Client(base_url=stack.bot_url, timeout=30)
    assert api.post("/api/chat", json={"sender": sender, "message": "你好"}).status_code == 200
    enrollment = api.post(
        "/api/enrollments",
        json={
            "name": "陈晓明",
            "mobile": "13712345678",
            "package": "无忧取证班",
            "subjects": ["施工管理", "法规", "建筑实务"],
            "sender": sender,
        },
    ).json()
    number = enrollment["number"]
    lead = api.post(
        "/api/leads",
        json={"name": "周婷", "phone": "13598765432", "question": "有没有周末班", "preferred_time": "工作日晚上"},
    ).json()

    page = new_page(browser, stack)
    first_login(page, stack, person["username"], person["otp"], person["password"])
    assert sections(page) == SALES_SECTIONS
    page.wait_for_selector("#enrollments tr")

    # Search by part of the phone, open the record: its conversation beside it.
    page.fill("#enrollments-filters input[type=search]", "137 1234")
    page.click("#enrollments-filters button[type=submit]")
    page.wait_for_selector("#enrollments-pager [data-role=range]:text-is('第 1-1 条，共 1 条')")
    row = page.inner_text(f"#enrollments tr[data-key='{number}']")
    assert "13712345678" in row and "待联系" in row
    page.click(f"#enrollments tr[data-key='{number}']")
    page.wait_for_selector("#drawer [data-role=transcript]:has-text('用户：你好')")
    assert_readable(page)

    # Mark it contacted, take it on, and note what the customer said on the phone.
    page.click("#drawer [data-role=status-actions] button:text-is('已联系')")
    wait_for_toast(page, "状态已改为“已联系”")
    page.wait_for_selector(f"#enrollments tr[data-key='{number}']:has-text('已联系')")
    page.wait_for_selector("#drawer [data-role=status-actions] button:text-is('已付款')")
    # The drawer is drawn again once the change is saved; type the note after that, as a person
    # who waits for the page would (a note typed meanwhile is kept too, but the click may land on
    # the button being replaced).
    with page.expect_response(lambda r: r.request.method == "GET" and r.url.endswith(f"/api/enrollments/{number}")):
        page.select_option("#drawer select", label=person["name"])
    wait_for_toast(page, "负责人已改为")
    page.fill("#drawer textarea", "电话沟通：周末付款，需要发票")
    page.click("#drawer button:text-is('保存备注')")
    page.wait_for_selector("#drawer [data-role=notes]:has-text('电话沟通：周末付款，需要发票')")
    assert_readable(page)
    screenshot(page, "sales-enrollment")
    with db.transaction(write=False) as session:
        stored = session.scalar(select(Enrollment).where(Enrollment.number == number))
        me = session.scalar(select(StaffAccount).where(StaffAccount.username == person["username"]))
        assert stored.status == "contacted" and stored.assignee_id == me.id
        assert (
            session.scalar(
                select(StaffNote.text).where(StaffNote.subject_id == stored.id, StaffNote.subject_kind == "enrollment")
            )
            == "电话沟通：周末付款，需要发票"
        )
    actions = audit_rows(db, person["username"])
    assert ("status_changed", number, "待联系 → 已联系") in actions
    assert any(a == "assignee_changed" and t == number for a, t, _ in actions)
    assert any(a == "enrollments_read" for a, _, _ in actions) and ("conversation_read", number) in [
        (a, t) for a, t, _ in actions
    ]

    # The lead: found by name, marked contacted.
    open_section(page, "回访线索")
    page.fill("#leads-filters input[type=search]", "周婷")
    page.click("#leads-filters button[type=submit]")
    page.click(f"#leads tr[data-key='{lead['id']}']")
    page.wait_for_selector("#drawer:has-text('有没有周末班')")
    page.click("#drawer [data-role=status-actions] button:text-is('已联系')")
    wait_for_toast(page, "状态已改为“已联系”")
    assert_readable(page)
    with db.transaction(write=False) as session:
        assert session.get(Lead, lead["id"]).status == "contacted"
    page.context.close()

    # The admin: everything, phones masked, the audit log says who did what, the CSV has the rows.
    page = new_page(browser, stack, accept_downloads=True)
    login(page, stack, boss["username"], boss["password"])
    assert sections(page) == ADMIN_SECTIONS
    open_section(page, "操作日志")
    page.fill("#audit-actor", person["username"])
    page.click("#audit-filters button[type=submit]")
    entry = page.wait_for_selector(f"#audit tr:has-text('修改状态'):has-text('{number}')")
    assert "待联系 → 已联系" in entry.inner_text() and person["username"] in entry.inner_text()
    assert_readable(page)
    screenshot(page, "admin-audit")

    open_section(page, "报名")
    page.select_option("#enrollments-filters select[aria-label=状态]", "contacted")
    page.fill("#enrollments-filters input[type=search]", number)
    page.click("#enrollments-filters button[type=submit]")
    row = page.wait_for_selector(f"#enrollments tr[data-key='{number}']")
    assert "137****5678" in row.inner_text() and "13712345678" not in row.inner_text()
    with page.expect_download() as download:
        page.click("#enrollments-filters button:text-is('导出CSV')")
    exported = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["报名号"], r["姓名"], r["手机号"], r["状态"], r["负责人"]) for r in rows] == [
        (number, "陈晓明", "13712345678", "已联系", person["name"])
    ]
    assert "电话沟通：周末付款，需要发票" in rows[0]["备注"]
    assert ("export", None) in [(a, t) for a, t, _ in audit_rows(db, boss["username"])]
    for label in ("账号管理", "设置"):
        open_section(page, label)
        page.wait_for_selector("section.view.active tbody tr")
        assert_readable(page)
    screenshot(page, "admin-settings")
    page.context.close()


def test_a_wrong_password_is_refused_in_words_and_a_logged_out_console_asks_to_log_in(stack, browser, team):
    page = new_page(browser, stack)
    page.goto(stack.bot_url + "/staff")
    page.fill("#username", team["admin"]["username"])
    page.fill("#password", "not-the-password")
    page.click("#login-btn")
    page.wait_for_selector("#login-err:text-is('用户名或密码不正确。')")
    login(page, stack, team["admin"]["username"], team["admin"]["password"])
    page.click("#logout")
    page.wait_for_selector("#login:not([hidden])")
    page.reload()
    page.wait_for_selector("#login:not([hidden])")
    assert page.locator("#app").is_hidden()
    assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly: no script reads it
    page.context.close()
