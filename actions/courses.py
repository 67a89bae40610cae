"""Course consultation and enrollment: recommend, compare, enroll, call-back leads.

Thin actions over CoursesApi (actions/api/courses.py): every course fact (names, prices, who a
package suits) comes from bot/'s course API, never from here. What is here is conversation: reading
a user's answer, asking the next question, saying what happened, and never claiming an enrollment
or a call-back that the backend did not confirm. Every action and every form step that asks bot/
awaits it (CoursesApi is aiohttp): a slow backend call holds up only its own conversation.

Shared behaviour lives in two abstract base classes (rasa-sdk does not register abstract actions):
- CourseAction: the API client and the "backend unavailable" replies;
- CourseFormValidation: how a package, subjects, a name and a mobile number are read and checked,
  used by all three forms. A name and a number are found in what the user typed here, and checked
  by bot/'s one rule (POST /api/contact/check): the chat accepts exactly what an enrollment does.
Phone numbers never go to a log line from here; shown back to the user, they are masked by masking/.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api.base import BackendRejected, BackendUnavailable
from actions.api.courses import CourseRejected, CoursesApi
from actions.knowledge import QUESTION_MARKERS, ActionAnswerQuestion
from masking import mask_phone

log = logging.getLogger(__name__)

# -- what the assistant says when something is not right ---------------------------------------------

UNAVAILABLE = "抱歉，课程系统暂时无法访问，请稍后再试；也可以回复“转人工”联系客服。"
ENROLL_UNAVAILABLE = (
    "抱歉，报名系统暂时无法访问，您的报名还没有提交成功。您填写的信息我先保留着，"
    "请稍后回复“我要报名”再试一次（不会重复报名）；也可以回复“转人工”联系客服。"
)
LEAD_UNAVAILABLE = (
    "抱歉，系统暂时无法登记回电请求，您的请求还没有提交成功。请稍后再说一次“让顾问打电话给我”，或回复“转人工”联系客服。"
)
FORM_PAUSED = (
    "抱歉，课程系统暂时无法访问，这一步先暂停，您已填写的信息我先保留着。"
    "请稍后再说一次刚才的请求（如“我要报名”）继续；也可以回复“转人工”联系客服。"
)
QUOTE_UNAVAILABLE = "（报价系统暂时无法访问，价格稍后以报名结果为准。）"
NO_NAME = "没看到姓名。请告诉我报名人的姓名，例如“张三”。"
NO_MOBILE = "没有看到手机号码。请输入您的手机号，例如 138 1234 5678。"
CONFIRM_DECLINED = (
    "好的，先不提交。需要修改的话直接告诉我，比如“手机号填错了”“套餐换成另一个”“科目改一下”；不想报了可以说“不报了”。"
)
WHAT_TO_CORRECT = "请问要修改哪一项？可以说“手机号填错了”“名字写错了”“套餐换成另一个”或“科目改一下”。"
HANDOFF_BUTTON = {"title": "转人工", "payload": "/human_handoff"}
CONFIRM_BUTTONS = [
    {"title": "确认报名", "payload": "/affirm"},
    {"title": "修改信息", "payload": "/correct_info"},
    {"title": "不报了", "payload": "/stop"},
]

# Messages that are about something else: nothing is read from them into a form.
DIGRESSION_INTENTS = (
    "ask_knowledge",
    "compare_packages",
    "correct_info",
    "stop",
    "request_callback",
    "human_handoff",
    "nlu_fallback",
    "out_of_scope",
)
ENROLLMENT_SLOTS = (
    "course_package",
    "course_subjects",
    "pending_subjects",
    "student_name",
    "student_mobile",
    "enroll_confirmed",
)
CALLBACK_SLOTS = ("callback_time", "student_name", "student_mobile")
# The body fields bot/ names in a refusal (its 422 `errors[].loc`) -> the slot the form asks again.
FIELD_SLOTS = {
    "name": "student_name",
    "mobile": "student_mobile",
    "phone": "student_mobile",
    "package": "course_package",
    "subjects": "course_subjects",
    "preferred_time": "callback_time",
}
RECOMMENDATION_SLOTS = (
    "rec_zero_basis",
    "rec_failed_before",
    "rec_busy",
    "rec_site_experience",
    "rec_subjects_skipped",
    "pending_subjects",
)

# -- reading what a user typed ---------------------------------------------------------------------------

_NAME_PREFIX = re.compile(r"^(?:我的?(?:姓名|名字)(?:是|叫)?|(?:姓名|名字)(?:是|叫|:|：)?|我叫|我是|叫我|本人)\s*")
_NAME_SUFFIX = re.compile(r"[。.!！~～]+$|(?:吧|呀|哈|啊)$")
_MOBILE_WITH_LABEL = re.compile(
    r"(?:手机号?码?|电话号?码?|联系方式|号码)?\s*[:：]?\s*(?:(?:\+|00)?86[\s-]*)?1[3-9]\d(?:[\s-]?\d){8}"
)
# Words of the catalogue: "全科 建筑 13912345678" names no person.
_COURSE_WORDS = re.compile(r"建筑|市政|机电|公路|水利|全科|单科|施工|法规|管理|实务|无忧|私塾|套餐|报名|课程")
# Replies to a question that are never a name.
NOT_NAMES = frozenset(
    "确认 确定 好的 好 可以 没问题 是的 是 对 对的 行 提交 嗯嗯 不知道 不用 不要 算了 不报了 报名 是我 本人".split()
)
# A number as typed: digits with spaces, dashes or brackets between them, maybe after + or 00.
_MOBILE_CANDIDATE = re.compile(r"(?:(?:\+|00)\s*)?\d(?:[\s\-()]*\d)*")
# Volunteered in a sentence: "手机13912345678", "我叫王磊" (not "我是零基础": only explicit name words).
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d(?:[\s-]?\d){8})(?!\d)")
_NAME_IN_TEXT = re.compile(
    r"(?:我叫|名字(?:是|叫|:|：)?|姓名(?:是|叫|:|：)?|本人姓|(?<![\u4e00-\u9fff])叫)\s*([\u4e00-\u9fff·]{2,5}?)"
    r"(?=[\s,，。;；!！]|手机|电话|$)"
    r"|(?:^|[\s,，])([\u4e00-\u9fff]{2,3})[\s,，]*(?:手机|电话)?[:：]?\s*1[3-9]\d(?:[\s-]?\d){8}(?!\d)"
)


def mobile_candidate(text: str) -> str | None:
    """The number the user typed, as typed (bot/ decides whether it is a mobile number): the first
    run of 11 or more digits, else the longest run; None when the text holds no digit at all."""
    runs = [m.group(0).strip() for m in _MOBILE_CANDIDATE.finditer(unicodedata.normalize("NFKC", text or ""))]
    if not runs:
        return None

    def digits(run: str) -> int:
        return sum(ch.isdigit() for ch in run)

    return next((run for run in runs if digits(run) >= 11), max(runs, key=digits))


def read_name(text: str) -> str | None:
    """The name in an answer, without the words around it ("我叫", "姓名：", "吧") and without a mobile
    number typed with it ("郑丽 13599887766"); None for an answer that is no name ("确认", "好的").
    Whether it is a valid name is bot/'s rule (POST /api/contact/check)."""
    text = unicodedata.normalize("NFKC", text or "")
    name = re.sub(r"\s+", " ", _MOBILE_WITH_LABEL.sub(" ", text).strip())
    name = _NAME_SUFFIX.sub("", _NAME_PREFIX.sub("", name)).strip(" ，,。")
    return None if not name or name in NOT_NAMES else name


def format_mobile(mobile: str) -> str:
    return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}" if len(mobile) == 11 else mobile


def channel_of(tracker: Tracker) -> str:
    """Where the user is: the channel bot/ put in the message metadata (web / wechat)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    if not metadata:
        for event in reversed(tracker.events or []):
            if event.get("event") == "user":
                metadata = event.get("metadata") or {}
                break
    channel = metadata.get("channel") if isinstance(metadata, dict) else None
    if isinstance(channel, str) and re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", channel):
        return channel
    return "web"


def enrollment_key(sender: str, package: str, subjects: list[str], name: str, mobile: str) -> str:
    """The Idempotency-Key for an enrollment: the same sender and form content -> the same key."""
    raw = "|".join([sender, package, ",".join(sorted(subjects)), name, mobile])
    return "chat-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def refused_slots(exc: BackendRejected, form_slots: tuple[str, ...]) -> list[str]:
    """The form's slots whose values bot/ refused, by the fields it named."""
    fields = exc.fields if isinstance(exc, CourseRejected) else ()
    return list(dict.fromkeys(FIELD_SLOTS[f] for f in fields if FIELD_SLOTS.get(f) in form_slots))


def _latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def _latest_intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def _is_digression(tracker: Tracker) -> bool:
    """A message about something else, from which nothing is read into a form. Read as a question
    by NLU but asking nothing ("无忧取证班 全科 实务考建筑"), it is an answer after all."""
    intent = _latest_intent(tracker)
    if intent in ("ask_knowledge", "nlu_fallback") and not QUESTION_MARKERS.search(_latest_text(tracker)):
        return False
    return intent in DIGRESSION_INTENTS


def _answer_heard_as_question(tracker: Tracker, slot: str) -> bool:
    """The answer to the form's question for `slot` that NLU took for a question ("全科 实务选建筑",
    "明天下午3点以后" as ask_knowledge). It asks nothing, so action_answer_question left it to the form;
    the slot's from_text mapping skips that intent, so the form reads it here."""
    return (
        tracker.get_slot("requested_slot") == slot
        and _latest_intent(tracker) in ("ask_knowledge", "nlu_fallback")
        and not QUESTION_MARKERS.search(_latest_text(tracker))
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)] if str(value).strip() else []


def _names(items: list[dict[str, Any]]) -> str:
    return "、".join(item["name"] for item in items)


def quote_lines(quote: dict[str, Any]) -> list[str]:
    lines = [f"{line['label']}：¥{line['price']}" for line in quote["lines"]]
    lines.append(f"合计：¥{quote['total']}")
    lines += quote.get("notes") or []
    return lines


# -- base classes ------------------------------------------------------------------------------------------


class CourseAction(Action, ABC):
    """An action that talks to the course API."""

    def __init__(self, api: CoursesApi | None = None):
        self.api = api or CoursesApi()

    @abstractmethod
    def name(self) -> str: ...

    async def subject_names(self, subject_ids: list[str]) -> str:
        known = {s["id"]: s["name"] for s in await self.api.subjects()}
        return "、".join(known.get(sid, sid) for sid in subject_ids)

    async def package_name(self, package_id: str | None) -> str | None:
        for p in await self.api.packages():
            if p["id"] == package_id:
                return p["name"]
        return package_id

    async def packages_or_apologise(self, dispatcher: CollectingDispatcher) -> list[dict[str, Any]] | None:
        """The catalogue's packages, or None after telling the user the course service is down."""
        try:
            return await self.api.packages()
        except BackendUnavailable:
            dispatcher.utter_message(text=UNAVAILABLE, buttons=[HANDOFF_BUTTON])
            return None


def field_text(package: dict[str, Any], field_id: str) -> str:
    """One of a package's catalogue fields as bot/ renders it ("" when the package lacks it)."""
    return next((f["text"] for f in package.get("fields") or () if f["id"] == field_id), "")


def enroll_buttons(packages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"title": f"报名{p['name']}", "payload": f'/enroll{{"package": "{p["name"]}"}}'} for p in packages]


class CourseFormValidation(FormValidationAction, ABC):
    """Reads and checks the slots the course forms share: package, subjects, name, mobile."""

    def __init__(self, api: CoursesApi | None = None):
        self.api = api or CoursesApi()

    @abstractmethod
    def name(self) -> str: ...

    # the backend is down: stop the form instead of asking the same question again and again ---------
    paused_message: str | None = FORM_PAUSED

    def pause(self, dispatcher: CollectingDispatcher, slot: str) -> dict[str, Any]:
        """End the form for now (requested_slot None); what was filled stays for the next try."""
        if self.paused_message:
            dispatcher.utter_message(text=self.paused_message, buttons=[HANDOFF_BUTTON])
        return {slot: None, "requested_slot": None}

    # extraction: the words of the message, matched against the catalogue ----------------------------
    # DIET's entities fill the slots too, but a package or subject named in any wording ("无优班",
    # "全科+建筑") is found here, through the same matching as the backend's.
    async def _matched(self, tracker: Tracker) -> dict[str, Any] | None:
        text = _latest_text(tracker)
        if not text or text.startswith("/") or _is_digression(tracker):
            return None
        try:
            return await self.api.match(text)
        except BackendUnavailable:
            return None

    async def extract_course_package(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = await self._matched(tracker)
        if found and len(found["packages"]) == 1 and found["packages"][0]["id"] != tracker.get_slot("course_package"):
            return {"course_package": found["packages"][0]["id"]}
        return {}

    async def extract_course_subjects(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if _answer_heard_as_question(tracker, "course_subjects"):
            return {"course_subjects": _latest_text(tracker)}
        found = await self._matched(tracker)
        if found and found["subjects"] and tracker.get_slot("requested_slot") != "course_subjects":
            # Named before being asked ("报无忧取证班全科建筑"): validated like an answer. "全科" alone
            # is remembered, so that only the specialty is asked later.
            ids = [s["id"] for s in found["subjects"]]
            return {"course_subjects": _latest_text(tracker) if found["needs_practice"] else ids}
        return {}

    # a name or a mobile number given before being asked ("我叫王磊 手机13912345678") ------------------------
    def _volunteered(self, tracker: Tracker, slot: str, pattern: re.Pattern) -> dict[str, Any]:
        # request_callback is a digression for the other forms, but the message that starts the
        # call-back form may well hold the name and the number.
        if tracker.get_slot(slot) or (_latest_intent(tracker) != "request_callback" and _is_digression(tracker)):
            return {}
        if tracker.get_slot("requested_slot") == slot:
            # The answer to this very question: the slot's from_text mapping reads it, unless NLU
            # took the answer for a question ("郑丽 13599887766" as ask_knowledge).
            return {slot: _latest_text(tracker)} if _latest_intent(tracker) in ("ask_knowledge", "nlu_fallback") else {}
        found = pattern.search(_latest_text(tracker))
        value = next((g for g in found.groups() if g), None) if found else None
        if value is None or (slot == "student_name" and (read_name(value) is None or _COURSE_WORDS.search(value))):
            return {}
        return {slot: value}  # checked by validate_<slot> like an answer

    async def extract_student_mobile(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._volunteered(tracker, "student_mobile", _MOBILE_IN_TEXT)

    async def extract_student_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._volunteered(tracker, "student_name", _NAME_IN_TEXT)

    # package ------------------------------------------------------------------------------------------
    async def validate_course_package(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            packages = await self.api.packages()
            known = {p["id"] for p in packages}
            given = _as_list(value)
            if len(given) == 1 and given[0] in known:
                return {"course_package": given[0]}
            found = (await self.api.match(" ".join([_latest_text(tracker), *given])))["packages"]
        except BackendUnavailable:
            return self.pause(dispatcher, "course_package")
        if len(found) == 1:
            return {"course_package": found[0]["id"]}
        if len(found) > 1:
            dispatcher.utter_message(text=f"一次只能报一个套餐，请在{_names(found)}中选一个。")
        else:
            dispatcher.utter_message(text="没听明白您要报哪个套餐。")
        return {"course_package": None}

    # subjects -----------------------------------------------------------------------------------------
    def skip_subjects(self, text: str) -> bool:
        """Whether "不知道/还没想好" may leave the subjects open (only the recommendation allows it)."""
        return False

    async def validate_course_subjects(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _latest_text(tracker)
        pending = _as_list(tracker.get_slot("pending_subjects"))
        try:
            subjects = await self.api.subjects()
            kinds = {s["id"]: s["kind"] for s in subjects}
            given = _as_list(value)
            if given and all(v in kinds for v in given):  # ids: extracted, or carried over from the recommendation
                ids = given
            else:
                found = await self.api.match(" ".join([text, *given]))
                if found["needs_practice"]:
                    # action_ask_course_subjects asks for the specialty next.
                    return {"course_subjects": None, "pending_subjects": [s["id"] for s in found["subjects"]]}
                ids = [s["id"] for s in found["subjects"]]
        except BackendUnavailable:
            return self.pause(dispatcher, "course_subjects")
        if not ids:
            if self.skip_subjects(text):
                return {"course_subjects": None, "rec_subjects_skipped": True}
            dispatcher.utter_message(text="没听明白您要报哪几科，可以说“全科+某个实务专业”，或者直接说科目名。")
            return {"course_subjects": None}
        if pending and any(kinds.get(i) == "实务" for i in ids):  # the specialty for "全科"
            ids = pending + ids
        order = [s["id"] for s in subjects]
        return {"course_subjects": sorted(set(ids), key=order.index), "pending_subjects": None}

    # name and mobile ----------------------------------------------------------------------------------
    async def _checked(self, dispatcher: CollectingDispatcher, slot: str, field: str, typed: str) -> dict[str, Any]:
        """The slot filled with what bot/ would store, or emptied with bot/'s reason (asked again)."""
        try:
            checked = await self.api.check_contact(**{field: typed})
        except BackendUnavailable:
            return self.pause(dispatcher, slot)
        except BackendRejected as exc:
            dispatcher.utter_message(text=exc.detail)
            return {slot: None}
        return {slot: checked[field]}

    async def validate_student_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = read_name(str(value or ""))
        if name is None:
            dispatcher.utter_message(text=NO_NAME)
            return {"student_name": None}
        return await self._checked(dispatcher, "student_name", "name", name)

    async def validate_student_mobile(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        typed = mobile_candidate(str(value or ""))
        if typed is None:
            dispatcher.utter_message(text=NO_MOBILE)
            return {"student_mobile": None}
        return await self._checked(dispatcher, "student_mobile", "mobile", typed)


# -- forms ---------------------------------------------------------------------------------------------------


class ValidateEnrollmentForm(CourseFormValidation):
    def name(self) -> str:
        return "validate_enrollment_form"

    def validate_enroll_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"enroll_confirmed": True}
        dispatcher.utter_message(text=CONFIRM_DECLINED)
        return {"enroll_confirmed": None}


_TIME_IN_TEXT = re.compile(
    r"(?:工作日|周末|周[一二三四五六日天]|星期[一二三四五六日天]|明天|今天|后天|早上|上午|中午|下午|傍晚|晚上|"
    r"\d{1,2}\s*点)[^，,。；;!！\n]*"
)


class ValidateCallbackForm(CourseFormValidation):
    def name(self) -> str:
        return "validate_callback_form"

    async def extract_callback_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A time said before being asked ("15906012233 晚上7点后都行"), or an answer NLU heard as a question."""
        if _answer_heard_as_question(tracker, "callback_time"):
            return {"callback_time": _latest_text(tracker)}
        if (
            tracker.get_slot("requested_slot") == "callback_time"
            or tracker.get_slot("callback_time")
            or (_latest_intent(tracker) != "request_callback" and _is_digression(tracker))
        ):
            return {}
        found = _TIME_IN_TEXT.search(_MOBILE_IN_TEXT.sub(" ", _latest_text(tracker)))
        return {"callback_time": found.group(0).strip()} if found else {}

    def validate_callback_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = re.sub(r"\s+", " ", str(value or "")).strip()
        if not text:
            return {"callback_time": None}
        if len(text) > 50:
            dispatcher.utter_message(text="时间请说得简短一些（50个字以内），例如“工作日晚上”“明天上午10点后”。")
            return {"callback_time": None}
        return {"callback_time": text}


# Question slot -> the profile field the backend scores.
REC_QUESTIONS = {
    "rec_zero_basis": "zero_basis",
    "rec_failed_before": "failed_before",
    "rec_busy": "busy",
    "rec_site_experience": "site_experience",
}
# What people say, per question: (pattern meaning "no", pattern meaning "yes"); "no" is tried first
# because it usually contains the "yes" words ("不忙" contains "忙").
_ANSWER_PATTERNS: dict[str, tuple[re.Pattern, re.Pattern]] = {
    "rec_zero_basis": (
        re.compile(r"有(一定|点|些)?基础|基础(还行|还可以|不错|挺好|可以)|不是零基础|学过一些|不是小白"),
        re.compile(
            r"零基础|0基础|没(有)?(任何|什么|啥)?基础|小白|基础(差|薄弱|不好|很弱|一般)|外行|门外汉|刚入行|完全不懂|"
            r"(啥|什么)都不懂|一窍不通|没学过|理论(不行|差|薄弱|不好)"
        ),
    ),
    "rec_failed_before": (
        re.compile(r"第一次|头一次|首次|没考过|还没考|没参加过|没报过|一次都没考"),
        re.compile(r"没(通)?过|没考上|挂了|挂科|多次|好几次|几次|两次|三次|[2-9两三四五]年了?都没|落榜|差.{0,3}分"),
    ),
    "rec_busy": (
        re.compile(r"不(太|是很|怎么|算)?忙|(时间|空闲)(比较|很|挺)?(多|充裕|充足)|有(的是|大把)?时间|清闲|空闲|闲着"),
        re.compile(r"(?<![帮不])忙|没(有)?时间|没空|加班|出差|时间(少|紧|不够)|抽不出"),
    ),
    "rec_site_experience": (
        re.compile(
            r"没(有)?(什么|啥)?(现场|施工|工地|实操|项目)?经验|经验.{0,4}(没有|不足|很少|不多)|经验不足|"
            r"没(下过|去过|干过|做过)|不在(现场|工地)|坐办公室|没实操"
        ),
        re.compile(
            r"有(现场|施工|工地|实操|项目)?经验|在(工地|现场|项目)|干(过|了)|做(过|了)(施工|项目)|施工员|项目经理|技术员|当过"
        ),
    ),
}
# The recommendation's open questions (bot/recommend.py) as a user reads them.
OPEN_QUESTION_WORDS = {
    "zero_basis": "是不是零基础",
    "failed_before": "之前有没有多次没考过",
    "busy": "平时忙不忙",
    "site_experience": "有没有施工现场经验",
    "all_subjects": "打算报全科还是单科",
}
_YES = re.compile(r"^(是|是的|对|对的|嗯+|有|有的|忙|很忙|挺忙|yes|y)[啊呀的吧。!！]*$", re.I)
_NO = re.compile(r"^(不是|不|否|没有|没|没呢|不忙|no|n)[啊呀的吧。!！]*$", re.I)
_SKIP = re.compile(r"不知道|没想好|不确定|还没定|没定|随便|都行|不清楚|再说")


class ValidateRecommendationForm(CourseFormValidation):
    """Asks only what is needed: the backend says which questions can still change the answer."""

    def __init__(self, api: CoursesApi | None = None):
        super().__init__(api)
        self._results: dict[tuple, dict[str, Any]] = {}

    def name(self) -> str:
        return "validate_recommendation_form"

    # action_recommend_package, which runs when the form ends, says that no recommendation is possible.
    paused_message = None

    def skip_subjects(self, text: str) -> bool:
        return bool(_SKIP.search(text))

    async def next_requested_slot(self, dispatcher, tracker, domain):
        if tracker.slots_to_validate().get("requested_slot", "") is None:
            return None  # a validator paused the form: do not ask another question
        return await super().next_requested_slot(dispatcher, tracker, domain)

    async def _result(self, answers: dict[str, bool | None]) -> dict[str, Any] | None:
        """The backend's recommendation for these answers (kept for the form's turns), or None."""
        key = tuple(sorted(answers.items()))
        if key not in self._results:
            if len(self._results) > 256:
                self._results.clear()
            try:
                self._results[key] = await self.api.recommend(answers)
            except (BackendUnavailable, BackendRejected) as exc:
                log.warning("recommendation questions: %s", exc)
                return None  # not cached: ask everything now, try again next turn
        return self._results[key]

    async def _open_questions(self, answers: dict[str, bool | None]) -> list[str] | None:
        result = await self._result(answers)
        return None if result is None else result["open_questions"]

    async def _one_ahead(self, answers: dict[str, bool | None]) -> bool:
        """What the user has said already puts one package ahead ("考了三次都没过", "零基础，平时很
        忙"): recommend now instead of asking on; the recommendation names what could still change it."""
        result = await self._result(answers) if any(v is not None for v in answers.values()) else None
        if result is None:
            return False
        scores = sorted((p["score"] for p in result["packages"]), reverse=True)
        return len(result["recommended"]) == 1 and scores[0] > (scores[1] if len(scores) > 1 else 0)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        answers = {field: tracker.get_slot(slot) for slot, field in REC_QUESTIONS.items()}
        if await self._one_ahead(answers):  # only what is known, so that it is kept; nothing more is asked
            return [s for s in domain_slots if s in REC_QUESTIONS and tracker.get_slot(s) is not None] + (
                ["course_subjects"] if tracker.get_slot("course_subjects") else []
            )
        open_questions = await self._open_questions(answers)
        slots = [
            s
            for s in domain_slots
            if s in REC_QUESTIONS
            and (open_questions is None or REC_QUESTIONS[s] in open_questions or tracker.get_slot(s) is not None)
        ]
        if "course_subjects" in domain_slots and not tracker.get_slot("rec_subjects_skipped"):
            slots.append("course_subjects")  # the quote needs them; they also tell 全科 from 单科
        return slots

    def _extract(self, slot: str, tracker: Tracker, dispatcher: CollectingDispatcher | None = None) -> dict[str, Any]:
        text = _latest_text(tracker)
        if text.startswith("/"):
            text = ""
        no, yes = _ANSWER_PATTERNS[slot]
        if no.search(text):
            return {slot: False}
        if yes.search(text):
            return {slot: True}
        if tracker.get_slot("requested_slot") == slot:
            intent = _latest_intent(tracker)
            if intent == "affirm" or _YES.match(text.strip()):
                return {slot: True}
            if intent == "deny" or _NO.match(text.strip()):
                return {slot: False}
            answered_another = any(p.search(text) for pair in _ANSWER_PATTERNS.values() for p in pair)
            if (
                dispatcher is not None
                and text
                and not answered_another
                and intent not in DIGRESSION_INTENTS + ("enroll",)
            ):
                # An answer that is neither yes nor no: say so and ask again, instead of leaving the form.
                dispatcher.utter_message(text="没太明白，请回答“是”或“不是”，也可以直接点下面的选项。")
                return {slot: None}
        return {}

    @staticmethod
    def _yes_no(slot: str, value: Any) -> dict[str, Any]:
        return {slot: value if isinstance(value, bool) else None}

    def validate_rec_zero_basis(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._yes_no("rec_zero_basis", value)

    def validate_rec_failed_before(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._yes_no("rec_failed_before", value)

    def validate_rec_busy(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._yes_no("rec_busy", value)

    def validate_rec_site_experience(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._yes_no("rec_site_experience", value)

    async def extract_rec_zero_basis(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._extract("rec_zero_basis", tracker, dispatcher)

    async def extract_rec_failed_before(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._extract("rec_failed_before", tracker, dispatcher)

    async def extract_rec_busy(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._extract("rec_busy", tracker, dispatcher)

    async def extract_rec_site_experience(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._extract("rec_site_experience", tracker, dispatcher)


# -- asking ------------------------------------------------------------------------------------------------


class ActionAskCoursePackage(CourseAction):
    def name(self) -> str:
        return "action_ask_course_package"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            packages = await self.api.packages()
        except BackendUnavailable:
            dispatcher.utter_message(text="请问您想报哪个套餐？")
            return []
        recommended = tracker.get_slot("recommended_package")
        packages = sorted(packages, key=lambda p: p["id"] != recommended)
        buttons = []
        for p in packages:
            label = f"{p['name']}（全科{field_text(p, 'full')}）"
            if p["id"] == recommended:
                label += "·推荐"
            buttons.append({"title": label, "payload": p["name"]})
        dispatcher.utter_message(
            text=f"好的，帮您报名。请问报哪个套餐？可选：{_names(packages)}。"
            "拿不准可以先说“帮我推荐一下”或“对比一下两个班”。",
            buttons=buttons,
        )
        return []


class ActionAskCourseSubjects(CourseAction):
    def name(self) -> str:
        return "action_ask_course_subjects"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            subjects = await self.api.subjects()
        except BackendUnavailable:
            dispatcher.utter_message(text="请问您报哪几科？")
            return []
        publics = [s for s in subjects if s["kind"] == "公共"]
        practices = [s for s in subjects if s["kind"] == "实务"]
        if tracker.get_slot("pending_subjects"):  # "全科" was said without the specialty
            dispatcher.utter_message(
                text=f"全科包含{_names(publics)}和一门实务。请问实务报哪个专业？",
                buttons=[{"title": s["name"], "payload": s["name"]} for s in practices],
            )
            return []
        buttons = [{"title": f"全科（{s['name']}）", "payload": f"全科 {s['name']}"} for s in practices]
        dispatcher.utter_message(
            text=(
                f"请问您报哪几科？全科是{_names(publics)}{len(publics)}门公共课加一门实务；也可以单报某几科。\n"
                f"实务专业：{_names(practices)}。"
            ),
            buttons=buttons,
        )
        return []


class ActionAskEnrollConfirmed(CourseAction):
    """The summary with the quoted price (POST /api/quotes), then: confirm?"""

    def name(self) -> str:
        return "action_ask_enroll_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if _latest_intent(tracker) == "deny":  # the summary was just shown; ask briefly
            dispatcher.utter_message(text="信息都没问题的话，确认提交报名吗？", buttons=CONFIRM_BUTTONS)
            return []
        package = tracker.get_slot("course_package")
        subjects = _as_list(tracker.get_slot("course_subjects"))
        lines = ["请核对报名信息："]
        try:
            quote = await self.api.quote(package, subjects)
            lines.append(f"套餐：{quote['package']['name']}")
            lines.append(f"科目：{_names(quote['subjects'])}")
            lines += quote_lines(quote)
        except (BackendUnavailable, BackendRejected) as exc:
            log.warning("quote for the summary failed: %s", exc)
            try:  # names from the catalogue kept by the client, when it has them
                lines.append(f"套餐：{await self.package_name(package)}；科目：{await self.subject_names(subjects)}")
            except BackendUnavailable:
                lines.append(f"套餐：{package}；科目：{'、'.join(subjects)}")
            lines.append(QUOTE_UNAVAILABLE)
        lines.append(f"姓名：{tracker.get_slot('student_name')}")
        lines.append(f"手机：{format_mobile(tracker.get_slot('student_mobile') or '')}")
        lines.append("确认提交报名吗？")
        dispatcher.utter_message(text="\n".join(lines), buttons=CONFIRM_BUTTONS)
        return []


# -- recommending and comparing ---------------------------------------------------------------------------


class ActionRecommendPackage(CourseAction):
    def name(self) -> str:
        return "action_recommend_package"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        answers = {field: tracker.get_slot(slot) for slot, field in REC_QUESTIONS.items()}
        subjects = _as_list(tracker.get_slot("course_subjects"))
        reset = [SlotSet(slot, None) for slot in RECOMMENDATION_SLOTS]
        try:
            result = await self.api.recommend(answers, subjects)
        except (BackendUnavailable, BackendRejected) as exc:
            log.warning("recommendation failed: %s", exc)
            dispatcher.utter_message(
                text="抱歉，暂时无法给出推荐，请稍后再试；也可以说“对比一下两个班”或回复“转人工”。",
                buttons=[HANDOFF_BUTTON],
            )
            return reset
        fits = {p["id"]: p for p in result["packages"]}
        chosen = [fits[pid] for pid in result["recommended"]]
        lines: list[str] = []
        if len(chosen) == 1:
            best = chosen[0]
            lines.append(f"根据您的情况，推荐【{best['name']}】。")
            if best["reasons"]:
                lines.append("课程介绍里写它适合：")
                lines += [f"· {reason}" for reason in best["reasons"]]
        else:
            with_reasons = [p for p in chosen if p["reasons"]]
            lines.append(f"根据您的情况，{_names(chosen)}都合适，可以看看两者的对比再决定。")
            for p in with_reasons:
                lines.append(f"{p['name']}适合：" + "；".join(p["reasons"]))
        for p in chosen:
            if p.get("quote"):
                lines.append(f"按您选的科目，{p['name']}：" + "；".join(quote_lines(p["quote"])))
        still_open = [OPEN_QUESTION_WORDS[q] for q in result.get("open_questions") or () if q in OPEN_QUESTION_WORDS]
        if still_open:  # recommended from what the user said at once: say what else could matter
            lines.append(f"如果方便，再告诉我{'、'.join(still_open)}，我可以帮您再确认一下。")
        buttons = enroll_buttons(chosen)
        buttons += [
            {"title": "对比两个班", "payload": "/compare_packages"},
            {"title": "请顾问回电", "payload": "/request_callback"},
        ]
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=buttons,
            json_message={"type": "recommendation", "recommended": result["recommended"]},
        )
        recommended = result["recommended"][0] if len(result["recommended"]) == 1 else None
        # Keep the subjects: if the user goes on to enroll, they are not asked again. The package is
        # what a follow-up ("全科多少钱", "有效期呢") asks about.
        context = [SlotSet("last_question", chosen[0]["name"])] if recommended else []
        return (
            reset
            + [
                SlotSet("recommended_package", recommended),
                SlotSet("recommendation_reasons", list(chosen[0]["reasons"]) if recommended else None),
            ]
            + context
        )


class ActionExplainRecommendation(CourseAction):
    """ "为啥推荐这个", "为什么不推荐无忧的": the reasons the recommendation quoted, and who the other
    package suits in the catalogue's words, so the user can judge the difference themselves."""

    def name(self) -> str:
        return "action_explain_recommendation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        packages = await self.packages_or_apologise(dispatcher)
        if packages is None:
            return []
        recommended = next((p for p in packages if p["id"] == tracker.get_slot("recommended_package")), None)
        if recommended is None:
            lines = ["我还没有按您的情况推荐过套餐。课程介绍里写的适合人群是："]
            lines += [f"· {p['name']}：" + "；".join(p.get("suitable_for") or ["（未写明）"]) for p in packages]
            lines.append("告诉我您的基础、是否考过、工作忙不忙，我可以帮您推荐。")
            dispatcher.utter_message(
                text="\n".join(lines), buttons=[{"title": "帮我推荐", "payload": "/ask_recommendation"}]
            )
            return []
        reasons = _as_list(tracker.get_slot("recommendation_reasons"))
        lines = [
            f"推荐【{recommended['name']}】，是因为您说的情况和课程介绍里写的它的适合人群对得上："
            if reasons
            else f"推荐【{recommended['name']}】：您说的情况里没有哪一条更偏向另一个班，两个班都可以考虑。"
        ]
        lines += [f"· {reason}" for reason in reasons]
        for other in packages:
            if other["id"] != recommended["id"] and other.get("suitable_for"):
                lines.append(f"【{other['name']}】课程介绍里写它适合：" + "；".join(other["suitable_for"]) + "。")
        lines.append(
            "如果您的情况更接近另一个班，也可以直接报它；想看价格、有效期和保障的完整对比，可以点“对比两个班”。"
        )
        buttons = enroll_buttons(packages)
        buttons.append({"title": "对比两个班", "payload": "/compare_packages"})
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return []


class ActionComparePackages(CourseAction):
    """The packages side by side: a readable text table and a {"type": "comparison"} payload. The
    rows are the catalogue's fields as bot/ renders them (GET /api/packages `fields`)."""

    def name(self) -> str:
        return "action_compare_packages"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        packages = await self.packages_or_apologise(dispatcher)
        if packages is None:
            return []
        columns = ["项目"] + [p["name"] for p in packages]
        rows = [
            [field["label"]] + [field_text(p, field["id"]) or "—" for p in packages] for field in packages[0]["fields"]
        ]
        text = [" vs ".join(p["name"] for p in packages) + "："]
        for row in rows:
            text.append(f"【{row[0]}】")
            text += [f"  {name}：{cell}" for name, cell in zip(columns[1:], row[1:])]
        text.append("以上是课程页面上两个套餐分别列出的内容。想让我按您的情况推荐，可以说“帮我推荐一下”。")
        buttons = enroll_buttons(packages)
        buttons.append({"title": "帮我推荐", "payload": "/ask_recommendation"})
        dispatcher.utter_message(
            text="\n".join(text),
            buttons=buttons,
            json_message={"type": "comparison", "title": "套餐对比", "columns": columns, "rows": rows},
        )
        return []


# -- submitting ----------------------------------------------------------------------------------------------


class ActionSubmitEnrollment(CourseAction):
    def name(self) -> str:
        return "action_submit_enrollment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        package = tracker.get_slot("course_package")
        subjects = _as_list(tracker.get_slot("course_subjects"))
        name = tracker.get_slot("student_name")
        mobile = tracker.get_slot("student_mobile")
        if not (tracker.get_slot("enroll_confirmed") is True and package and subjects and name and mobile):
            # The form was paused before the user confirmed (it said why): nothing is sent or claimed.
            return [SlotSet("enroll_confirmed", None)]
        try:
            result = await self.api.enroll(
                name=name,
                mobile=mobile,
                package=package,
                subjects=subjects,
                sender=tracker.sender_id,
                channel=channel_of(tracker),
                idempotency_key=enrollment_key(tracker.sender_id, package, subjects, name, mobile),
            )
        except BackendUnavailable as exc:
            log.warning("enrollment not submitted, backend unavailable: %s", exc)
            dispatcher.utter_message(text=ENROLL_UNAVAILABLE, buttons=[HANDOFF_BUTTON])
            return [SlotSet("enroll_confirmed", None)]
        except BackendRejected as exc:
            # Keep what was right, ask again for what the backend refused.
            dispatcher.utter_message(text=f"报名没有提交成功：{exc.detail}")
            events: list[EventType] = [SlotSet("enroll_confirmed", None)]
            events += [SlotSet(slot, None) for slot in refused_slots(exc, ENROLLMENT_SLOTS)]
            return events + [FollowupAction("enrollment_form")]

        number = result["number"]
        lines = []
        if result.get("created"):
            lines.append(f"报名成功！报名号：{number}")
        elif result.get("status") == "cancelled":
            lines.append(
                f"您之前提交的这份报名（报名号：{number}）已经取消。如需重新报名，请说“让顾问打电话给我”，由顾问为您办理。"
            )
        else:
            lines.append(f"您已经提交过这份报名，报名号：{number}（不会重复报名）。")
        lines.append(f"套餐：{result['package']['name']}；科目：{_names(result['subjects'])}")
        lines.append(f"应付：¥{result['price']}")
        lines.append("课程顾问会通过您留的手机号与您联系。查询报名请提供报名号和手机号。")
        dispatcher.utter_message(
            text="\n".join(lines),
            json_message={
                "type": "enrollment",
                "number": number,
                "price": result["price"],
                "created": bool(result.get("created")),
            },
        )
        log.info(
            "enrollment %s for sender %s (%s)",
            number,
            tracker.sender_id,
            "created" if result.get("created") else "existing",
        )
        return [SlotSet(slot, None) for slot in ENROLLMENT_SLOTS] + [SlotSet("enrollment_number", number)]


class ActionSubmitLead(CourseAction):
    def name(self) -> str:
        return "action_submit_lead"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        name, mobile = tracker.get_slot("student_name"), tracker.get_slot("student_mobile")
        when = tracker.get_slot("callback_time")
        if not (name and mobile and when):
            return []  # the form was paused before it was complete (it said why): nothing to register
        package = tracker.get_slot("course_package") or tracker.get_slot("recommended_package")
        try:
            await self.api.create_lead(
                name=name,
                mobile=mobile,
                preferred_time=when,
                question=tracker.get_slot("last_question"),
                package=package,
                subjects=_as_list(tracker.get_slot("course_subjects")) or None,
                sender=tracker.sender_id,
                channel=channel_of(tracker),
            )
        except BackendUnavailable as exc:
            log.warning("lead not submitted, backend unavailable: %s", exc)
            dispatcher.utter_message(text=LEAD_UNAVAILABLE, buttons=[HANDOFF_BUTTON])
            return [SlotSet("callback_time", None)]
        except BackendRejected as exc:
            dispatcher.utter_message(text=f"回电请求没有登记成功：{exc.detail}")
            events: list[EventType] = [SlotSet("callback_time", None)]
            events += [SlotSet(slot, None) for slot in refused_slots(exc, CALLBACK_SLOTS)]
            return events + [FollowupAction("callback_form")]
        time_text = f"，{when}" if when else ""
        dispatcher.utter_message(
            text=f"好的，已为您登记回电：{name}，{mask_phone(mobile)}{time_text}。课程顾问会按您方便的时间给您打电话。"
        )
        return [SlotSet("callback_time", None), SlotSet("student_name", None), SlotSet("student_mobile", None)]


# -- corrections and stopping ------------------------------------------------------------------------------

_FIELD_WORDS = (
    ("student_mobile", re.compile(r"手机|电话|号码|号")),
    ("student_name", re.compile(r"名字|姓名|名$|名写|叫")),
    ("course_package", re.compile(r"套餐|班")),
    ("course_subjects", re.compile(r"科目|科|专业|实务|课")),
    ("callback_time", re.compile(r"时间|几点|上午|下午|晚上")),
)


_CHANGE_TO = re.compile(r"换成|改成|改为|换为|换")


class ActionCorrectEnrollment(CourseAction):
    """ "手机号填错了", "换成AI私塾班": take the new value if it is in the message, else ask again."""

    def __init__(self, api: CoursesApi | None = None, knowledge: ActionAnswerQuestion | None = None):
        super().__init__(api)
        self.knowledge = knowledge or ActionAnswerQuestion()

    def name(self) -> str:
        return "action_correct_enrollment"

    def _targets(self, tracker: Tracker, text: str, found: dict[str, Any] | None) -> list[str]:
        targets: list[str] = []
        if found and found["packages"]:
            targets.append("course_package")
        if found and found["subjects"]:
            targets.append("course_subjects")
        fields = " ".join(tracker.get_latest_entity_values("field"))
        for slot, words in _FIELD_WORDS:
            if slot not in targets and words.search(fields or text):
                targets.append(slot)
        # "班" in "换成AI私塾班" names the package already found; "号" alone in a name is no phone.
        if (
            "course_package" in targets
            and found
            and found["packages"]
            and "course_subjects" in targets
            and not found["subjects"]
        ):
            targets.remove("course_subjects")
        return targets

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        form = tracker.active_loop.get("name") if tracker.active_loop else None
        text = _latest_text(tracker)
        if text.startswith("/"):
            text = ""
        if form not in ("enrollment_form", "callback_form"):
            number = tracker.get_slot("enrollment_number")
            if number:
                dispatcher.utter_message(
                    text=f"报名已经提交了（报名号：{number}）。如需修改，请说“让顾问打电话给我”，课程顾问会帮您更正。"
                )
                return []
            if text:
                # Nothing is being filled in: "手机号换了想改 密码也忘了" asks how to change one's
                # registration details, which the knowledge base answers.
                return await self.knowledge.run(dispatcher, tracker, domain)
            dispatcher.utter_message(text="现在没有正在填写的报名。想报名请说“我要报名”。")
            return []
        found = None
        if text:
            try:
                found = await self.api.match(text)
            except BackendUnavailable:
                found = None
        allowed = {
            "enrollment_form": ("course_package", "course_subjects", "student_name", "student_mobile"),
            "callback_form": ("student_name", "student_mobile", "callback_time"),
        }[form]
        targets = [t for t in self._targets(tracker, text, found) if t in allowed]
        events: list[EventType] = [SlotSet("enroll_confirmed", None)] if form == "enrollment_form" else []
        if not targets:
            dispatcher.utter_message(text=WHAT_TO_CORRECT)
            return events
        # "把建筑换成水利", "不要无忧了，换AI私塾": the new value is what follows the last 换成/改成.
        parts = _CHANGE_TO.split(text)
        new_found = found
        if len(parts) > 1 and parts[-1].strip():
            try:
                new_found = await self.api.match(parts[-1])
            except BackendUnavailable:
                new_found = found
        said: list[str] = []
        for slot in targets:
            value, label = await self._new_value(slot, text, new_found)
            if slot == "course_subjects" and value:
                value = await self._keep_public_subjects(value, _as_list(tracker.get_slot("course_subjects")))
            events.append(SlotSet(slot, value))
            if slot == "course_subjects":
                events.append(SlotSet("pending_subjects", None))
            if value is not None:
                said.append(f"{label}已改为{await self._show(slot, value, new_found)}")
            else:
                said.append(f"我们重新填一下{label}")
        dispatcher.utter_message(text="好的，" + "；".join(said) + "。")
        return events

    async def _keep_public_subjects(self, new: list[str], current: list[str]) -> list[str]:
        """ "科目改成机电实务" with 全科 chosen: the 实务 changes, the 公共 subjects stay."""
        try:
            subjects = await self.api.subjects()
        except BackendUnavailable:
            return new
        kind = {s["id"]: s["kind"] for s in subjects}
        publics = [s["id"] for s in subjects if s["kind"] == "公共"]
        if all(kind.get(i) == "实务" for i in new) and all(p in current for p in publics):
            order = [s["id"] for s in subjects]
            return sorted(set(publics + new), key=order.index)
        return new

    async def _new_mobile(self, text: str) -> str | None:
        """The new number in "手机号填错了，是139…", if bot/'s rule accepts it; else None: the form
        asks for it again and says why."""
        typed = mobile_candidate(text)
        if typed is None:
            return None
        try:
            return (await self.api.check_contact(mobile=typed))["mobile"]
        except (BackendUnavailable, BackendRejected):
            return None

    async def _new_value(self, slot: str, text: str, found: dict[str, Any] | None) -> tuple[Any, str]:
        if slot == "student_mobile":
            return await self._new_mobile(text), "手机号"
        if slot == "course_package":
            packages = (found or {}).get("packages") or []
            return (packages[0]["id"] if len(packages) == 1 else None), "套餐"
        if slot == "course_subjects":
            subjects = (found or {}).get("subjects") or []
            if (found or {}).get("needs_practice"):
                return None, "科目"
            return ([s["id"] for s in subjects] or None), "科目"
        if slot == "student_name":
            return None, "姓名"
        return None, "方便接电话的时间"

    async def _show(self, slot: str, value: Any, found: dict[str, Any] | None) -> str:
        if slot == "student_mobile":
            return format_mobile(value)
        if slot == "course_package":
            return found["packages"][0]["name"]
        if slot == "course_subjects":
            try:
                return await self.subject_names(value)
            except BackendUnavailable:
                return _names(found["subjects"])
        return str(value)


class ActionStopForm(Action):
    """ "不报了": stop whichever course form is running, politely, and forget what it collected."""

    STOPS = {
        "enrollment_form": ("utter_enrollment_stopped", ENROLLMENT_SLOTS),
        "callback_form": ("utter_callback_stopped", CALLBACK_SLOTS),
        "recommendation_form": ("utter_recommendation_stopped", RECOMMENDATION_SLOTS + ("course_subjects",)),
    }

    def name(self) -> str:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        form = tracker.active_loop.get("name") if tracker.active_loop else None
        response, slots = self.STOPS.get(form, ("utter_stop_nothing_running", ()))
        dispatcher.utter_message(response=response)
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + [SlotSet(slot, None) for slot in slots]
