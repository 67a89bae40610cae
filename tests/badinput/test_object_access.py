"""Object-level access to leads and enrollments (issue #13, finding 4): one person's record never
reaches another, whatever they reuse or guess.

Classes of bad input, by name (each test is named after its class):
- idempotency_key_reuse: someone else's Idempotency-Key (or one's own key for other content);
- lead_overwrite: a second call-back request for a sender + phone that has an open one;
- enrollment_number_sweep: guessing enrollment numbers with a known phone (or phones for a known
  number), from as many client addresses as it takes;
- phone_in_query_string: the owner's lookup with the phone in the URL, where proxies and access
  logs keep it.
(wechat_sender_outside_wechat is in test_wechat_senders.py, wechat_replay in test_wechat_replay.py.)
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from bot.lookup_throttle import LookupThrottle, MemoryCounters

from .helpers import CJK, STAFF, make_app, make_settings

ENROLL = {"name": "张三", "mobile": "13812345678", "package": "wuyou", "subjects": ["施工管理"], "sender": "web-zhang"}
LEAD = {
    "name": "王芳",
    "mobile": "13912345678",
    "preferred_time": "工作日晚上",
    "question": "AI私塾班能分期吗",
    "sender": "web-wang",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app(tmp_path):
    """The app on a fresh SQLite file; the lookup throttle's clock is the test's (5 failures / 600 s)."""
    app = make_app(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", tmp_path / "no-index"))
    app.state.clock = Clock()
    app.state.lookup_throttle = LookupThrottle(5, 600, counters=MemoryCounters(clock=app.state.clock))
    with TestClient(app):
        yield app


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


def from_ip(app, ip: str) -> TestClient:
    return TestClient(app, client=(ip, 50000))


def assert_refused_in_chinese(response, *statuses: int) -> None:
    assert response.status_code in statuses, response.text
    assert CJK.search(response.json()["detail"])


def lookup(client: TestClient, number: str, phone: str):
    return client.post("/api/enrollments/lookup", json={"number": number, "phone": phone})


# -- idempotency_key_reuse ------------------------------------------------------------------------------


def test_idempotency_key_reuse_by_another_sender_never_returns_their_lead(client):
    first = client.post("/api/leads", json=LEAD, headers={"Idempotency-Key": "lead-key-1"})
    assert first.status_code == 201
    other = client.post(
        "/api/leads",
        json={"name": "赵六", "mobile": "13700000000", "sender": "web-zhao"},
        headers={"Idempotency-Key": "lead-key-1"},
    )
    assert_refused_in_chinese(other, 409, 422)
    assert "王芳" not in other.text and "分期" not in other.text and "晚上" not in other.text
    stored = client.get("/api/leads", headers=STAFF).json()["items"]
    assert [(i["name"], i["sender"]) for i in stored] == [("王芳", "web-wang")]


def test_idempotency_key_reuse_for_another_lead_of_the_same_sender_is_refused(client):
    client.post("/api/leads", json=LEAD, headers={"Idempotency-Key": "lead-key-2"})
    changed = client.post(
        "/api/leads", json={**LEAD, "question": "能退款吗"}, headers={"Idempotency-Key": "lead-key-2"}
    )
    assert_refused_in_chinese(changed, 409, 422)
    assert client.get("/api/leads", headers=STAFF).json()["items"][0]["question"] == "AI私塾班能分期吗"


def test_idempotency_key_reuse_by_the_same_request_replays_the_stored_lead(client):
    first = client.post("/api/leads", json=LEAD, headers={"Idempotency-Key": "lead-key-3"})
    retry = client.post("/api/leads", json=LEAD, headers={"Idempotency-Key": "lead-key-3"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"] and retry.json()["created"] is False
    assert client.get("/api/leads", headers=STAFF).json()["total"] == 1


def test_idempotency_key_reuse_by_another_sender_never_returns_their_enrollment(client):
    first = client.post("/api/enrollments", json=ENROLL, headers={"Idempotency-Key": "enroll-key-1"})
    assert first.status_code == 201
    # Same phone, package and subjects (all a guesser may know), another sender and name.
    other = client.post(
        "/api/enrollments",
        json={**ENROLL, "name": "李四", "sender": "web-li"},
        headers={"Idempotency-Key": "enroll-key-1"},
    )
    assert_refused_in_chinese(other, 409, 422)
    assert first.json()["number"] not in other.text and "张三" not in other.text
    assert client.get("/api/enrollments", headers=STAFF).json()["total"] == 1


def test_idempotency_key_reuse_by_the_same_request_replays_the_stored_enrollment(client):
    """Never a lost enrollment: a retry with the same key still gets its number."""
    first = client.post("/api/enrollments", json=ENROLL, headers={"Idempotency-Key": "enroll-key-2"})
    retry = client.post("/api/enrollments", json=ENROLL, headers={"Idempotency-Key": "enroll-key-2"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["number"] == first.json()["number"]


# -- lead_overwrite ---------------------------------------------------------------------------------------


def test_lead_overwrite_answers_with_nothing_of_the_open_request(client):
    client.post("/api/leads", json=LEAD)
    asked_at = client.get("/api/leads", headers=STAFF).json()["items"][0]["created_at"]
    again = client.post("/api/leads", json={"name": "王小芳", "mobile": LEAD["mobile"], "sender": LEAD["sender"]})
    assert again.status_code in (200, 201), again.text
    body = again.text
    assert "分期" not in body and "工作日晚上" not in body and asked_at not in body
    stored = client.get("/api/leads", headers=STAFF).json()["items"]
    newest = stored[0]
    assert newest["name"] == "王小芳" and newest["question"] is None and newest["preferred_time"] is None


def test_lead_overwrite_from_another_sender_leaves_the_open_request_alone(client):
    client.post("/api/leads", json=LEAD)
    other = client.post(
        "/api/leads", json={"name": "赵六", "mobile": LEAD["mobile"], "sender": "web-zhao", "question": "别的问题"}
    )
    assert other.status_code == 201 and "分期" not in other.text
    stored = {i["sender"]: i for i in client.get("/api/leads", headers=STAFF).json()["items"]}
    assert stored["web-wang"]["question"] == "AI私塾班能分期吗" and stored["web-wang"]["name"] == "王芳"


# -- enrollment_number_sweep --------------------------------------------------------------------------------


def test_enrollment_number_sweep_numbers_have_eight_random_characters(client):
    numbers = {
        client.post("/api/enrollments", json={**ENROLL, "sender": f"web-{i}"}).json()["number"] for i in range(20)
    }
    assert len(numbers) == 20
    assert all(re.fullmatch(r"EN\d{8}-[2-9A-HJ-NP-Z]{8}", n) for n in numbers), numbers


def test_enrollment_number_sweep_with_a_known_phone_is_stopped_from_any_address(app, client):
    number = client.post("/api/enrollments", json=ENROLL).json()["number"]
    guesses = [lookup(from_ip(app, f"10.0.{i}.1"), f"EN20261124-{i:04d}ABCD", ENROLL["mobile"]) for i in range(7)]
    assert [r.status_code for r in guesses] == [404] * 5 + [429] * 2
    assert_refused_in_chinese(guesses[-1], 429)
    assert int(guesses[-1].headers["retry-after"]) > 0
    # Even the right number answers 429 now: a sweep cannot learn that it found it.
    right = lookup(from_ip(app, "10.9.9.9"), number, ENROLL["mobile"])
    assert right.status_code == 429 and "张三" not in right.text
    app.state.clock.now += 601  # the window ends
    assert lookup(client, number, ENROLL["mobile"]).json()["name"] == "张三"


def test_enrollment_number_sweep_of_phones_for_a_known_number_is_stopped(app, client):
    number = client.post("/api/enrollments", json=ENROLL).json()["number"]
    codes = [lookup(from_ip(app, f"10.1.{i}.1"), number, f"1370000{i:04d}").status_code for i in range(6)]
    assert codes == [404] * 5 + [429]
    assert lookup(client, number, ENROLL["mobile"]).status_code == 429


def test_enrollment_number_sweep_throttle_spares_the_owner(app, client):
    number = client.post("/api/enrollments", json=ENROLL).json()["number"]
    assert [lookup(client, number, ENROLL["mobile"]).status_code for _ in range(12)] == [200] * 12


# -- phone_in_query_string ----------------------------------------------------------------------------------


def test_phone_in_query_string_is_refused_and_reveals_nothing(client):
    number = client.post("/api/enrollments", json=ENROLL).json()["number"]
    response = client.get(f"/api/enrollments/{number}", params={"phone": ENROLL["mobile"]})
    assert_refused_in_chinese(response, 405, 410)
    assert "POST /api/enrollments/lookup" in response.json()["detail"]
    assert "张三" not in response.text and "6280" not in response.text


def test_phone_in_query_string_the_owner_looks_up_with_the_phone_in_the_body(client):
    number = client.post("/api/enrollments", json=ENROLL).json()["number"]
    response = client.post("/api/enrollments/lookup", json={"number": number, "phone": "138 1234 5678"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "张三" and response.json()["mobile"] == "138****5678"
