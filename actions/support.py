"""action_request_handoff: record the request for staff, then tell the user a person will take over.

Only a recorded request is announced: when bot/ cannot record it (down, or refusing it), the user is
told so and asked to try again, instead of waiting for a person who was never told.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.api.base import BackendRejected, BackendUnavailable
from actions.api.support import SupportApi

log = logging.getLogger(__name__)

HANDOFF_FAILED = "抱歉，转接人工客服暂时没有成功，您的请求还没有送达工作人员。请稍后再回复“转人工”试一次。"


class ActionRequestHandoff(Action):
    def __init__(self, api: SupportApi | None = None):
        self.api = api or SupportApi()

    def name(self) -> str:
        return "action_request_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        try:
            await self.api.request_handoff(tracker.sender_id, tracker.latest_message.get("text"))
        except (BackendUnavailable, BackendRejected) as exc:
            log.warning("hand-off not recorded: %s", exc)
            dispatcher.utter_message(text=HANDOFF_FAILED)
            return []
        dispatcher.utter_message(response="utter_handoff")
        # Channels that can transfer to a human agent (WeChat) act on this payload.
        dispatcher.utter_message(json_message={"type": "handoff"})
        return []
