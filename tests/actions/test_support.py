"""The hand-off action: recorded for staff, and only then is the user told a person will take over."""

from unittest.mock import MagicMock

import pytest
import requests

from actions.api.base import BackendRejected, BackendUnavailable
from actions.support import ActionRequestHandoff


def test_handoff_is_recorded_with_channel_and_the_user_is_told(dispatcher, tracker_factory, domain):
    api = MagicMock()
    events = ActionRequestHandoff(api).run(
        dispatcher, tracker_factory("转人工", intent="human_handoff", sender="wx:o1"), domain
    )
    api.request_handoff.assert_called_once_with("wx:o1", "转人工")
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_handoff"
    assert dispatcher.messages[1]["custom"] == {"type": "handoff"}


@pytest.mark.parametrize(
    "failure", [BackendUnavailable("down"), BackendRejected(429, "您发送得太快了，请稍等片刻再试。")]
)
def test_a_handoff_that_was_not_recorded_is_not_announced(dispatcher, tracker_factory, domain, failure):
    api = MagicMock()
    api.request_handoff.side_effect = failure
    ActionRequestHandoff(api).run(dispatcher, tracker_factory("人工客服", intent="human_handoff"), domain)
    assert [m.get("response") for m in dispatcher.messages] == [None]  # no utter_handoff
    assert not any(m.get("custom") for m in dispatcher.messages)  # and no transfer payload
    assert "没有成功" in dispatcher.messages[0]["text"] and "转人工" in dispatcher.messages[0]["text"]


def test_every_call_to_bot_carries_the_action_server_token(monkeypatch):
    from actions.api.support import SupportApi

    sent = []

    class Session:
        def request(self, method, url, **kwargs):
            sent.append(kwargs.get("headers") or {})
            response = requests.Response()
            response.status_code, response._content = 201, b'{"id": 1, "status": "open"}'
            return response

    monkeypatch.setenv("ACTION_SERVER_TOKEN", "actions-token-for-the-unit-test")
    SupportApi(base_url="http://bot.test", session=Session()).request_handoff("web-1", "转人工")
    assert sent == [{"X-Action-Server-Token": "actions-token-for-the-unit-test"}]


def test_channel_is_derived_from_the_sender():
    from actions.api.support import channel_of

    assert channel_of("wx:o1") == "wechat" and channel_of("web-abc") == "web"
