"""The registration guidance conversation: a form that asks only what the user's case needs, then
the user's own plan, one short step at a time.

What to ask next and every answer come from bot/'s plan API, and which business, employer, role
or information kind the user's words name from its match API (the rules and the words live there,
in bot/registration/rules.yml); these actions read dates and ages, call the APIs and word the
result as chat messages. They are async: a slow bot/ holds up only its own conversation.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api.base import BackendRejected, BackendUnavailable
from actions.api.registration import RegistrationApi
from actions.knowledge import QUESTION_MARKERS, ActionAnswerQuestion

log = logging.getLogger(__name__)

FORM = "registration_plan_form"
REQUESTED_SLOT = "requested_slot"
OWN_INTENTS = {"reg_plan_request", "reg_ask_ce", "reg_ask_eligibility", "reg_inform"}
# Messages that are never read as an answer to the form's question.
NOT_AN_ANSWER = {"human_handoff", "stop", "goodbye", "greet", "thanks", "ask_capabilities", "out_of_scope"}
# "下一步", "然后呢", "好了 接下来呢": asking for the next step of a plan and nothing else.
BARE_NEXT = re.compile(
    r"^(好的?|嗯+|ok|行|这步弄完了|弄完了|好了)?[，,。 ]*(下一步|下一布|然后|接下来|接着|继续|往下|再往后|下一个步骤|next)"
    r"(呢|是什么|说|往下|要干嘛|吧)?[。？?!！ ]*$",
    re.I,
)

# API field -> form slot. The API's `questions` name fields; the form asks for slots.
SLOT_FOR_FIELD = {
    "business_type": "reg_business_type",
    "age": "reg_age",
    "employer_type": "reg_employer_type",
    "certificate_issue_date": "reg_issue_date",
    "specialty_role": "reg_specialty_role",
    "info_change_kind": "reg_info_kind",
    "first_class_authenticated": "reg_first_class_auth",
}
GOAL_PART = {"ce": "continuing_education", "eligibility": "eligibility"}

FIELD_FOR_SLOT = {slot: field for field, slot in SLOT_FOR_FIELD.items()}
# Slots whose value is a choice that bot/'s match API reads from the user's words.
CHOICE_SLOTS = ("reg_business_type", "reg_employer_type", "reg_specialty_role", "reg_info_kind")
SLOT_LABELS = {
    "reg_business_type": "业务类型",
    "reg_age": "年龄",
    "reg_employer_type": "受聘单位",
    "reg_issue_date": "证书签发日期",
    "reg_specialty_role": "主项/增项",
    "reg_info_kind": "要修改的信息",
}

UNAVAILABLE = "抱歉，注册方案服务暂时无法访问，请稍后再试，或回复“转人工”联系客服。"
HANDOFF_BUTTON = {"title": "转人工", "payload": "/human_handoff"}
NEXT_BUTTON = {"title": "下一步", "payload": "/reg_next_step"}
DETAIL_BUTTON = {"title": "这一步怎么做", "payload": "/reg_step_detail"}
PLAN_BUTTON = {"title": "帮我梳理完整办理步骤", "payload": "/reg_plan_request"}


def beijing_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


# ---- reading what the user typed ---------------------------------------------------------------

_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－／", "0123456789.-/")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER_BEFORE_UNIT = re.compile(r"([零〇一二两三四五六七八九十百]+)(?=周岁|岁|年|月|日|号)")


def chinese_number(text: str) -> int | None:
    """二零一九 -> 2019, 六十六 -> 66, 十二 -> 12, 一百零五 -> 105; None when it is not a number."""
    if not text or any(c not in _CN_DIGITS and c not in "十百" for c in text):
        return None
    if "十" not in text and "百" not in text:
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    total = 0
    if "百" in text:
        head, text = text.split("百", 1)
        if len(head) > 1:
            return None
        total += (_CN_DIGITS[head] if head else 1) * 100
        text = text.lstrip("零〇")
    if "十" in text:
        head, text = text.split("十", 1)
        if len(head) > 1:
            return None
        total += (_CN_DIGITS[head] if head else 1) * 10
    if len(text) > 1:
        return None
    return total + (_CN_DIGITS[text] if text else 0)


def normalise(text: str) -> str:
    text = (text or "").translate(_FULL_WIDTH)
    return _CN_NUMBER_BEFORE_UNIT.sub(
        lambda m: str(chinese_number(m.group(1)) if chinese_number(m.group(1)) is not None else m.group(1)), text
    )


_DATE_PATTERNS = [
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:年|[.\-/])\s*(?P<m>\d{1,2})\s*(?:月|[.\-/])\s*(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:年\s*(?P<m>\d{1,2})\s*月|[.\-/]\s*(?P<m2>\d{1,2})(?![\d.\-/]))"),
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?!\d)"),
    re.compile(r"(?<![\d.])(?P<yy>\d{2})\s*年(?!前|了|多|左右|以上|以内)"),
]


_RELATIVE_YEAR = {"今年": 0, "去年": 1, "前年": 2, "大前年": 3}
# "今年3月发的", "去年拿的证": a month, or a word of issuing, must follow ("我今年45" is an age).
_RELATIVE = re.compile(
    r"(大前年|前年|去年|今年)(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号])?|(?=\s*(?:才|刚|就)?(?:签发|发|拿|考|取得|下证|出证)))"
)


def parse_issue_date(text: str, today: date, bare: bool = False) -> str | None:
    """A certificate date in what the user typed: "YYYY", "YYYY-MM" or "YYYY-MM-DD", else None.

    "2019年6月15日", "2019.6.15", "2019年6月", "19年", "二零一九年" ...; with `bare`, a lone
    two-digit number ("19") is read as a year too (the answer to "哪年签发的").
    """
    text = normalise(text)
    text = re.sub(r"\d{1,3}\s*(?:周岁|岁)", " ", text)  # an age is not a year
    relative = _RELATIVE.search(text)
    if relative:  # "今年3月", "去年": counted from today
        year = today.year - _RELATIVE_YEAR[relative.group(1)]
        text = (
            text[: relative.start()]
            + f"{year}年"
            + (f"{relative.group(2)}月" if relative.group(2) else "")
            + (f"{relative.group(3)}日" if relative.group(3) else "")
            + text[relative.end() :]
        )
    for pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if m:
            break
    else:
        m = re.fullmatch(r"\s*(?P<yy>\d{2})\s*[年的吧啊。.]*\s*", text) if bare else None
        if not m:
            return None
    groups = m.groupdict()
    if groups.get("yy"):
        yy = int(groups["yy"])
        year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    else:
        year = int(groups["y"])
    month = groups.get("m") or groups.get("m2")
    day = groups.get("d")
    try:
        date(year, int(month) if month else 1, int(day) if day else 1)
    except ValueError:
        return None
    return "-".join([f"{year:04d}"] + [f"{int(v):02d}" for v in (month, day) if v])


def parse_age(text: str, bare: bool = False) -> int | None:
    """An age in what the user typed ("66岁", "六十六周岁"; with `bare` also "58", "我今年58了")."""
    text = normalise(text)
    m = re.search(r"(?<!\d)(\d{1,3})\s*(?:周岁|岁)", text) or re.search(r"今年\s*(\d{2})(?![\d年月.])", text)
    if m:
        return int(m.group(1))
    if bare:
        numbers = re.findall(r"(?<![\d.\-/])(\d{2,3})(?![\d.\-/])(?!\s*[年月日号])", text)
        if len(numbers) == 1:
            return int(numbers[0])
        words = re.findall(r"[一二三四五六七八九十百]+", text)
        if len(words) == 1 and not numbers:
            return chinese_number(words[0])
    return None


_NO = re.compile(r"没有|没办|没做|没弄|没认证|没|不是|未|否|不")
_YES = re.compile(r"办过|办理过|做过|认证过|有|是|对|嗯|已经")


def parse_yes_no(text: str) -> bool | None:
    """The answer to a yes/no question ("没有" -> False, "办过" -> True); None when neither."""
    text = (text or "").strip()
    if _NO.search(text):
        return False
    if _YES.search(text):
        return True
    return None


_FIRST_CLASS = re.compile(r"一建|一级建造师|一级")
_FIRST_CLASS_NO = re.compile(
    r"(一建|一级建造师|一级).{0,6}(没|未|不曾)(有)?(考|实名|认证|办|做|弄|注册)|没(有)?(考|办|做|弄)过一(建|级)|"
    r"(一建|一级建造师)(没有|没)$"
)
_FIRST_CLASS_YES = re.compile(
    r"(一建|一级建造师|一级).{0,6}(实名|认证).{0,3}(过|了|完)|(办|做|弄)过一(建|级).{0,4}(实名|认证)"
)


def parse_first_class_auth(text: str) -> bool | None:
    """Whether a sentence says the 一建 real-name authentication was done (None: it does not say)."""
    if not _FIRST_CLASS.search(text or ""):
        return None
    if _FIRST_CLASS_NO.search(text):
        return False
    if _FIRST_CLASS_YES.search(text):
        return True
    return None


async def read_choice(api: RegistrationApi, slot: str, text: str, as_answer: bool) -> dict[str, str] | None:
    """{"code", "name", "said_as"} of the choice for `slot` that `text` names (bot/ reads it), else None."""
    if not text.strip():
        return None
    field = FIELD_FOR_SLOT[slot]
    return (await api.match(text, answer_to=field if as_answer else None))[field]


async def facts_from_slots(api: RegistrationApi, slots: dict[str, Any], today: date) -> dict[str, Any]:
    """The API request for what the conversation knows (slot values read again: a value may have
    been filled while another form was running and never validated)."""

    def text(slot: str) -> str | None:
        value = slots.get(slot)
        return None if value is None else str(value)

    choices = await asyncio.gather(*(read_choice(api, slot, text(slot) or "", True) for slot in CHOICE_SLOTS))
    business, employer, role, info_kind = (choice["code"] if choice else None for choice in choices)
    issue = text("reg_issue_date")
    age = slots.get("reg_age")
    return {
        "business_type": business,
        "certificate_issue_date": parse_issue_date(issue, today, bare=True) if issue else None,
        "specialty_role": "main" if role == "added_to_main" else role,
        "added_to_main_after_first_class": True if role == "added_to_main" else None,
        "age": age if isinstance(age, int) else (parse_age(str(age), bare=True) if age is not None else None),
        "employer_type": employer,
        "first_class_authenticated": slots.get("reg_first_class_auth"),
        "info_change_kind": info_kind,
    }


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _previous_value(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (to notice a correction)."""
    events = tracker.events or []
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:last_user]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


# ---- the form ----------------------------------------------------------------------------------


class ValidateRegistrationPlanForm(FormValidationAction):
    """Reads the facts from the user's words; asks the API which one to ask for next."""

    def __init__(self, api: RegistrationApi | None = None, today: Callable[[], date] = beijing_today):
        self.api = api or RegistrationApi()
        self.today = today

    def name(self) -> str:
        return "validate_registration_plan_form"

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType | None:
        goal = tracker.get_slot("reg_goal") or "plan"
        try:
            plan = await self.api.plan(await facts_from_slots(self.api, tracker.slots, self.today()))
        except (BackendUnavailable, BackendRejected) as exc:
            # Stop asking: action_registration_plan then tells the user what went wrong.
            log.warning("registration plan API while choosing the next question: %s", exc)
            return SlotSet(REQUESTED_SLOT, None)
        part = GOAL_PART.get(goal)
        for question in plan.get("questions") or ():
            slot = SLOT_FOR_FIELD.get(question.get("field"))
            if slot and tracker.get_slot(slot) is None and (part is None or part in question.get("needed_for", ())):
                return SlotSet(REQUESTED_SLOT, slot)
        return SlotSet(REQUESTED_SLOT, None)

    # -- extraction from the raw text (when NLU found no entity) ---------------------------------
    def _reading(self, tracker: Tracker, slot: str) -> bool | None:
        """How the message text is read for `slot`: as the answer to its question (True) when it is
        the question just asked, from a whole sentence of one of our intents (False), or not (None)."""
        intent = _intent(tracker)
        text = tracker.latest_message.get("text") or ""
        if intent in NOT_AN_ANSWER or text.startswith("/"):
            return None
        asks = QUESTION_MARKERS.search(text)
        if tracker.get_slot(REQUESTED_SLOT) == slot and not (intent == "ask_knowledge" and asks):
            return True
        if intent in OWN_INTENTS or (intent in ("ask_knowledge", "nlu_fallback") and not asks):
            return False  # facts in a sentence that asks nothing, whatever NLU made of it
        return None

    def _from_text(self, tracker: Tracker, slot: str, parse: Callable[[str, bool], Any]) -> dict[str, Any]:
        """`slot` read from the message text by `parse(text, as_answer)`."""
        as_answer = self._reading(tracker, slot)
        if as_answer is None:
            return {}
        return self._kept(tracker, slot, parse(tracker.latest_message.get("text") or "", as_answer))

    async def _choice_from_text(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        """A choice slot read from the message text by bot/ (as `_from_text` decides)."""
        as_answer = self._reading(tracker, slot)
        if as_answer is None:
            return {}
        try:
            choice = await read_choice(self.api, slot, tracker.latest_message.get("text") or "", as_answer)
        except (BackendUnavailable, BackendRejected) as exc:
            log.warning("registration match API while reading %s: %s", slot, exc)
            return {}
        return self._kept(tracker, slot, choice["code"] if choice else None)

    def _kept(self, tracker: Tracker, slot: str, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        already = tracker.slots_to_validate().get(slot)
        if already is not None and not (slot == "reg_issue_date" and str(value).startswith(self._date(already) or "~")):
            return {}  # NLU filled it this turn; keep that unless the text is a more precise date
        return {slot: value}

    def _date(self, value: Any) -> str | None:
        return parse_issue_date(str(value), self.today(), bare=True) if value is not None else None

    def extract_reg_issue_date(self, dispatcher, tracker, domain):
        return self._from_text(tracker, "reg_issue_date", lambda t, bare: parse_issue_date(t, self.today(), bare))

    def extract_reg_age(self, dispatcher, tracker, domain):
        return self._from_text(tracker, "reg_age", parse_age)

    async def extract_reg_business_type(self, dispatcher, tracker, domain):
        return await self._choice_from_text(tracker, "reg_business_type")

    async def extract_reg_employer_type(self, dispatcher, tracker, domain):
        return await self._choice_from_text(tracker, "reg_employer_type")

    async def extract_reg_specialty_role(self, dispatcher, tracker, domain):
        return await self._choice_from_text(tracker, "reg_specialty_role")

    def extract_reg_first_class_auth(self, dispatcher, tracker, domain):
        # The buttons send /affirm or /deny; a typed "没有" may be classified as anything.
        if (
            "reg_first_class_auth" in tracker.slots_to_validate()
            or tracker.get_slot("reg_first_class_auth") is not None
        ):
            return {}
        if tracker.get_slot(REQUESTED_SLOT) != "reg_first_class_auth":
            # said before being asked: "一建没考过也没实名过", "一建实名认证办过了"
            return self._from_text(tracker, "reg_first_class_auth", lambda t, bare: parse_first_class_auth(t))
        return self._from_text(tracker, "reg_first_class_auth", lambda t, bare: parse_yes_no(t) if bare else None)

    async def extract_reg_info_kind(self, dispatcher, tracker, domain):
        # bot/ reads it only as the answer to its own question: "电话" or "名字" in sentences mean other things.
        return await self._choice_from_text(tracker, "reg_info_kind")

    # -- validation: normalise, refuse the impossible, confirm corrections ---------------------------
    def _validated(
        self, slot: str, value: Any, shown: str | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if value is None:
            return {slot: None}
        previous = _previous_value(tracker, slot)
        if previous is not None and previous != value:
            dispatcher.utter_message(response="utter_reg_corrected", label=SLOT_LABELS[slot], value=shown or value)
        return {slot: value}

    def validate_reg_issue_date(self, value, dispatcher, tracker, domain):
        today = self.today()
        # NLU may have cut the date short ("3月" of "今年3月发的"): the whole sentence says more.
        parsed = self._date(value) or parse_issue_date(tracker.latest_message.get("text") or "", today)
        if parsed is None:
            dispatcher.utter_message(response="utter_reg_bad_date")
            return {"reg_issue_date": None}
        if date(*[int(p) for p in (parsed.split("-") + ["1", "1"])[:3]]) > today:
            dispatcher.utter_message(response="utter_reg_future_date")
            return {"reg_issue_date": None}
        parts = [int(p) for p in parsed.split("-")]
        shown = "".join(f"{v}{unit}" for v, unit in zip(parts, "年月日"))
        return self._validated("reg_issue_date", parsed, shown, dispatcher, tracker)

    def validate_reg_age(self, value, dispatcher, tracker, domain):
        age = value if isinstance(value, int) else parse_age(str(value), bare=True)
        if age is None or not 18 <= age <= 120:
            dispatcher.utter_message(response="utter_reg_bad_age")
            return {"reg_age": None}
        return self._validated("reg_age", age, f"{age}周岁", dispatcher, tracker)

    async def _choice(self, slot, value, dispatcher, tracker):
        # NLU may have cut a stray entity ("从" of "从设计院"): the whole sentence says more.
        try:
            choice = await read_choice(self.api, slot, str(value), True) or await read_choice(
                self.api, slot, tracker.latest_message.get("text") or "", True
            )
        except (BackendUnavailable, BackendRejected) as exc:
            log.warning("registration match API while validating %s: %s", slot, exc)
            return {slot: None}
        if choice is None:
            dispatcher.utter_message(response="utter_reg_not_understood")
            return {slot: None}
        return self._validated(slot, choice["code"], choice["said_as"], dispatcher, tracker)

    async def validate_reg_business_type(self, value, dispatcher, tracker, domain):
        return await self._choice("reg_business_type", value, dispatcher, tracker)

    async def validate_reg_employer_type(self, value, dispatcher, tracker, domain):
        return await self._choice("reg_employer_type", value, dispatcher, tracker)

    async def validate_reg_specialty_role(self, value, dispatcher, tracker, domain):
        return await self._choice("reg_specialty_role", value, dispatcher, tracker)

    async def validate_reg_info_kind(self, value, dispatcher, tracker, domain):
        return await self._choice("reg_info_kind", value, dispatcher, tracker)


# ---- answers -----------------------------------------------------------------------------------


def _situation_line(plan: dict[str, Any]) -> str:
    s = plan.get("situation") or {}
    parts = [s.get("business_name")]
    if s.get("certificate_issue_date"):
        ymd = [int(p) for p in s["certificate_issue_date"].split("-")]
        parts.append("证书" + "".join(f"{v}{u}" for v, u in zip(ymd, "年月日")) + "签发")
    if s.get("added_to_main_after_first_class"):
        parts.append("增项转主项")
    elif s.get("specialty_role"):
        parts.append(s.get("specialty_role_name") or "")
    if s.get("age") is not None:
        parts.append(f"{s['age']}周岁")
    if s.get("employer_name"):
        parts.append(s["employer_name"])
    parts = [p for p in parts if p]
    return f"按您的情况（{'，'.join(parts)}）" if parts else ""


def _ce_text(plan: dict[str, Any]) -> str:
    ce = plan.get("continuing_education")
    business = (plan.get("situation") or {}).get("business_name")
    if ce is None:
        return f"{business}不涉及继续教育学时。" if business else ""
    return "".join(ce.get("reasons") or ())


class ActionRegistrationPlan(Action):
    """After the form: answer the user's question (hours, eligibility) or present the plan."""

    def __init__(self, api: RegistrationApi | None = None, today: Callable[[], date] = beijing_today):
        self.api = api or RegistrationApi()
        self.today = today

    def name(self) -> str:
        return "action_registration_plan"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            plan = await self.api.plan(await facts_from_slots(self.api, tracker.slots, self.today()))
        except BackendRejected as exc:
            dispatcher.utter_message(text=exc.detail, buttons=[HANDOFF_BUTTON])
            return []
        except BackendUnavailable as exc:
            log.warning("registration plan API unavailable: %s", exc)
            dispatcher.utter_message(text=UNAVAILABLE, buttons=[HANDOFF_BUTTON])
            return []
        goal = tracker.get_slot("reg_goal") or "plan"
        if goal == "ce":
            return self._answer_ce(dispatcher, plan)
        if goal == "eligibility":
            return self._answer_eligibility(dispatcher, plan)
        return self._present_plan(dispatcher, plan)

    @staticmethod
    def _answer_ce(dispatcher: CollectingDispatcher, plan: dict[str, Any]) -> list[EventType]:
        lines = []
        if plan.get("eligible") is False:
            lines.append("先提醒您：" + "".join(plan.get("eligibility_reasons") or ()))
        lines.append(_ce_text(plan))
        buttons = [PLAN_BUTTON] if plan.get("eligible") is not False else [HANDOFF_BUTTON]
        dispatcher.utter_message(text="\n".join(line for line in lines if line), buttons=buttons)
        return []

    @staticmethod
    def _answer_eligibility(dispatcher: CollectingDispatcher, plan: dict[str, Any]) -> list[EventType]:
        eligible = plan.get("eligible")
        reasons = "".join(plan.get("eligibility_reasons") or ())
        buttons = [PLAN_BUTTON] if eligible else [HANDOFF_BUTTON]
        dispatcher.utter_message(text=reasons, buttons=buttons)
        return []

    @staticmethod
    def _present_plan(dispatcher: CollectingDispatcher, plan: dict[str, Any]) -> list[EventType]:
        if plan.get("eligible") is False:
            dispatcher.utter_message(text="".join(plan.get("eligibility_reasons") or ()), buttons=[HANDOFF_BUTTON])
            return [SlotSet("reg_steps", None), SlotSet("reg_step_index", None)]
        situation = _situation_line(plan)
        lines = [f"{situation}，办理要点：" if situation else "办理要点："]
        if plan.get("eligible") is True:
            lines.append("· 申报条件：符合。")
        elif (
            plan.get("eligible") is None
            and plan.get("eligibility_reasons")
            and (plan.get("situation") or {}).get("business_type") not in ("cancellation", "info_change")
        ):
            lines.append("· 申报条件：" + "".join(plan["eligibility_reasons"]))
        ce = _ce_text(plan)
        if ce and plan.get("continuing_education") is not None:
            lines.append("· 继续教育：" + ce)
        approval = plan.get("approval")
        if approval:
            lines.append(
                "· 审批：" + approval["summary"] + "".join(n for n in approval.get("notes", ()) if "估算" in n)
            )
        dispatcher.utter_message(text="\n".join(lines))
        steps = [
            {"title": s["title"], "detail": s["detail"], "sections": s.get("sections", [])}
            for s in plan.get("steps") or ()
        ]
        if not steps:
            return [SlotSet("reg_steps", None), SlotSet("reg_step_index", None)]
        _utter_step(dispatcher, steps, 0)
        return [SlotSet("reg_steps", steps), SlotSet("reg_step_index", 0)]


def _utter_step(dispatcher: CollectingDispatcher, steps: list[dict[str, Any]], index: int) -> None:
    last = index == len(steps) - 1
    buttons = [DETAIL_BUTTON] + ([] if last else [NEXT_BUTTON])
    suffix = "（最后一步）" if last else ""
    dispatcher.utter_message(
        text=f"第{index + 1}步（共{len(steps)}步）：{steps[index]['title']}{suffix}", buttons=buttons
    )


def _current(tracker: Tracker) -> tuple[list[dict[str, Any]], int | None]:
    steps = tracker.get_slot("reg_steps") or []
    index = tracker.get_slot("reg_step_index")
    return steps, (int(index) if index is not None and steps else None)


class ActionRegistrationNextStep(Action):
    def name(self) -> str:
        return "action_registration_next_step"

    def __init__(self, knowledge: ActionAnswerQuestion | None = None):
        self.knowledge = knowledge or ActionAnswerQuestion()

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        steps, index = _current(tracker)
        if index is None:
            if not BARE_NEXT.match((tracker.latest_message.get("text") or "").strip()):
                # "那AI私塾呢" sounds like "然后呢", but with no plan on screen it is a follow-up question
                return await self.knowledge.run(dispatcher, tracker, domain)
            dispatcher.utter_message(response="utter_reg_no_plan", buttons=[PLAN_BUTTON])
            return []
        if index + 1 >= len(steps):
            dispatcher.utter_message(response="utter_reg_all_steps_done", buttons=[HANDOFF_BUTTON])
            return []
        _utter_step(dispatcher, steps, index + 1)
        return [SlotSet("reg_step_index", index + 1)]


class ActionRegistrationStepDetail(Action):
    def name(self) -> str:
        return "action_registration_step_detail"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        steps, index = _current(tracker)
        if index is None:
            dispatcher.utter_message(response="utter_reg_no_plan", buttons=[PLAN_BUTTON])
            return []
        step = steps[index]
        source = f"\n依据：{'、'.join(step['sections'])}" if step.get("sections") else ""
        buttons = [NEXT_BUTTON] if index + 1 < len(steps) else [HANDOFF_BUTTON]
        dispatcher.utter_message(text=f"第{index + 1}步 {step['title']}\n{step['detail']}{source}", buttons=buttons)
        return []


# ---- a personal question asked outright ----------------------------------------------------------

# What the user is asked to add when their own case is to be worked out (slot -> how to say it).
ASK_FOR = {
    "reg_issue_date": "证书上这个专业的签发日期（说到年月就行）",
    "reg_age": "您的周岁年龄",
    "reg_employer_type": "您现在受聘于哪类单位（施工、设计、勘察、监理、招标代理、造价咨询，或者目前没有单位）",
    "reg_business_type": "您要办的业务（初始注册、重新注册、延续注册……）",
    "reg_specialty_role": "申请的是主项还是增项",
}


class ActionRegistrationQuestion(Action):
    """ "我66岁了还能注册吗", "我证书2019年发的，重新注册要学多少学时": a question about the user's own
    case. When the message holds every fact the answer needs (or one that settles it), the answer
    for their case; otherwise the general rule from the knowledge base at once, with what to tell
    for their own case. The user is answered, never questioned first: the facts they give next
    (reg_inform) re-run the plan form with this goal."""

    def __init__(
        self,
        api: RegistrationApi | None = None,
        knowledge: ActionAnswerQuestion | None = None,
        today: Callable[[], date] = beijing_today,
    ):
        self.api = api or RegistrationApi()
        self.knowledge = knowledge or ActionAnswerQuestion()
        self.today = today

    def name(self) -> str:
        return "action_registration_question"

    async def facts_in_message(self, tracker: Tracker) -> dict[str, Any]:
        """Slots this message fills, read from its text where NLU found no entity (the choices by bot/,
        as a sentence: "其他" or "电话" in it name nothing)."""
        text = tracker.latest_message.get("text") or ""
        try:
            choices = await self.api.match(text) if text.strip() else {}
        except (BackendUnavailable, BackendRejected) as exc:
            log.warning("registration match API for a personal question: %s", exc)
            choices = {}
        found = {
            "reg_issue_date": parse_issue_date(text, self.today()),
            "reg_age": parse_age(text),
            **{
                slot: (choices.get(FIELD_FOR_SLOT[slot]) or {}).get("code")
                for slot in ("reg_business_type", "reg_employer_type", "reg_specialty_role")
            },
        }
        return {slot: value for slot, value in found.items() if value is not None and tracker.get_slot(slot) is None}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        goal = "ce" if _intent(tracker) == "reg_ask_ce" else "eligibility"
        facts = await self.facts_in_message(tracker)
        events: list[EventType] = [SlotSet("reg_goal", goal)] + [SlotSet(k, v) for k, v in facts.items()]
        slots = {**tracker.slots, **facts}
        try:
            plan = await self.api.plan(await facts_from_slots(self.api, slots, self.today()))
        except (BackendUnavailable, BackendRejected) as exc:
            log.warning("registration plan API for a personal question: %s", exc)
            plan = None
        missing = []
        if plan is not None and plan.get("eligible") is not False:
            part = GOAL_PART[goal]
            missing = [
                SLOT_FOR_FIELD[q["field"]]
                for q in plan.get("questions") or ()
                if part in q.get("needed_for", ())
                and q.get("field") in SLOT_FOR_FIELD
                and slots.get(SLOT_FOR_FIELD[q["field"]]) is None
            ]
        if plan is not None and not missing:  # their own case is settled by what they said
            answer = ActionRegistrationPlan._answer_ce if goal == "ce" else ActionRegistrationPlan._answer_eligibility
            return events + answer(dispatcher, plan)
        before = len(dispatcher.messages)
        events += await self.knowledge.run(dispatcher, tracker, domain)
        answered = any(
            m.get("custom", {}).get("type") == "answer"
            for m in dispatcher.messages[before:]
            if isinstance(m.get("custom"), dict)
        )
        asks = [ASK_FOR[slot] for slot in missing if slot in ASK_FOR]
        if asks and answered:  # after a general answer, what would settle their own case
            dispatcher.utter_message(text="想按您本人的情况判断的话，告诉我" + "、".join(asks[:2]) + "就可以。")
        return events
