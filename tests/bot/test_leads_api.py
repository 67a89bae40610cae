"""POST /api/leads (a call-back request) and the staff endpoints that list and update leads."""

from __future__ import annotations

import pytest


def lead(client, key=None, **fields):
    body = {
        "name": "王芳",
        "phone": "13912345678",
        "preferred_time": "工作日晚上7点后",
        "question": "AI私塾班能分期吗",
        **fields,
    }
    return client.post("/api/leads", json=body, headers={"Idempotency-Key": key} if key else {})


def leads(client, staff_headers, **params) -> dict:
    response = client.get("/api/leads", params=params, headers=staff_headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_callback_request_is_stored_for_the_consultants(client, staff_headers):
    response = lead(client, sender="wx-1", channel="wechat", package="AI私塾", subjects=["建筑", "法规"])
    assert response.status_code == 201
    assert response.json()["mobile"] == "139****5678"  # not echoed in full
    stored = leads(client, staff_headers)["items"]
    assert len(stored) == 1
    item = stored[0]
    assert item["mobile"] == "13912345678" and item["name"] == "王芳"
    assert item["preferred_time"] == "工作日晚上7点后" and item["question"] == "AI私塾班能分期吗"
    assert item["package"]["name"] == "AI私塾班"
    assert [s["name"] for s in item["subjects"]] == ["法规相关知识", "建筑实务"]
    assert item["sender"] == "wx-1" and item["channel"] == "wechat" and item["status"] == "new"


def test_only_name_and_phone_are_required(client, staff_headers):
    response = client.post("/api/leads", json={"name": "Li Lei", "mobile": "+86 137 0000 1234"})
    assert response.status_code == 201
    receipt = response.json()
    assert receipt["name"] == "Li Lei" and receipt["mobile"] == "137****1234" and receipt["created"] is True
    assert receipt["status_label"] == "待联系" and receipt["package"] is None and receipt["subjects"] == []
    (item,) = leads(client, staff_headers)["items"]
    assert item["mobile"] == "13700001234" and item["preferred_time"] is None and item["question"] is None


@pytest.mark.parametrize(
    "fields, word",
    [
        ({"phone": "1234"}, "手机号"),
        ({"phone": "0086 128 1234 5678"}, "第二位是3-9"),
        ({"name": "X"}, "姓名"),
        ({"preferred_time": "随" * 51}, "50个字"),
        ({"question": "问" * 501}, "500个字"),
        ({"package": "VIP班"}, "VIP班"),
        ({"channel": "Web Chat!"}, "channel"),
        ({"question": "请回电\x00"}, "空字符"),  # PostgreSQL refuses NUL in text
        ({"preferred_time": "晚上\x00"}, "空字符"),
    ],
)
def test_bad_input_is_a_422_the_user_can_act_on(client, staff_headers, fields, word):
    response = lead(client, **fields)
    assert response.status_code == 422
    assert word in response.json()["detail"]
    assert leads(client, staff_headers)["total"] == 0


def test_a_question_may_span_lines(client, staff_headers):
    response = lead(client, question="第一行\n第二行")
    assert response.status_code == 201 and response.json()["question"] == "第一行\n第二行"
    assert leads(client, staff_headers)["items"][0]["question"] == "第一行\n第二行"


def test_a_phone_typed_with_0086_or_full_width_digits_is_stored_as_11_digits(client, staff_headers):
    for i, typed in enumerate(["0086 139 1234 5678", "１３９１２３４５６７８"]):
        response = lead(client, phone=typed, sender=f"web-{i}")
        assert response.status_code == 201 and response.json()["mobile"] == "139****5678"
    assert [x["mobile"] for x in leads(client, staff_headers)["items"]] == ["13912345678"] * 2


def test_a_retry_with_the_same_key_is_not_a_second_lead(client, staff_headers):
    first = lead(client, key="lead-key-1")
    second = lead(client, key="lead-key-1")
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"] and second.json()["created"] is False
    assert second.json()["question"] == "AI私塾班能分期吗"
    assert leads(client, staff_headers)["total"] == 1


def test_asking_again_from_the_same_chat_updates_the_open_request(client, staff_headers):
    lead(client, sender="web-5", preferred_time="明天上午")
    again = lead(client, sender="web-5", preferred_time="明天下午3点")
    assert again.status_code == 200 and again.json()["created"] is False
    items = leads(client, staff_headers)["items"]
    assert len(items) == 1 and items[0]["preferred_time"] == "明天下午3点"


def test_asking_again_replaces_the_open_request_and_answers_only_with_the_new_one(client, staff_headers):
    lead(client, sender="web-7", question="能分期吗", package="AI私塾", subjects=["建筑"])
    again = client.post("/api/leads", json={"name": "王芳", "phone": "13912345678", "sender": "web-7"})
    assert again.status_code == 200
    answer = again.json()
    assert answer["question"] is None and answer["package"] is None and answer["subjects"] == []
    assert "能分期吗" not in again.text and "created_at" not in answer and "sender" not in answer
    items = leads(client, staff_headers)["items"]
    assert len(items) == 1 and items[0]["question"] is None and items[0]["preferred_time"] is None


def test_a_new_request_after_the_first_was_handled_is_a_new_lead(client, staff_headers):
    first = lead(client, sender="web-6").json()["id"]
    client.patch(f"/api/leads/{first}", json={"status": "contacted"}, headers=staff_headers)
    second = lead(client, sender="web-6")
    assert second.status_code == 201 and second.json()["id"] != first
    statuses = {x["id"]: x["status"] for x in leads(client, staff_headers)["items"]}
    assert statuses == {first: "contacted", second.json()["id"]: "new"}


def test_staff_list_filters_and_updates_status(client, staff_headers):
    a = lead(client, sender="a").json()["id"]
    lead(client, sender="b", phone="13700000000")
    changed = client.patch(f"/api/leads/{a}", json={"status": "contacted"}, headers=staff_headers)
    assert changed.status_code == 200 and changed.json()["status_label"] == "已联系"
    assert [x["id"] for x in leads(client, staff_headers, status="contacted")["items"]] == [a]
    assert leads(client, staff_headers, status="new")["total"] == 1
    bad = client.patch(f"/api/leads/{a}", json={"status": "paid"}, headers=staff_headers)
    assert bad.status_code == 422 and "new / contacted / closed" in bad.json()["detail"]
    assert client.patch("/api/leads/9999", json={"status": "closed"}, headers=staff_headers).status_code == 404


def test_leads_are_for_staff_only(client):
    lead_id = lead(client).json()["id"]
    assert client.get("/api/leads").status_code == 401
    assert client.patch(f"/api/leads/{lead_id}", json={"status": "closed"}).status_code == 401
    assert client.get("/api/leads", headers={"Authorization": "Bearer nope"}).status_code == 401
