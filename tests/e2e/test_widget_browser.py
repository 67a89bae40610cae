"""The chat widget in real headless Chromium (Debian's, driven by Playwright); the staff console's
browser tests are in test_console_browser.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

REPORTS = Path(__file__).resolve().parents[2] / "var" / "reports"
STAFF_TOKEN = "e2e-staff-token-for-tests-only"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def bot_bubbles(page):
    return page.locator(".jzs-bot")


def send(page, text: str) -> None:
    before = bot_bubbles(page).count()
    page.fill(".jzs-form textarea", text)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.jzs-bot').length > {before}", timeout=30_000)
    page.wait_for_selector(".jzs-typing", state="detached", timeout=30_000)


def test_widget_conversation_with_button_and_feedback_reaches_staff(stack, page):
    page.goto(stack.bot_url + "/")
    page.click(".jzs-launch")
    assert "建造师助手" in bot_bubbles(page).first.inner_text()

    # A registration question: answered with its source, and rated 👍.
    send(page, "证件照有什么要求")
    answer = bot_bubbles(page).last.inner_text()
    assert "30KB" in answer and "来源：" in answer
    page.locator(".jzs-fb").last.get_by_role("button", name="有帮助").click()
    page.wait_for_selector(".jzs-fb >> text=感谢反馈")

    # A course question, then a quick-reply button click.
    send(page, "AI私塾班多少钱")
    assert "4880" in bot_bubbles(page).last.inner_text()
    send(page, "我要报名")
    quick = page.locator(".jzs-quick button").first
    if quick.count():
        before = bot_bubbles(page).count()
        quick.click()
        page.wait_for_function(f"document.querySelectorAll('.jzs-bot').length > {before}", timeout=30_000)

    REPORTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(REPORTS / "widget.png"))

    # The session survives a reload.
    count = bot_bubbles(page).count()
    page.reload()
    page.wait_for_selector(".jzs-bot")
    assert bot_bubbles(page).count() == count

    feedback = httpx.get(
        f"{stack.bot_url}/api/staff/feedback", headers={"Authorization": f"Bearer {STAFF_TOKEN}"}, timeout=10
    ).json()["items"]
    assert any(f["rating"] == 1 and "30KB" in (f["answer"] or "") for f in feedback)


def test_html_in_a_message_is_shown_as_text_never_run(stack, page):
    page.goto(stack.bot_url + "/")
    page.click(".jzs-launch")
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script><b>粗体</b>'
    send(page, payload)
    user_bubble = page.locator(".jzs-user").last
    assert user_bubble.inner_text() == payload
    assert page.locator(".jzs-log img, .jzs-log script, .jzs-log b").count() == 0
    assert page.dialogs == []


def test_enter_during_ime_composition_does_not_send(stack, page):
    page.goto(stack.bot_url + "/")
    page.click(".jzs-launch")
    page.fill(".jzs-form textarea", "zhengjianzhao")
    page.dispatch_event(".jzs-form textarea", "keydown", {"key": "Enter", "isComposing": True, "keyCode": 229})
    assert page.locator(".jzs-user").count() == 0
    assert page.input_value(".jzs-form textarea") == "zhengjianzhao"


def test_widget_fits_a_phone_screen(stack, browser):
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(stack.bot_url + "/")
    page.click(".jzs-launch")
    box = page.locator(".jzs-panel").bounding_box()
    assert box["width"] <= 375 and box["x"] >= 0
    context.close()
