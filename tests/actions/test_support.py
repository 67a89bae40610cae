"""The hand-off action: recorded for staff, and the user is told a person will take over."""
from unittest.mock import MagicMock

from actions.api.base import BackendUnavailable
from actions.support import ActionRequestHandoff


def test_handoff_is_recorded_with_channel_and_the_user_is_told(dispatcher, tracker_factory, domain):
    api = MagicMock()
    events = ActionRequestHandoff(api).run(dispatcher, tracker_factory("转人工", intent="human_handoff", sender="wx:o1"), domain)
    api.request_handoff.assert_called_once_with("wx:o1", "转人工")
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_handoff"
    assert dispatcher.messages[1]["custom"] == {"type": "handoff"}


def test_backend_down_still_hands_off(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.request_handoff.side_effect = BackendUnavailable("down")
    ActionRequestHandoff(api).run(dispatcher, tracker_factory("人工客服", intent="human_handoff"), domain)
    assert dispatcher.messages[0]["response"] == "utter_handoff"


def test_channel_is_derived_from_the_sender():
    from actions.api.support import channel_of

    assert channel_of("wx:o1") == "wechat" and channel_of("web-abc") == "web"
