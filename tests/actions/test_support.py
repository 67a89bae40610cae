"""The hand-off action: recorded for staff, and only then is the user told a person will take over.

bot/ is played at the HTTP boundary by tests/actions/fake_bot.py (the action's client is the real one).
"""

import pytest
from fake_bot import FakeBot

from actions.api.support import SupportApi, channel_of
from actions.support import ActionRequestHandoff

HANDOFFS = "/api/handoffs"


@pytest.fixture
def bot():
    fake = FakeBot()
    yield fake
    fake.close()


def test_handoff_is_recorded_with_channel_and_the_user_is_told(bot, dispatcher, tracker_factory, domain):
    bot.reply(HANDOFFS, {"id": 1, "status": "open"}, status=201)
    tracker = tracker_factory("转人工", intent="human_handoff", sender="wx:o1")
    events = bot.run(ActionRequestHandoff(bot.client(SupportApi)), dispatcher, tracker, domain)
    assert bot.sent(HANDOFFS) == [{"sender": "wx:o1", "channel": "wechat", "reason": "转人工"}]
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_handoff"
    assert dispatcher.messages[1]["custom"] == {"type": "handoff"}


@pytest.mark.parametrize("failure", ["down", "503", "429"])
def test_a_handoff_that_was_not_recorded_is_not_announced(bot, dispatcher, tracker_factory, domain, failure):
    if failure == "503":
        bot.reply(HANDOFFS, {"detail": "database unavailable"}, status=503)
    elif failure == "429":
        bot.reply(HANDOFFS, {"detail": "您发送得太快了，请稍等片刻再试。"}, status=429)
    action = ActionRequestHandoff(bot.client(SupportApi, down=failure == "down"))
    bot.run(action, dispatcher, tracker_factory("人工客服", intent="human_handoff"), domain)
    assert [m.get("response") for m in dispatcher.messages] == [None]  # no utter_handoff
    assert not any(m.get("custom") for m in dispatcher.messages)  # and no transfer payload
    assert "没有成功" in dispatcher.messages[0]["text"] and "转人工" in dispatcher.messages[0]["text"]


def test_every_call_to_bot_carries_the_action_server_token(bot, dispatcher, tracker_factory, domain, monkeypatch):
    bot.reply(HANDOFFS, {"id": 1, "status": "open"}, status=201)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "actions-token-for-the-unit-test")
    bot.run(ActionRequestHandoff(bot.client(SupportApi)), dispatcher, tracker_factory("转人工", sender="web-1"), domain)
    assert bot.requests[0]["headers"]["X-Action-Server-Token"] == "actions-token-for-the-unit-test"


def test_channel_is_derived_from_the_sender():
    assert channel_of("wx:o1") == "wechat" and channel_of("web-abc") == "web"
