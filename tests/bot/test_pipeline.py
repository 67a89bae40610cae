"""The sales pipeline as a 课程顾问 and the admin use it: statuses, assignees, notes, search,
filters, paging, masking, CSV exports, and the audit entry of each read and change."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from staff_helpers import audit_actions, logged_in, make_account

from bot.models import AuditEntry, Enrollment, Lead, StaffNote
from scripts import purge

FULL = ["施工管理", "法规", "建筑实务"]


def enroll(client, name="张三", mobile="13812345678", sender=None):
    response = client.post(
        "/api/enrollments",
        json={
            "name": name,
            "mobile": mobile,
            "package": "无忧取证班",
            "subjects": FULL,
            **({"sender": sender} if sender else {}),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["number"]


def call_back(client, name="王芳", mobile="13912345678", question="AI私塾班能分期吗"):
    response = client.post("/api/leads", json={"name": name, "mobile": mobile, "question": question})
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def team(client):
    """A consultant and an admin, logged in, each with a client of their own."""
    app = client.app
    sales_id, _ = make_account(app, "wangfang", "sales", "王芳")
    make_account(app, "boss", "admin", "管理员")
    return {"sales": logged_in(app, "wangfang"), "admin": logged_in(app, "boss"), "sales_id": sales_id}


def test_a_consultant_marks_an_enrollment_contacted_then_paid_and_each_change_is_audited(client, team):
    number = enroll(client)
    sales = team["sales"]
    assert sales.patch(f"/api/enrollments/{number}", json={"status": "contacted"}).json()["status_label"] == "已联系"
    paid = sales.patch(f"/api/enrollments/{number}", json={"status": "paid"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    back = sales.patch(f"/api/enrollments/{number}", json={"status": "new"})
    assert back.status_code == 409 and "不能从“已付款”改为“待联系”" in back.json()["detail"]
    with client.app.state.db.transaction(write=False) as session:
        assert session.scalar(select(Enrollment.status).where(Enrollment.number == number)) == "paid"
        changes = session.execute(
            select(AuditEntry.actor, AuditEntry.detail)
            .where(AuditEntry.action == "status_changed", AuditEntry.target_id == number)
            .order_by(AuditEntry.id)
        ).all()
    assert changes == [("wangfang", "待联系 → 已联系"), ("wangfang", "已联系 → 已付款")]


def test_assignee_and_notes_are_kept_with_who_wrote_them(client, team):
    number = enroll(client)
    sales = team["sales"]
    assigned = sales.patch(f"/api/enrollments/{number}", json={"assignee_id": team["sales_id"]})
    assert assigned.json()["assignee"] == {"id": team["sales_id"], "name": "王芳"}
    note = sales.post(f"/api/enrollments/{number}/notes", json={"text": "电话沟通：周末付款，想要发票"})
    assert note.status_code == 201 and note.json()["author"] == "王芳"
    assert sales.post(f"/api/enrollments/{number}/notes", json={"text": "   "}).status_code == 422
    assert sales.post(f"/api/enrollments/{number}/notes", json={"text": "备注\x00"}).status_code == 422
    detail = sales.get(f"/api/enrollments/{number}").json()
    assert [n["text"] for n in detail["notes"]] == ["电话沟通：周末付款，想要发票"]
    # Only active consultants and admins can be assignees; null is nobody.
    support_id, _ = make_account(client.app, "lisi", "support")
    refused = sales.patch(f"/api/enrollments/{number}", json={"assignee_id": support_id})
    assert refused.status_code == 422 and "课程顾问或管理员" in refused.json()["detail"]
    assert sales.patch(f"/api/enrollments/{number}", json={"assignee_id": None}).json()["assignee"] is None
    mine = sales.get("/api/enrollments", params={"assignee": "none"}).json()
    assert [e["number"] for e in mine["items"]] == [number]
    assert ("wangfang", "note_added", number) in audit_actions(client.app)


def test_search_by_name_phone_digits_and_number_with_status_filter_and_paging(client, team):
    numbers = [enroll(client, name=f"客户{chr(0x4E00 + i)}", mobile=f"1380000{i:04d}") for i in range(12)]
    lisi = enroll(client, name="李四", mobile="13698765432")
    sales = team["sales"]

    def found(**params):
        return sales.get("/api/enrollments", params=params).json()

    assert [e["name"] for e in found(q="李")["items"]] == ["李四"]
    assert [e["number"] for e in found(q="136 9876")["items"]] == [lisi]
    assert [e["number"] for e in found(q=lisi[-6:].lower())["items"]] == [lisi]
    first, second = found(limit=5, offset=0), found(limit=5, offset=5)
    assert first["total"] == 13 and len(first["items"]) == 5
    assert not {e["number"] for e in first["items"]} & {e["number"] for e in second["items"]}
    sales.patch(f"/api/enrollments/{numbers[0]}", json={"status": "cancelled"})
    assert [e["number"] for e in found(status="cancelled")["items"]] == [numbers[0]]
    # Dates are China's calendar days.
    with client.app.state.db.transaction() as session:
        session.execute(
            update(Enrollment)
            .where(Enrollment.number == lisi)
            .values(created_at=datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc))
        )  # 3月2日 00:30 北京
    assert [e["number"] for e in found(date_from="2026-03-02", date_to="2026-03-02")["items"]] == [lisi]


def test_phones_are_full_for_consultants_and_masked_for_the_admin(client, team):
    number = enroll(client)
    lead_id = call_back(client)
    assert team["sales"].get("/api/enrollments").json()["items"][0]["mobile"] == "13812345678"
    assert team["admin"].get("/api/enrollments").json()["items"][0]["mobile"] == "138****5678"
    assert team["admin"].get(f"/api/enrollments/{number}").json()["mobile"] == "138****5678"
    assert team["admin"].get(f"/api/leads/{lead_id}").json()["mobile"] == "139****5678"


def test_lead_status_assignee_note_and_search(client, team):
    lead_id = call_back(client)
    call_back(client, name="赵六", mobile="13700001111", question="有没有周末班")
    sales = team["sales"]
    changed = sales.patch(f"/api/leads/{lead_id}", json={"status": "contacted", "assignee_id": team["sales_id"]})
    assert changed.json()["status_label"] == "已联系" and changed.json()["assignee"]["name"] == "王芳"
    assert sales.post(f"/api/leads/{lead_id}/notes", json={"text": "客户说下周再联系"}).status_code == 201
    assert [lead["name"] for lead in sales.get("/api/leads", params={"q": "0000 1111"}).json()["items"]] == ["赵六"]
    assert [lead["id"] for lead in sales.get("/api/leads", params={"assignee": "me"}).json()["items"]] == [lead_id]
    assert sales.get(f"/api/leads/{lead_id}").json()["notes"][0]["text"] == "客户说下周再联系"
    with client.app.state.db.transaction(write=False) as session:
        assert session.get(Lead, lead_id).status == "contacted"
    assert ("wangfang", "lead_read", str(lead_id)) in audit_actions(client.app)


def test_every_list_read_is_in_the_audit_log_with_its_filter(client, team):
    enroll(client)
    team["sales"].get("/api/enrollments", params={"q": "13812345678", "status": "new"})
    entry = team["admin"].get("/api/staff/audit", params={"action": "enrollments_read"}).json()["items"][0]
    assert entry["actor"] == "wangfang" and entry["action_label"] == "查看报名列表"
    assert "1/1 条" in entry["detail"] and "状态=待联系" in entry["detail"]
    assert "13812345678" not in entry["detail"] and "138****5678" in entry["detail"]  # masked in the log too


def test_the_admin_exports_the_filtered_rows_as_csv_that_a_spreadsheet_opens(client, team):
    paid = enroll(client, name="张三")
    enroll(client, name="李四", mobile="13698765432")
    team["sales"].patch(f"/api/enrollments/{paid}", json={"status": "paid"})
    team["sales"].post(f"/api/enrollments/{paid}/notes", json={"text": "已开发票"})
    response = team["admin"].get("/api/staff/exports/enrollments.csv", params={"status": "paid"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())  # Excel reads the BOM as UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["报名号"], r["姓名"], r["手机号"], r["状态"]) for r in rows] == [(paid, "张三", "13812345678", "已付款")]
    assert "已开发票" in rows[0]["备注"] and rows[0]["报价（元）"] == "6280"
    assert ("boss", "export", None) in audit_actions(client.app)
    assert team["sales"].get("/api/staff/exports/enrollments.csv").status_code == 403


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(client, team):
    call_back(client, question="=HYPERLINK(\"http://x\",\"点我\")")
    text = team["admin"].get("/api/staff/exports/leads.csv").content.decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["问题"].startswith("'=HYPERLINK")


def test_bad_filters_are_422_in_chinese(team):
    sales = team["sales"]
    for params in ({"assignee": "someone"}, {"date_from": "1999-01-01"}, {"status": "paid-ish"}, {"q": "x" * 51}):
        response = sales.get("/api/enrollments", params=params)
        assert response.status_code == 422, params
    assert "日期需在" in sales.get("/api/leads", params={"date_to": "2200-01-01"}).json()["detail"]


def test_owners_still_get_410_on_the_staff_record_and_other_roles_403(client):
    number = enroll(client)
    assert client.get(f"/api/enrollments/{number}").status_code == 410
    make_account(client.app, "lisi", "support")
    response = logged_in(client.app, "lisi").get(f"/api/enrollments/{number}")
    assert response.status_code == 403 and "客服" in response.json()["detail"]


def test_pages_of_one_day_keep_their_order_when_times_tie(client, team):
    numbers = [enroll(client, name=f"同时{chr(0x4E00 + i)}", mobile=f"1390000{i:04d}") for i in range(4)]
    same = datetime.now(timezone.utc) - timedelta(hours=1)
    with client.app.state.db.transaction() as session:
        session.execute(update(Enrollment).values(created_at=same))
    pages = [team["sales"].get("/api/enrollments", params={"limit": 2, "offset": o}).json()["items"] for o in (0, 2)]
    assert sorted(e["number"] for page in pages for e in page) == sorted(numbers)


def test_make_purge_takes_the_notes_about_a_person_with_the_person(client, team):
    lead_id = call_back(client)
    number = enroll(client)
    team["sales"].post(f"/api/leads/{lead_id}/notes", json={"text": "客户说下周再联系"})
    team["sales"].patch(f"/api/enrollments/{number}", json={"status": "cancelled"})
    team["sales"].post(f"/api/enrollments/{number}/notes", json={"text": "客户说报了别家"})
    kept = enroll(client, mobile="13600001111")
    team["sales"].post(f"/api/enrollments/{kept}/notes", json={"text": "周末付款"})
    later = datetime.now(timezone.utc) + timedelta(days=1)  # everything is older than this cutoff
    report = purge.Report(later)
    purge.purge_backend(client.app.state.db, later, report)
    assert (
        report.counts["leads deleted"] == 1
        and report.counts["staff notes of deleted or anonymised people deleted"] == 2
    )
    with client.app.state.db.transaction(write=False) as session:
        assert [n.text for n in session.scalars(select(StaffNote))] == ["周末付款"]  # an open enrollment's note stays
