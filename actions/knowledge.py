"""action_answer_question: answer or decline, from the knowledge base."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.base import BackendRejected, BackendUnavailable
from actions.api.knowledge import KnowledgeApi
from actions.api.registration import RegistrationApi

log = logging.getLogger(__name__)

ALSO_INTRO = "您可能还想问："
DECLINE = "抱歉，这个问题我在现有资料里没有找到答案，不想给您不准确的信息。您可以换个说法再问，或者转人工客服帮您处理。"
# Declined, with the nearest questions of the material: it still says plainly that there is no answer.
DECLINE_WITH_RELATED = (
    "抱歉，这个问题我在现有资料里没有找到确切的答案，不想给您不准确的信息。"
    "资料里相关的问题有下面这些，如果有您要找的可以点开看看；也可以转人工客服。"
)
# An answer overrides NLU's out_of_scope only when the knowledge base is this sure of it (the surest
# answer it gave an out-of-scope message of the calibration half: 0.55).
OUT_OF_SCOPE_OVERRIDE = 0.9
# NLU read the message as being about something else, and the knowledge base is not sure either.
OUT_OF_SCOPE = (
    "抱歉，这个我帮不上忙。我是建造师助手，只能解答福建省二级建造师注册办理的问题，"
    "介绍二建课程并帮您报名。有这方面的问题可以直接问我，其他事情可以回复“转人工”。"
)
UNAVAILABLE = "抱歉，知识库暂时无法访问，请稍后再试，或回复“转人工”联系客服。"
HANDOFF_BUTTON = {"title": "转人工", "payload": "/human_handoff"}
# Words that make a message a question (the course and registration forms read the others as answers).
QUESTION_MARKERS = re.compile(
    r"[吗嘛呢？?]|怎么|咋|多久|多少|什么|啥|哪|如何|能不能|可不可以|是否|是不是|有没有|要不要|几"
)
FORMS = ("enrollment_form", "recommendation_form", "callback_form", "registration_plan_form")
CONTEXT_SLOTS = ("last_question", "reg_business_type")


class ActionAnswerQuestion(Action):
    def __init__(self, api: KnowledgeApi | None = None, registration: RegistrationApi | None = None):
        self.api = api or KnowledgeApi()
        self.registration = registration or RegistrationApi()  # names the registration business for context

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        text = (tracker.latest_message.get("text") or "").strip()
        faq_id = next(tracker.get_latest_entity_values("faq_id"), None)
        if not faq_id and (tracker.active_loop or {}).get("name") in FORMS and not QUESTION_MARKERS.search(text):
            return []  # "无忧取证班 全科 实务考建筑" inside a form is an answer: the form reads it next
        try:
            if faq_id:  # a suggestion button was clicked
                result = await self.api.answer_by_id(faq_id)
            else:
                context = await self._context(tracker)
                result = await self.api.answer(text, context_question=context, sender=tracker.sender_id)
        except BackendRejected as exc:
            dispatcher.utter_message(text=exc.detail)
            return [SlotSet("faq_id", None)]
        except BackendUnavailable as exc:
            log.warning("knowledge API unavailable: %s", exc)
            dispatcher.utter_message(text=UNAVAILABLE, buttons=[HANDOFF_BUTTON])
            return [SlotSet("faq_id", None)]

        if len(result.get("parts") or ()) > 1 and (
            (tracker.latest_message.get("intent") or {}).get("name") != "out_of_scope"
            or any(
                p.get("confidence", 0) >= OUT_OF_SCOPE_OVERRIDE
                for p in result["parts"]
                if p.get("decision") == "answer"
            )
        ):
            return self._several(dispatcher, result["parts"])
        buttons = _suggestion_buttons(result.get("suggestions"))
        about_else = (tracker.latest_message.get("intent") or {}).get("name") == "out_of_scope"
        very_sure = result.get("decision") == "answer" and (result.get("confidence") or 0.0) >= OUT_OF_SCOPE_OVERRIDE
        if about_else and not faq_id and not result.get("gap") and not very_sure:
            # About something else: the nearest FAQ item would be an answer to another question (a
            # price for "驾校报名多少钱"). A gap's reason still says what the material lacks, and a
            # question the knowledge base is very sure of ("签名照要多大") is answered.
            dispatcher.utter_message(
                text=OUT_OF_SCOPE,
                buttons=[HANDOFF_BUTTON],
                json_message={"type": "declined", "question": text, "gap": None},
            )
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
        dispatcher.utter_message(
            text=decline,
            buttons=buttons + [HANDOFF_BUTTON],
            json_message={"type": "declined", "question": text, "gap": result.get("gap")},
        )
        return [SlotSet("faq_id", None)]

    @staticmethod
    def _several(dispatcher: CollectingDispatcher, parts: list[dict[str, Any]]):
        """One message per question, in the order asked, each with its source or its refusal
        (a refusal offers a person)."""
        answered = []
        for n, part in enumerate(parts, 1):
            head = f"{n}. 关于“{part.get('asked') or ''}”：\n"
            if part.get("decision") == "answer":
                dispatcher.utter_message(text=head + _with_source(part), json_message=_custom(part))
                answered.append(part.get("question") or part.get("asked") or "")
            else:
                reason = part.get("answer") if part.get("gap") else DECLINE
                dispatcher.utter_message(text=head + reason, buttons=[HANDOFF_BUTTON])
        # Every question answered is context for the next turn ("增项也是这么快吗" after 延续 + 证件照).
        context = " ".join(q for q in answered if q)
        return [SlotSet("faq_id", None)] + ([SlotSet("last_question", context)] if context else [])

    async def _context(self, tracker: Tracker) -> str | None:
        """What an elliptical follow-up ("那企业呢", "单科多少钱", "多久能批") refers to: the latest of the
        last question answered (a recommendation sets it to the package) and the registration business."""
        for event in reversed(tracker.events or []):
            if event.get("event") == "slot" and event.get("name") in CONTEXT_SLOTS and event.get("value"):
                name, value = event["name"], str(event["value"])
                return value if name == "last_question" else await self._business_name(value)
        if tracker.get_slot("last_question"):  # a tracker without the events that set it
            return tracker.get_slot("last_question")
        business = tracker.get_slot("reg_business_type")
        return await self._business_name(str(business)) if business else None

    async def _business_name(self, code: str) -> str:
        """换单位, 初始注册, 注销 ...: the business as users say it, from bot/ (the slot holds its code)."""
        try:
            business = (await self.registration.match(code, answer_to="business_type"))["business_type"]
        except (BackendUnavailable, BackendRejected) as exc:
            log.warning("registration match API for the context: %s", exc)
            return code
        return business["said_as"] if business else code


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
