"""POST/GET/PATCH /api/enrollments on a real SQLite file migrated by Alembic (one per test)."""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.routes import enrollments as enrollment_routes

FULL = ["施工管理", "法规相关知识", "建筑实务"]


def enroll(client, *, name="张三", mobile="13812345678", package="无忧取证班", subjects=FULL, key=None, **extra):
    headers = {"Idempotency-Key": key} if key else {}
    body = {"name": name, "mobile": mobile, "package": package, "subjects": subjects, **extra}
    return client.post("/api/enrollments", json=body, headers=headers)


def staff_list(client, staff_headers, **params) -> dict:
    response = client.get("/api/enrollments", params=params, headers=staff_headers)
    assert response.status_code == 200, response.text
    return response.json()


# -- creating ------------------------------------------------------------------------------------------


def test_enrollment_gets_a_number_and_the_quoted_price(client):
    response = enroll(client, sender="web-abc", channel="web")
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"EN\d{8}-[2-9A-HJ-NP-Z]{8}", body["number"])
    china_today = datetime.now(timezone(timedelta(hours=8))).strftime("%Y%m%d")
    assert body["number"][2:10] == china_today
    assert body["price"] == 6280 and body["package"]["name"] == "无忧取证班"
    assert [s["name"] for s in body["subjects"]] == FULL
    assert body["status"] == "new" and body["created"] is True
    assert response.headers["location"] == f"/api/enrollments/{body['number']}"
    # The public answer does not echo the full phone number.
    assert body["mobile"] == "138****5678"


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086 138 1234 5678",
        "(+86) 138-1234-5678",
        "１３８１２３４５６７８",  # full-width digits
        "＋８６ １３８－１２３４－５６７８",
    ],
)
def test_mobile_numbers_are_accepted_as_people_type_them(client, staff_headers, typed):
    response = enroll(client, mobile=typed)
    assert response.status_code == 201 and response.json()["mobile"] == "138****5678"
    stored = client.get(f"/api/enrollments/{response.json()['number']}", headers=staff_headers).json()
    assert stored["mobile"] == "13812345678"


@pytest.mark.parametrize(
    "typed, says",
    [
        ("12812345678", "第二位是3-9"),
        ("23812345678", "第二位是3-9"),
        ("0086 128 1234 5678", "第二位是3-9"),
        ("1381234567", "您输入的是10位"),
        ("138123456789", "您输入的是12位"),
        ("0591-8765-4321", "您输入的是12位"),
        ("138abcd5678", "11位中国大陆手机号"),
        ("", "11位中国大陆手机号"),
    ],
)
def test_a_bad_mobile_is_a_422_naming_the_field_and_what_to_fix(client, staff_headers, typed, says):
    response = enroll(client, mobile=typed)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "mobile"]]
    assert says in response.json()["detail"] and "11位" in response.json()["detail"]
    assert staff_list(client, staff_headers)["total"] == 0


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "Li Lei", "阿卜杜·热合曼", "Mary-Jane O'Neil"])
def test_chinese_and_latin_names_are_accepted(client, staff_headers, name):
    response = enroll(client, name=f"  {name} ")
    assert response.status_code == 201 and response.json()["name"] == name
    assert staff_list(client, staff_headers)["items"][0]["name"] == name


@pytest.mark.parametrize("name", ["张", "张3", "a" * 31, "😀😀", "<script>", "   "])
def test_a_bad_name_is_a_422_in_chinese(client, staff_headers, name):
    response = enroll(client, name=name)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "name"]]
    assert "姓名" in response.json()["detail"] and "2-30个字" in response.json()["detail"]
    assert staff_list(client, staff_headers)["total"] == 0


def test_the_contact_check_answers_with_what_an_enrollment_would_store(client):
    response = client.post("/api/contact/check", json={"name": " 王  芳 ", "mobile": "0086 139 8765 4321"})
    assert response.status_code == 200 and response.json() == {"name": "王 芳", "mobile": "13987654321"}
    assert (
        client.post("/api/contact/check", json={"mobile": "１３９８７６５４３２１"}).json()["mobile"] == "13987654321"
    )


def test_the_contact_check_refuses_as_an_enrollment_does(client):
    checked = client.post("/api/contact/check", json={"mobile": "1398765432"})
    enrolled = enroll(client, mobile="1398765432")
    assert checked.status_code == enrolled.status_code == 422
    assert checked.json()["detail"] == enrolled.json()["detail"] and "10位" in checked.json()["detail"]
    assert [e["loc"] for e in checked.json()["errors"]] == [["body", "mobile"]]
    name = client.post("/api/contact/check", json={"name": "张3"})
    assert name.status_code == 422 and [e["loc"] for e in name.json()["errors"]] == [["body", "name"]]


def test_missing_fields_are_named_in_chinese(client):
    response = client.post("/api/enrollments", json={"package": "wuyou", "subjects": ["jianzhu"]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "姓名" in detail and "手机号" in detail


def test_an_invalid_request_writes_nothing(client, staff_headers):
    assert enroll(client, subjects=["建筑实务", "消防实务"]).status_code == 422
    assert staff_list(client, staff_headers)["total"] == 0


def test_a_failure_after_the_insert_rolls_the_whole_request_back(app_settings, staff_headers, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("failure while building the response")

    monkeypatch.setattr(enrollment_routes, "enrollment_out", broken)
    with TestClient(create_app(app_settings), raise_server_exceptions=False) as client:
        response = enroll(client)
        assert response.status_code == 500 and "稍后再试" in response.json()["detail"]
        monkeypatch.undo()
        assert staff_list(client, staff_headers)["total"] == 0


def test_phone_numbers_never_reach_the_log(client, caplog):
    with caplog.at_level(logging.DEBUG):
        enroll(client, mobile="139 8765 4321", sender="web-1")
    assert "13987654321" not in caplog.text and "8765 4321" not in caplog.text


# -- duplicates ----------------------------------------------------------------------------------------


def test_the_same_idempotency_key_never_creates_a_second_enrollment(client, staff_headers):
    first = enroll(client, key="retry-1")
    second = enroll(client, key="retry-1")
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["number"] == first.json()["number"] and second.json()["created"] is False
    assert staff_list(client, staff_headers)["total"] == 1


def test_the_same_key_for_a_different_enrollment_is_refused(client, staff_headers):
    enroll(client, key="retry-2")
    response = enroll(client, key="retry-2", package="AI私塾班")
    assert response.status_code == 409 and "Idempotency-Key" in response.json()["detail"]
    assert staff_list(client, staff_headers)["total"] == 1


def test_the_same_sender_submitting_the_same_enrollment_gets_the_existing_one(client, staff_headers):
    first = enroll(client, sender="wx-openid-1", channel="wechat")
    again = enroll(
        client, sender="wx-openid-1", channel="wechat", subjects=list(reversed(FULL)), mobile="138-1234-5678"
    )
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    other_package = enroll(client, sender="wx-openid-1", package="AI私塾班")
    other_sender = enroll(client, sender="wx-openid-2")
    assert other_package.status_code == other_sender.status_code == 201
    assert staff_list(client, staff_headers)["total"] == 3


def test_after_cancellation_the_same_person_can_enroll_again(client, staff_headers):
    number = enroll(client, sender="web-9").json()["number"]
    client.patch(f"/api/enrollments/{number}", json={"status": "cancelled"}, headers=staff_headers)
    again = enroll(client, sender="web-9")
    assert again.status_code == 201 and again.json()["number"] != number
    assert again.json()["status"] == "new" and again.json()["created"] is True
    statuses = {e["number"]: e["status"] for e in staff_list(client, staff_headers)["items"]}
    assert statuses == {number: "cancelled", again.json()["number"]: "new"}


def test_concurrent_retries_with_one_key_create_one_enrollment(client, staff_headers):
    numbers, errors = [], []

    def submit():
        try:
            response = enroll(client, key="race-key", sender="web-race")
            numbers.append((response.status_code, response.json()["number"]))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({number for _, number in numbers}) == 1
    assert sorted(code for code, _ in numbers).count(201) == 1
    assert staff_list(client, staff_headers)["total"] == 1


def test_a_retry_of_an_enrollment_stored_before_keys_covered_the_sender_still_succeeds(app_settings):
    """Never a lost enrollment: rows keep the fingerprint of mobile, package and subjects they were
    written with, and the same sender's retry with the same key is answered with them."""
    from bot.courses import sales
    from bot.db import open_database
    from bot.models import Enrollment

    with TestClient(create_app(app_settings)) as client:
        first = enroll(client, key="old-key", sender="web-old", subjects=["施工管理"]).json()
        db = open_database(app_settings.database_url)
        try:
            with db.transaction() as session:
                row = session.query(Enrollment).filter_by(number=first["number"]).one()
                row.fingerprint = sales._digest(row.mobile, row.package_id, sorted(row.subject_ids))  # as before
        finally:
            db.close()
        retry = enroll(client, key="old-key", sender="web-old", subjects=["施工管理"])
        other = enroll(client, key="old-key", sender="web-someone-else", subjects=["施工管理"])
    assert retry.status_code == 200 and retry.json()["number"] == first["number"]
    assert other.status_code == 409 and "张三" not in other.text


def test_a_malformed_idempotency_key_is_a_422(client):
    response = enroll(client, key="k" * 200)
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["detail"]


# -- the owner looks it up -------------------------------------------------------------------------------


def lookup(client, number, phone="13812345678"):
    return client.post("/api/enrollments/lookup", json={"number": number, "phone": phone})


def test_owner_finds_the_enrollment_by_number_and_phone(client):
    number = enroll(client).json()["number"]
    response = lookup(client, f" {number.lower()} ", "+86 138 1234 5678")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == number and body["price"] == 6280 and body["mobile"] == "138****5678"
    assert "sender" not in body


def test_a_wrong_phone_looks_exactly_like_an_unknown_number(client):
    number = enroll(client).json()["number"]
    wrong_phone = lookup(client, number, "13900000000")
    unknown = lookup(client, "EN20200101-ZZZZZZZZ")
    assert wrong_phone.status_code == unknown.status_code == 404
    assert wrong_phone.json() == unknown.json()
    assert "张三" not in wrong_phone.text


def test_lookup_without_a_valid_phone_asks_for_it(client):
    number = enroll(client).json()["number"]
    missing = client.post("/api/enrollments/lookup", json={"number": number})
    garbage = lookup(client, number, "abc")
    for response in (missing, garbage):
        assert response.status_code == 422 and "手机号" in response.json()["detail"]
    assert "张三" not in garbage.text


def test_the_old_lookup_by_url_points_owners_to_the_new_one(client, staff_headers):
    number = enroll(client).json()["number"]
    response = client.get(f"/api/enrollments/{number}", params={"phone": "13812345678"})
    assert response.status_code == 410 and "POST /api/enrollments/lookup" in response.json()["detail"]
    assert "张三" not in response.text
    staff = client.get(f"/api/enrollments/{number}", headers=staff_headers)
    assert staff.status_code == 200 and staff.json()["mobile"] == "13812345678"


def test_numbers_of_four_characters_written_before_are_still_found(app_settings):
    from bot.db import open_database
    from bot.models import Enrollment

    with TestClient(create_app(app_settings)) as client:
        number = enroll(client).json()["number"]
        db = open_database(app_settings.database_url)
        try:
            with db.transaction() as session:
                session.query(Enrollment).filter_by(number=number).update({"number": "EN20261124-7KQ3"})
        finally:
            db.close()
        assert lookup(client, "en20261124-7kq3").json()["name"] == "张三"


# -- staff ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_staff_endpoints_refuse_without_the_token(client, headers):
    number = enroll(client).json()["number"]
    for response in (
        client.get("/api/enrollments", headers=headers),
        client.patch(f"/api/enrollments/{number}", json={"status": "paid"}, headers=headers),
    ):
        assert response.status_code == 401
        assert "工作人员" in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


def test_staff_see_the_full_record(client, staff_headers):
    number = enroll(client, sender="web-77", channel="web").json()["number"]
    body = client.get(f"/api/enrollments/{number}", headers=staff_headers).json()
    assert body["mobile"] == "13812345678" and body["sender"] == "web-77" and body["channel"] == "web"
    assert body["quote"]["lines"][0]["price"] == 6280


def test_staff_filter_by_status_package_phone_and_sender(client, staff_headers):
    a = enroll(client, sender="s-a").json()["number"]
    enroll(client, sender="s-b", package="AI私塾班", mobile="13900001111")
    client.patch(f"/api/enrollments/{a}", json={"status": "contacted"}, headers=staff_headers)
    assert [e["number"] for e in staff_list(client, staff_headers, status="contacted")["items"]] == [a]
    assert staff_list(client, staff_headers, package="AI私塾班")["items"][0]["sender"] == "s-b"
    assert staff_list(client, staff_headers, package="ai_sishu")["total"] == 1
    assert staff_list(client, staff_headers, phone="139 0000 1111")["items"][0]["sender"] == "s-b"
    assert staff_list(client, staff_headers, sender="s-a")["items"][0]["number"] == a
    assert staff_list(client, staff_headers, limit=1)["total"] == 2
    assert len(staff_list(client, staff_headers, limit=1)["items"]) == 1


def test_staff_filter_by_day_in_china_time(client, staff_headers):
    enroll(client)
    today = datetime.now(timezone(timedelta(hours=8))).date()
    assert staff_list(client, staff_headers, date_from=today.isoformat(), date_to=today.isoformat())["total"] == 1
    assert staff_list(client, staff_headers, date_to=(today - timedelta(days=1)).isoformat())["total"] == 0
    assert staff_list(client, staff_headers, date_from=(today + timedelta(days=1)).isoformat())["total"] == 0


def test_staff_list_with_bad_filters_is_a_422_in_chinese(client, staff_headers):
    for params, word in (
        ({"status": "done"}, "状态"),
        ({"date_from": "24/11/2026"}, "日期"),
        ({"package": "VIP班"}, "套餐"),
        ({"phone": "12345"}, "手机号"),
    ):
        response = client.get("/api/enrollments", params=params, headers=staff_headers)
        assert response.status_code == 422, params
        assert word in response.json()["detail"]


def test_status_moves_forward_and_cancellation_is_final(client, staff_headers):
    number = enroll(client).json()["number"]

    def patch(status):
        return client.patch(f"/api/enrollments/{number}", json={"status": status}, headers=staff_headers)

    assert patch("contacted").json()["status"] == "contacted"
    assert patch("paid").json()["status_label"] == "已付款"
    back = patch("new")
    assert back.status_code == 409 and "已付款" in back.json()["detail"] and "已取消" in back.json()["detail"]
    assert patch("cancelled").status_code == 200
    assert patch("paid").status_code == 409
    assert client.get(f"/api/enrollments/{number}", headers=staff_headers).json()["status"] == "cancelled"


def test_patch_with_an_unknown_status_or_number(client, staff_headers):
    number = enroll(client).json()["number"]
    bad = client.patch(f"/api/enrollments/{number}", json={"status": "refunded"}, headers=staff_headers)
    assert bad.status_code == 422 and "new / contacted / paid / cancelled" in bad.json()["detail"]
    missing = client.patch("/api/enrollments/EN20200101-ZZZZ", json={"status": "paid"}, headers=staff_headers)
    assert missing.status_code == 404


# -- the conversation behind an enrollment --------------------------------------------------------------


def test_staff_read_the_conversation_that_produced_the_enrollment(app_settings, staff_headers):
    asked: list[str] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(
            200,
            json={
                "events": [
                    {"event": "user", "text": "我要报名无忧取证班", "timestamp": 1.0},
                    {"event": "action", "name": "enrollment_form"},
                    {"event": "bot", "text": "请问您报哪几科？", "timestamp": 2.0},
                ]
            },
        )

    with TestClient(create_app(app_settings, rasa_transport=httpx.MockTransport(rasa))) as client:
        number = enroll(client, sender="web-conv").json()["number"]
        body = client.get(f"/api/enrollments/{number}/conversation", headers=staff_headers).json()
        assert client.get(f"/api/enrollments/{number}/conversation").status_code == 401
    assert asked == ["/conversations/web-conv/tracker"]
    assert [(m["role"], m["text"]) for m in body["messages"]] == [
        ("user", "我要报名无忧取证班"),
        ("bot", "请问您报哪几科？"),
    ]


def test_conversation_when_rasa_is_down_is_a_503_in_chinese(app_settings, staff_headers):
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with TestClient(create_app(app_settings, rasa_transport=httpx.MockTransport(down))) as client:
        number = enroll(client, sender="web-x").json()["number"]
        response = client.get(f"/api/enrollments/{number}/conversation", headers=staff_headers)
        no_sender = enroll(client, mobile="13700000000").json()["number"]
        without = client.get(f"/api/enrollments/{no_sender}/conversation", headers=staff_headers)
    assert response.status_code == 503 and "会话记录" in response.json()["detail"]
    assert without.status_code == 404 and "没有关联的会话" in without.json()["detail"]


def test_nul_in_a_number_or_sender_is_a_422_in_chinese(client, staff_headers):
    """PostgreSQL refuses NUL in text: a client's mistake, not a 500."""
    responses = [
        client.get("/api/enrollments/EN%00", params={"phone": "13812345678"}),
        client.patch("/api/enrollments/EN%00", json={"status": "paid"}, headers=staff_headers),
        client.get("/api/enrollments", params={"sender": "a\x00"}, headers=staff_headers),
    ]
    for response in responses:
        assert response.status_code == 422, response.text
        assert re.search("[\u4e00-\u9fff]", response.json()["detail"])
