"""Course consultation end to end: recommend -> price -> enroll through /api/chat, then the staff API.

The real Rasa server, action server and bot/ run on free ports (tests/e2e/conftest.py). The user
answers whatever the assistant asks, so the test follows the conversation rather than a fixed
script; what it checks is what a user and a consultant would notice: the recommendation and its
reason, the price, the enrollment number, the record staff see, and no duplicate on a repeat.
"""

from __future__ import annotations

import re

import dialog
import httpx
import pytest
from dialog import NUMBER

STAFF = {"Authorization": "Bearer e2e-staff-token-for-tests-only"}


def converse(chat, opening: str, done: re.Pattern, max_turns: int = 12) -> str:
    return dialog.converse(chat.say_text, opening, done, max_turns)


@pytest.fixture
def api(stack):
    with httpx.Client(base_url=stack.bot_url, timeout=30) as client:
        yield client


def wuyou(api) -> dict:
    return next(p for p in api.get("/api/packages").json()["packages"] if p["id"] == "wuyou")


def test_recommend_then_price_then_enroll_and_staff_find_it_once(chat, api):
    full_price = wuyou(api)["prices"]["full"]

    # 1. Which class fits: the assistant asks until one package is ahead (零基础 fits both; 考过几次
    #    都没通过 only 无忧取证班), then recommends with the catalogue's own reason.
    asked: list[str] = []

    def say(text: str) -> str:
        reply = chat.say_text(text)
        asked.append(reply)
        return reply

    reply = dialog.converse(say, "帮我推荐一下", re.compile(r"推荐【"))
    assert "推荐【无忧取证班】" in reply
    assert "多次考试未通过" in reply  # a line of 适合学员, quoted
    assert not any("工作忙" in r for r in asked), "nothing is asked once the answer is clear"

    # 2. What it costs, from the knowledge base.
    price_reply = chat.say_text("无忧取证班多少钱")
    assert str(full_price) in price_reply

    # 3. Sign up; the recommended package is offered first.
    reply = converse(chat, "我要报名", NUMBER)
    assert "报名成功" in reply
    number = NUMBER.search(reply).group(0)
    assert f"¥{full_price}" in reply

    # 4. The consultant finds it, with the right price and the conversation's sender.
    listed = api.get("/api/enrollments", params={"sender": chat.sender}, headers=STAFF).json()
    assert listed["total"] == 1
    record = listed["items"][0]
    assert record["number"] == number and record["price"] == full_price
    assert record["package"]["name"] == "无忧取证班"
    assert [s["name"] for s in record["subjects"]] == ["施工管理", "法规相关知识", "建筑实务"]
    assert record["mobile"] == "13812345678" and record["status"] == "new"
    # The owner can look it up with the phone number, nobody else can.
    lookup = "/api/enrollments/lookup"
    assert api.post(lookup, json={"number": number, "phone": "13812345678"}).json()["price"] == full_price
    assert api.post(lookup, json={"number": number, "phone": "13900000000"}).status_code == 404

    # 5. Doing it all again creates nothing new.
    reply = converse(chat, "我要报名", NUMBER)
    assert NUMBER.search(reply).group(0) == number and "已经提交过" in reply
    assert api.get("/api/enrollments", params={"sender": chat.sender}, headers=STAFF).json()["total"] == 1


def test_a_call_back_request_reaches_the_consultants(chat, api):
    reply = converse(chat, "让顾问打电话给我", re.compile(r"已为您登记回电"))
    assert "138****5678" in reply and "13812345678" not in reply
    leads = api.get("/api/leads", headers=STAFF).json()["items"]
    mine = [lead for lead in leads if lead["sender"] == chat.sender]
    assert len(mine) == 1
    assert mine[0]["mobile"] == "13812345678" and mine[0]["preferred_time"] == "工作日晚上"


def test_leaving_the_form_submits_nothing(chat, api):
    chat.say_text("我要报名")
    chat.say_text("AI私塾班")
    reply = chat.say_text("不报了")
    assert "不会提交" in reply
    assert api.get("/api/enrollments", params={"sender": chat.sender}, headers=STAFF).json()["total"] == 0
