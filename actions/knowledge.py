"""action_answer_question: answer or decline, from the knowledge base."""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.base import BackendRejected, BackendUnavailable
from actions.api.knowledge import KnowledgeApi

log = logging.getLogger(__name__)

ALSO_INTRO = "您可能还想问："
DECLINE = ("抱歉，这个问题我在现有资料里没有找到答案，不想给您不准确的信息。"
           "您可以换个说法再问，或者转人工客服帮您处理。")
# Declined, with the nearest questions of the material: it still says plainly that there is no answer.
DECLINE_WITH_RELATED = ("抱歉，这个问题我在现有资料里没有找到确切的答案，不想给您不准确的信息。"
                        "资料里相关的问题有下面这些，如果有您要找的可以点开看看；也可以转人工客服。")
# NLU read the message as being about something else, and the knowledge base is not sure either.
OUT_OF_SCOPE = ("抱歉，这个我帮不上忙。我是建造师助手，只能解答福建省二级建造师注册办理的问题，"
                "介绍二建课程并帮您报名。有这方面的问题可以直接问我，其他事情可以回复“转人工”。")
UNAVAILABLE = "抱歉，知识库暂时无法访问，请稍后再试，或回复“转人工”联系客服。"
HANDOFF_BUTTON = {"title": "转人工", "payload": "/human_handoff"}


class ActionAnswerQuestion(Action):
    def __init__(self, api: KnowledgeApi | None = None):
        self.api = api or KnowledgeApi()

    def name(self) -> str:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        text = (tracker.latest_message.get("text") or "").strip()
        faq_id = next(tracker.get_latest_entity_values("faq_id"), None)
        try:
            if faq_id:  # a suggestion button was clicked
                result = self.api.answer_by_id(faq_id)
            else:
                result = self.api.answer(text, context_question=tracker.get_slot("last_question"),
                                         sender=tracker.sender_id)
        except BackendRejected as exc:
            dispatcher.utter_message(text=exc.detail)
            return [SlotSet("faq_id", None)]
        except BackendUnavailable as exc:
            log.warning("knowledge API unavailable: %s", exc)
            dispatcher.utter_message(text=UNAVAILABLE, buttons=[HANDOFF_BUTTON])
            return [SlotSet("faq_id", None)]

        if len(result.get("parts") or ()) > 1:
            return self._several(dispatcher, result["parts"])
        buttons = _suggestion_buttons(result.get("suggestions"))
        about_else = (tracker.latest_message.get("intent") or {}).get("name") == "out_of_scope"
        if about_else and not faq_id and not (result.get("decision") == "answer" and not buttons):
            # Only an answer the knowledge base is sure of (one that comes alone) overrides NLU here.
            dispatcher.utter_message(text=OUT_OF_SCOPE, buttons=[HANDOFF_BUTTON],
                                     json_message={"type": "declined", "question": text, "gap": None})
            return [SlotSet("faq_id", None)]
        if result.get("decision") == "answer":
            dispatcher.utter_message(text=_with_source(result), json_message=_custom(result))
            if buttons:  # only moderately sure: the next questions are one click away
                dispatcher.utter_message(text=ALSO_INTRO, buttons=buttons)
            question = result.get("question") or text
            return [SlotSet("faq_id", None), SlotSet("last_question", question)]
        if result.get("gap"):  # the material lacks what was asked: say what, and offer a person
            decline = result.get("answer") or DECLINE
        else:  # the nearest questions of the material may come with the refusal
            decline = DECLINE_WITH_RELATED if buttons else DECLINE
        dispatcher.utter_message(text=decline, buttons=buttons + [HANDOFF_BUTTON],
                                 json_message={"type": "declined", "question": text, "gap": result.get("gap")})
        return [SlotSet("faq_id", None)]


    @staticmethod
    def _several(dispatcher: CollectingDispatcher, parts: list[dict[str, Any]]):
        """One message per question, in the order asked, each with its source or its refusal
        (a refusal offers a person)."""
        last = None
        for n, part in enumerate(parts, 1):
            head = f"{n}. 关于“{part.get('asked') or ''}”：\n"
            if part.get("decision") == "answer":
                dispatcher.utter_message(text=head + _with_source(part), json_message=_custom(part))
                last = part.get("question") or last
            else:
                reason = part.get("answer") if part.get("gap") else DECLINE
                dispatcher.utter_message(text=head + reason, buttons=[HANDOFF_BUTTON])
        return [SlotSet("faq_id", None)] + ([SlotSet("last_question", last)] if last else [])


def _suggestion_buttons(suggestions: Any) -> list[dict[str, str]]:
    """Up to three FAQ questions as buttons that answer by id."""
    if not isinstance(suggestions, list):
        return []
    return [
        {"title": s["question"], "payload": f'/ask_knowledge{{"faq_id":"{s["faq_id"]}"}}'}
        for s in suggestions[:3]
        if isinstance(s, dict) and s.get("question") and s.get("faq_id")
    ]


def _with_source(result: dict[str, Any]) -> str:
    answer = (result.get("answer") or "").strip()
    title = (result.get("source") or {}).get("title")
    return f"{answer}\n来源：{title}" if title else answer


def _custom(result: dict[str, Any]) -> dict[str, Any]:
    """Machine-readable facts of the answer, for the widget's feedback buttons and the staff console."""
    return {"type": "answer", "faq_id": result.get("faq_id"), "source": result.get("source")}
