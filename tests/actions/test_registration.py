"""Registration guidance actions, with bot/'s plan and match APIs played at the HTTP boundary
(tests/actions/fake_bot.py: a server on 127.0.0.1; the actions' clients are the real ones).

Runs in the Rasa runtime: .venv-rasa/bin/python -m pytest -q tests/actions
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from fake_bot import FakeBot

from actions.api.base import BackendRejected, BackendUnavailable
from actions.api.knowledge import KnowledgeApi
from actions.api.registration import RegistrationApi
from actions.knowledge import ActionAnswerQuestion
from actions.registration import (
    SLOT_FOR_FIELD,
    UNAVAILABLE,
    ActionRegistrationNextStep,
    ActionRegistrationPlan,
    ActionRegistrationQuestion,
    ActionRegistrationStepDetail,
    ValidateRegistrationPlanForm,
    facts_from_slots,
    parse_age,
    parse_first_class_auth,
    parse_issue_date,
    parse_yes_no,
)

TODAY = date(2026, 11, 25)
PLAN = "/api/registration/plan"
MATCH = "/api/registration/match"
ANSWER = "/api/knowledge/answer"

# What bot/'s match API answers for the words these tests type (a trimmed copy of its readings):
# (word in the text, field, code, name, said_as). bot/'s own tests hold the whole vocabulary.
BOT_READS = [
    ("重新注册", "business_type", "re_registration", "重新注册", "重新注册"),
    ("re_registration", "business_type", "re_registration", "重新注册", "重新注册"),
    ("换公司", "business_type", "change_employer", "变更聘用单位（先注销再重新注册）", "换单位"),
    ("change_employer", "business_type", "change_employer", "变更聘用单位（先注销再重新注册）", "换单位"),
    ("renewal", "business_type", "renewal", "延续注册", "延续注册"),
    ("initial", "business_type", "initial", "初始注册", "初始注册"),
    ("监理", "employer_type", "supervision", "监理单位", "监理"),
    ("supervision", "employer_type", "supervision", "监理单位", "监理"),
    ("added_to_main", "specialty_role", "added_to_main", "增项转主项", "增项转主项"),
]

# Shaped like POST /api/registration/plan answers (trimmed to the fields the actions read).
CE_2019_RE_REGISTRATION = {
    "situation": {
        "business_type": "re_registration",
        "business_name": "重新注册",
        "certificate_issue_date": "2019",
        "specialty_role": None,
        "age": None,
        "employer_name": None,
    },
    "eligible": None,
    "eligibility_reasons": ["还需要知道您的年龄（周岁）和受聘单位类型，才能判断是否符合申报条件。", "已取得资格证书。"],
    "continuing_education": {
        "required": True,
        "hours": None,
        "hours_by_role": {"main": 120, "added": 60},
        "reasons": [
            "您的资格证书（该申请专业）签发于2019年，到注册之日2026年11月25日已超过三年，需要提供继续教育学时（注意事项第14条）。",
            "学时要求：主项120学时，增项60学时。",
        ],
    },
    "approval": {
        "approver": "省注册中心",
        "working_days": 10,
        "decision_by": "2026-12-09",
        "calendar": "official",
        "summary": "由省注册中心（省级建设主管部门）审查，系统受理后10个工作日内完成（如超过每日最大受理量则顺延）。",
        "notes": [],
    },
    "steps": [],
    "questions": [
        {"field": "age", "needed_for": ["eligibility"]},
        {"field": "employer_type", "needed_for": ["eligibility"]},
        {"field": "specialty_role", "needed_for": []},
    ],
}
AGE_66 = {
    "situation": {"age": 66},
    "eligible": False,
    "eligibility_reasons": ["不符合申报条件：申报条件要求年龄不超过65周岁（申报条件第2条），您66周岁，超过了65周岁。"],
    "continuing_education": None,
    "approval": None,
    "steps": [],
    "questions": [],
}
FULL_PLAN = {
    "situation": {
        "business_type": "renewal",
        "business_name": "延续注册",
        "certificate_issue_date": None,
        "specialty_role": None,
        "age": 50,
        "employer_name": "监理单位",
    },
    "eligible": True,
    "eligibility_reasons": ["符合申报条件。", "年龄50周岁，没有超过65周岁。"],
    "continuing_education": {
        "required": None,
        "hours": None,
        "hours_by_role": {"main": 120, "added": 60},
        "reasons": ["材料只规定了初始注册、重新注册的继续教育学时（注意事项第14条），没有写延续注册的继续教育要求。"],
    },
    "approval": {
        "approver": "设区市建设主管部门",
        "working_days": 1,
        "decision_by": "2027-01-04",
        "calendar": "estimated",
        "summary": "由设区市建设主管部门审查并备案，系统受理后1个工作日内完成（如超过每日最大受理量则顺延）。",
        "notes": [
            "个人提交后要经聘用企业确认才会上报。",
            "2027年的节假日调休安排还没有公布，这个日期按法定节假日和周末估算。",
        ],
    },
    "steps": [
        {
            "id": "ensure_authenticated",
            "title": "确认已在系统完成个人实名认证（没有的先认证）",
            "detail": "两种方式任选其一。",
            "sections": ["实名认证·个人实名认证"],
        },
        {
            "id": "apply",
            "title": "在系统个人版填写延续注册申请并上传材料",
            "detail": "个人通过系统填写注册申请。",
            "sections": ["办理流程·网上申请"],
        },
        {
            "id": "review",
            "title": "等待设区市建设主管部门审查：1个工作日内",
            "detail": "可在系统“进度查询”栏目查看。",
            "sections": ["受理时限第2条", "受理时限第3条"],
        },
    ],
    "questions": [],
}


def bot_reading(body: dict) -> dict:
    reading = {"business_type": None, "employer_type": None, "specialty_role": None, "info_change_kind": None}
    for word, field, code, name, said_as in BOT_READS:
        if word in body["text"] and reading[field] is None:
            reading[field] = {"code": code, "name": name, "said_as": said_as}
    return reading


@pytest.fixture
def bot():
    fake = FakeBot()
    fake.reply_with(MATCH, bot_reading)
    yield fake
    fake.close()


def slot_events(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def user_turn(tracker_factory, text, intent, slots=None, entities=None, previous=None, filled=None, requested=None):
    """A tracker as the form validation action sees it: earlier slot values, the user message,
    then the slot candidates NLU filled this turn (trailing slot events)."""
    slots = dict(slots or {})
    events = [{"event": "slot", "name": k, "value": v} for k, v in (previous or {}).items()]
    events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}})
    events += [{"event": "slot", "name": k, "value": v} for k, v in (filled or {}).items()]
    slots.update(filled or {})
    return tracker_factory(
        text=text,
        intent=intent,
        slots=slots,
        entities=entities,
        events=events,
        active_loop="registration_plan_form",
        requested_slot=requested,
    )


# ---- reading dates and ages -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, bare, expected",
    [
        ("我证书2019年发的，现在想重新注册", False, "2019"),
        ("2019年6月", False, "2019-06"),
        ("2019年6月15日", False, "2019-06-15"),
        ("2018年3月12号发证", False, "2018-03-12"),
        ("2019.6.15", False, "2019-06-15"),
        ("2019-06-15", False, "2019-06-15"),
        ("2019/6", False, "2019-06"),
        ("19年拿的证", False, "2019"),
        ("99年", False, "1999"),
        ("二零一九年", False, "2019"),
        ("一九年发的", False, "2019"),
        ("２０２１年", False, "2021"),
        ("不对，是2021年", False, "2021"),
        ("我66岁，证书2019年发的", False, "2019"),
        ("19", True, "2019"),
        ("19", False, None),
        ("拿证10年了", False, None),
        ("2019年2月30日", False, None),
        ("我66岁了还能注册吗", False, None),
        ("我今年45", True, None),
    ],
)
def test_parse_issue_date(text, bare, expected):
    assert parse_issue_date(text, TODAY, bare) == expected


@pytest.mark.parametrize(
    "text, bare, expected",
    [
        ("我66岁了还能注册吗", False, 66),
        ("我今年65周岁", False, 65),
        ("六十六岁", False, 66),
        ("今年六十七", True, 67),
        ("我今年58", True, 58),
        ("58了", True, 58),
        ("我今年58", False, 58),  # "今年" + a number is an age in any sentence
        ("2019", True, None),
        ("19年拿的证", True, None),
    ],
)
def test_parse_age(text, bare, expected):
    assert parse_age(text, bare) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("没有", False),
        ("没办过", False),
        ("不是", False),
        ("办理过", True),
        ("办过", True),
        ("有的", True),
        ("嗯", True),
        ("施工单位", None),
    ],
)
def test_parse_yes_no(text, expected):
    assert parse_yes_no(text) is expected


def test_facts_for_the_api_from_slots(bot):
    client = bot.client(RegistrationApi)

    async def facts_then_close(slots):
        try:
            return await facts_from_slots(client, slots, TODAY)
        finally:
            await client.aclose()

    facts = asyncio.run(
        facts_then_close(
            {
                "reg_business_type": "re_registration",
                "reg_issue_date": "2019年6月",
                "reg_age": "45",
                "reg_specialty_role": "added_to_main",
                "reg_employer_type": "监理公司",
                "reg_first_class_auth": False,
            }
        )
    )
    assert facts == {
        "business_type": "re_registration",
        "certificate_issue_date": "2019-06",
        "specialty_role": "main",
        "added_to_main_after_first_class": True,
        "age": 45,
        "employer_type": "supervision",
        "first_class_authenticated": False,
        "info_change_kind": None,
    }
    assert {(b["text"], b["answer_to"]) for b in bot.sent(MATCH)} == {
        ("re_registration", "business_type"),
        ("监理公司", "employer_type"),
        ("added_to_main", "specialty_role"),
    }, "each choice slot is read by bot/ as the answer to its own question"


# ---- the client ----------------------------------------------------------------------------------


def call(client, method, *args, **kwargs):
    async def once():
        try:
            return await getattr(client, method)(*args, **kwargs)
        finally:
            await client.aclose()

    return asyncio.run(once())


def test_client_posts_known_facts_and_asks_to_drop_irrelevant_ones(bot):
    bot.reply(PLAN, CE_2019_RE_REGISTRATION)
    call(
        bot.client(RegistrationApi),
        "plan",
        {"business_type": "re_registration", "age": None, "certificate_issue_date": "2019"},
    )
    assert bot.requests[0]["method"] == "POST"
    assert bot.sent(PLAN) == [
        {"business_type": "re_registration", "certificate_issue_date": "2019", "drop_irrelevant": True}
    ]


def test_client_failures_become_the_two_backend_errors(bot):
    with pytest.raises(BackendUnavailable):
        call(bot.client(RegistrationApi, down=True), "plan", {})
    bot.reply(PLAN, {"detail": "boom"}, status=503)
    with pytest.raises(BackendUnavailable):
        call(bot.client(RegistrationApi), "plan", {})
    bot.reply(PLAN, {"detail": "slow"}, delay=0.5)
    with pytest.raises(BackendUnavailable):
        call(bot.client(RegistrationApi, timeout=0.2), "plan", {})
    bot.reply(PLAN, {"detail": "证书签发日期2027年晚于今天"}, status=422)
    with pytest.raises(BackendRejected) as exc:
        call(bot.client(RegistrationApi), "plan", {})
    assert exc.value.detail == "证书签发日期2027年晚于今天"


def test_the_match_client_asks_bot_once_per_text_and_question(bot):
    client = bot.client(RegistrationApi)

    async def twice():
        try:
            first = await client.match("我想换公司", answer_to="business_type")
            again = await client.match("我想换公司", answer_to="business_type")
            return first, again
        finally:
            await client.aclose()

    first, again = asyncio.run(twice())
    assert first["business_type"] == {
        "code": "change_employer",
        "name": "变更聘用单位（先注销再重新注册）",
        "said_as": "换单位",
    }
    assert first == again and bot.sent(MATCH) == [{"text": "我想换公司", "answer_to": "business_type"}]


# ---- the form: what it reads and what it asks next -----------------------------------------------


def form(bot, body=None, status=200, down=False):
    bot.reply(PLAN, body, status)
    return ValidateRegistrationPlanForm(api=bot.client(RegistrationApi, down=down), today=lambda: TODAY)


def test_hours_question_with_facts_in_the_first_sentence_asks_nothing_more(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(
        tracker_factory, "我证书2019年发的，现在想重新注册，要学多少学时？", "reg_ask_ce", slots={"reg_goal": "ce"}
    )
    events = bot.run(action, dispatcher, tracker, domain)
    assert slot_events(events) == {
        "reg_issue_date": "2019",
        "reg_business_type": "re_registration",
        "requested_slot": None,
    }
    assert bot.sent(PLAN)[-1] == {
        "business_type": "re_registration",
        "certificate_issue_date": "2019",
        "drop_irrelevant": True,
    }
    assert dispatcher.messages == []


def test_the_whole_plan_asks_what_the_api_still_needs_in_its_order(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(
        tracker_factory, "我证书2019年发的，想重新注册，帮我看看怎么办", "reg_plan_request", slots={"reg_goal": "plan"}
    )
    assert slot_events(bot.run(action, dispatcher, tracker, domain))["requested_slot"] == "reg_age"


def test_a_question_already_answered_is_skipped(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(
        tracker_factory,
        "我今年58",
        "reg_inform",
        requested="reg_age",
        slots={"reg_goal": "plan", "reg_business_type": "re_registration", "reg_issue_date": "2019"},
    )
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert events["reg_age"] == 58
    assert events["requested_slot"] == "reg_employer_type"


def test_a_bare_number_answers_the_age_question(bot, tracker_factory, dispatcher, domain):
    action = form(bot, AGE_66)
    tracker = user_turn(tracker_factory, "66", "nlu_fallback", requested="reg_age", slots={"reg_goal": "plan"})
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert events["reg_age"] == 66 and events["requested_slot"] is None  # not eligible: nothing more to ask


def test_typed_no_answers_the_first_class_question_whatever_the_intent(bot, tracker_factory, dispatcher, domain):
    """ "没有" may be classified as another helper's `inform`: the form still takes it as the answer."""
    action = form(bot, FULL_PLAN)
    tracker = user_turn(
        tracker_factory,
        "没有",
        "inform",
        requested="reg_first_class_auth",
        slots={"reg_goal": "plan", "reg_business_type": "initial"},
    )
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert events["reg_first_class_auth"] is False and events["requested_slot"] is None


def test_first_class_question_not_asked_is_not_answered_by_a_no(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(tracker_factory, "没有", "deny", requested="reg_age", slots={"reg_goal": "plan"})
    assert "reg_first_class_auth" not in slot_events(bot.run(action, dispatcher, tracker, domain))


def test_correction_inside_the_form_is_confirmed(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(
        tracker_factory,
        "不对，是2021年",
        "reg_inform",
        requested="reg_specialty_role",
        slots={"reg_goal": "plan", "reg_business_type": "re_registration"},
        previous={"reg_issue_date": "2019"},
        filled={"reg_issue_date": "2021年"},
        entities=[{"entity": "reg_issue_date", "value": "2021年"}],
    )
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert events["reg_issue_date"] == "2021"
    assert dispatcher.messages[0]["response"] == "utter_reg_corrected"
    assert (dispatcher.messages[0]["label"], dispatcher.messages[0]["value"]) == ("证书签发日期", "2021年")


def test_the_same_value_again_is_not_announced_as_a_correction(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(
        tracker_factory,
        "2019年",
        "reg_inform",
        requested="reg_issue_date",
        previous={"reg_issue_date": "2019"},
        filled={"reg_issue_date": "2019年"},
    )
    bot.run(action, dispatcher, tracker, domain)
    assert dispatcher.messages == []


def test_a_certificate_date_in_the_future_is_refused(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(
        tracker_factory, "2027年", "reg_inform", requested="reg_issue_date", filled={"reg_issue_date": "2027年"}
    )
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert events["reg_issue_date"] is None
    assert dispatcher.messages[0]["response"] == "utter_reg_future_date"


@pytest.mark.parametrize("said", ["12", "150"])
def test_an_impossible_age_is_asked_again(bot, tracker_factory, dispatcher, domain, said):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(tracker_factory, said, "reg_inform", requested="reg_age", filled={"reg_age": said})
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert events["reg_age"] is None and dispatcher.messages[0]["response"] == "utter_reg_bad_age"
    assert events["requested_slot"] == "reg_age"


def test_unknown_choice_is_asked_again(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(
        tracker_factory,
        "我开出租车",
        "reg_inform",
        requested="reg_employer_type",
        filled={"reg_employer_type": "出租车公司"},
    )
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert events["reg_employer_type"] is None
    assert dispatcher.messages[0]["response"] == "utter_reg_not_understood"


def test_a_knowledge_question_inside_the_form_fills_nothing(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(
        tracker_factory,
        "延续注册多久批下来",
        "ask_knowledge",
        requested="reg_employer_type",
        slots={"reg_business_type": "re_registration"},
    )
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert set(events) == {"requested_slot"}  # so Rasa rejects the form and the question gets answered


def test_backend_down_while_choosing_the_question_ends_the_form(bot, tracker_factory, dispatcher, domain):
    action = form(bot, down=True)
    tracker = user_turn(tracker_factory, "帮我梳理一下注册步骤", "reg_plan_request", slots={"reg_goal": "plan"})
    assert slot_events(bot.run(action, dispatcher, tracker, domain))["requested_slot"] is None


# ---- answers -------------------------------------------------------------------------------------


def plan_action(bot, body=None, status=200, down=False):
    bot.reply(PLAN, body, status)
    return ActionRegistrationPlan(api=bot.client(RegistrationApi, down=down), today=lambda: TODAY)


def texts(dispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def test_hours_answer_gives_the_hours_and_why(bot, tracker_factory, dispatcher, domain):
    tracker = tracker_factory(
        slots={"reg_goal": "ce", "reg_business_type": "re_registration", "reg_issue_date": "2019"}
    )
    events = bot.run(plan_action(bot, CE_2019_RE_REGISTRATION), dispatcher, tracker, domain)
    reply = texts(dispatcher)
    assert "120学时" in reply and "60学时" in reply and "已超过三年" in reply
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/reg_plan_request"
    assert events == []


def test_not_eligible_answer_says_why(bot, tracker_factory, dispatcher, domain):
    tracker = tracker_factory(slots={"reg_goal": "eligibility", "reg_age": 66})
    bot.run(plan_action(bot, AGE_66), dispatcher, tracker, domain)
    reply = texts(dispatcher)
    assert "不符合申报条件" in reply and "年龄不超过65周岁" in reply
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/human_handoff"


def test_plan_is_a_short_summary_then_the_first_step_with_buttons(bot, tracker_factory, dispatcher, domain):
    tracker = tracker_factory(
        slots={"reg_goal": "plan", "reg_business_type": "renewal", "reg_age": 50, "reg_employer_type": "supervision"}
    )
    events = slot_events(bot.run(plan_action(bot, FULL_PLAN), dispatcher, tracker, domain))
    summary, first = dispatcher.messages
    assert "延续注册" in summary["text"] and "设区市建设主管部门" in summary["text"] and "估算" in summary["text"]
    assert first["text"].startswith("第1步（共3步）：确认已在系统完成个人实名认证")
    assert [b["payload"] for b in first["buttons"]] == ["/reg_step_detail", "/reg_next_step"]
    assert events["reg_step_index"] == 0 and len(events["reg_steps"]) == 3


def test_not_eligible_plan_has_no_steps(bot, tracker_factory, dispatcher, domain):
    events = slot_events(bot.run(plan_action(bot, AGE_66), dispatcher, tracker_factory(slots={"reg_age": 66}), domain))
    assert "不符合申报条件" in texts(dispatcher) and events["reg_steps"] is None


def test_backend_down_is_said_politely_with_a_way_out(bot, tracker_factory, dispatcher, domain):
    events = bot.run(
        plan_action(bot, down=True),
        dispatcher,
        tracker_factory(slots={"reg_goal": "ce"}),
        domain,
    )
    assert texts(dispatcher) == UNAVAILABLE
    assert dispatcher.messages[0]["buttons"] == [{"title": "转人工", "payload": "/human_handoff"}]
    assert events == []


def test_backend_refusal_shows_its_chinese_reason(bot, tracker_factory, dispatcher, domain):
    bot.run(
        plan_action(bot, {"detail": "提交日期早于证书签发日期"}, status=422),
        dispatcher,
        tracker_factory(slots={}),
        domain,
    )
    assert texts(dispatcher) == "提交日期早于证书签发日期"


def test_next_step_walks_through_the_plan(bot, tracker_factory, dispatcher, domain):
    steps = FULL_PLAN["steps"]
    events = slot_events(
        bot.run(
            ActionRegistrationNextStep(),
            dispatcher,
            tracker_factory(slots={"reg_steps": steps, "reg_step_index": 0}),
            domain,
        )
    )
    assert events == {"reg_step_index": 1}
    assert texts(dispatcher).startswith("第2步（共3步）：在系统个人版填写延续注册申请")


def test_last_step_has_no_next_button_and_then_the_end_is_said(bot, tracker_factory, dispatcher, domain):
    steps = FULL_PLAN["steps"]
    bot.run(
        ActionRegistrationNextStep(),
        dispatcher,
        tracker_factory(slots={"reg_steps": steps, "reg_step_index": 1}),
        domain,
    )
    assert "最后一步" in dispatcher.messages[0]["text"]
    assert "/reg_next_step" not in [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    bot.run(
        ActionRegistrationNextStep(),
        dispatcher,
        tracker_factory(slots={"reg_steps": steps, "reg_step_index": 2}),
        domain,
    )
    assert dispatcher.messages[1]["response"] == "utter_reg_all_steps_done"


def test_next_step_without_a_plan_offers_to_make_one(bot, tracker_factory, dispatcher, domain):
    bot.run(ActionRegistrationNextStep(), dispatcher, tracker_factory("下一步", slots={}), domain)
    assert dispatcher.messages[0]["response"] == "utter_reg_no_plan"


def test_a_follow_up_that_sounds_like_next_without_a_plan_is_a_question(bot, tracker_factory, dispatcher, domain):
    bot.reply(ANSWER, {"decision": "answer", "answer": "AI私塾是……", "question": "AI私塾是什么？"})
    knowledge = ActionAnswerQuestion(bot.client(KnowledgeApi), bot.client(RegistrationApi))
    bot.run(
        ActionRegistrationNextStep(knowledge=knowledge), dispatcher, tracker_factory("那AI私塾呢", slots={}), domain
    )
    assert bot.sent(ANSWER)[0]["question"] == "那AI私塾呢"
    assert dispatcher.messages[0]["text"] == "AI私塾是……"


def test_next_step_without_a_plan_offers_the_plan(bot, tracker_factory, dispatcher, domain):
    bot.run(ActionRegistrationNextStep(), dispatcher, tracker_factory("然后呢", slots={}), domain)
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/reg_plan_request"


def test_step_detail_explains_the_current_step_with_its_source(bot, tracker_factory, dispatcher, domain):
    bot.run(
        ActionRegistrationStepDetail(),
        dispatcher,
        tracker_factory(slots={"reg_steps": FULL_PLAN["steps"], "reg_step_index": 2}),
        domain,
    )
    reply = texts(dispatcher)
    assert "进度查询" in reply and "依据：受理时限第2条、受理时限第3条" in reply


# ---- the domain matches the actions --------------------------------------------------------------


def test_every_slot_the_form_may_ask_for_has_a_question(domain):
    required = domain["forms"]["registration_plan_form"]["required_slots"]
    assert set(SLOT_FOR_FIELD.values()) == set(required)
    for slot in required:
        assert f"utter_ask_{slot}" in domain["responses"]


@pytest.mark.parametrize(
    "response",
    [
        "utter_reg_corrected",
        "utter_reg_bad_date",
        "utter_reg_future_date",
        "utter_reg_bad_age",
        "utter_reg_not_understood",
        "utter_reg_no_plan",
        "utter_reg_all_steps_done",
        "utter_reg_stopped",
    ],
)
def test_responses_the_actions_use_exist(domain, response):
    assert response in domain["responses"]


def test_actions_are_declared(bot, domain):
    for name in (
        "validate_registration_plan_form",
        "action_registration_plan",
        "action_registration_next_step",
        "action_registration_step_detail",
    ):
        assert name in domain["actions"]


# ---- a personal question asked outright -------------------------------------------------------------


GENERAL_ANSWER = {
    "decision": "answer",
    "answer": "二级建造师申请初始、重新注册时……主项120学时，增项60学时。",
    "faq_id": "ce_required",
    "question": "初始、重新注册要多少继续教育学时？",
    "source": {"title": "注意事项第14条"},
}


def question_action(bot, plan, knowledge_answer=GENERAL_ANSWER):
    """action_registration_question with the real knowledge action, both against the fake bot/."""
    bot.reply(PLAN, plan)
    bot.reply(ANSWER, knowledge_answer)
    knowledge = ActionAnswerQuestion(bot.client(KnowledgeApi), bot.client(RegistrationApi))
    return ActionRegistrationQuestion(bot.client(RegistrationApi), knowledge, today=lambda: TODAY)


def test_a_personal_question_with_every_fact_is_answered_for_that_case(bot, tracker_factory, dispatcher, domain):
    action = question_action(bot, CE_2019_RE_REGISTRATION)
    events = bot.run(
        action,
        dispatcher,
        tracker_factory("我证书2019年发的，现在想重新注册，要学多少学时？", intent="reg_ask_ce"),
        domain,
    )
    assert "已超过三年" in dispatcher.messages[0]["text"] and "120学时" in dispatcher.messages[0]["text"]
    assert bot.sent(ANSWER) == [], "their own case needs no general answer"
    sent = bot.sent(PLAN)[0]
    assert sent["certificate_issue_date"] == "2019" and sent["business_type"] == "re_registration"
    assert slot_events(events)["reg_goal"] == "ce"


def test_a_personal_question_missing_a_fact_gets_the_general_rule_at_once(bot, tracker_factory, dispatcher, domain):
    plan = {
        **CE_2019_RE_REGISTRATION,
        "questions": [{"field": "certificate_issue_date", "needed_for": ["continuing_education"]}],
    }
    action = question_action(bot, plan)
    events = bot.run(
        action, dispatcher, tracker_factory("我爸十几年前考的证 重新注册要学多少学时", intent="reg_ask_ce"), domain
    )
    assert [b["question"] for b in bot.sent(ANSWER)] == ["我爸十几年前考的证 重新注册要学多少学时"]
    assert "120学时" in dispatcher.messages[0]["text"], "answered, not questioned"
    assert "签发日期" in dispatcher.messages[-1]["text"], "then what would settle their own case"
    assert slot_events(events)["reg_goal"] == "ce", "the date they give next works out their case"


def test_no_hint_follows_a_decline(bot, tracker_factory, dispatcher, domain):
    plan = {**CE_2019_RE_REGISTRATION, "questions": [{"field": "age", "needed_for": ["eligibility"]}]}
    declined = {"decision": "decline", "gap": "over_age", "answer": "抱歉，资料没有写超龄以后已有注册的处理办法。"}
    action = question_action(bot, plan, declined)
    bot.run(action, dispatcher, tracker_factory("过了65岁以后证书还有效吗", intent="reg_ask_eligibility"), domain)
    assert len(dispatcher.messages) == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("一建没考过也没实名过", False),
        ("一建实名认证办过了", True),
        ("以前做过一建的实名认证", True),
        ("证书2019年发的", None),
    ],
)
def test_first_class_authentication_said_in_a_sentence(text, expected):
    assert parse_first_class_auth(text) is expected


def test_relative_years_count_from_today():
    assert parse_issue_date("证书今年3月发的", TODAY) == "2026-03"
    assert parse_issue_date("去年拿的证", TODAY) == "2025"
    assert parse_issue_date("我今年45", TODAY) is None, "an age, not a date"


# ---- the words are bot/'s ---------------------------------------------------------------------------


def test_the_answer_to_the_business_question_is_read_by_bot(bot, tracker_factory, dispatcher, domain):
    """ "换公司" was missing from the action server's own list; bot/ reads it now, for every question."""
    action = form(bot, CE_2019_RE_REGISTRATION)
    tracker = user_turn(
        tracker_factory,
        "我想换公司",
        "nlu_fallback",
        requested="reg_business_type",
        slots={"reg_goal": "plan"},
        previous={"reg_business_type": "re_registration"},
    )
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert events["reg_business_type"] == "change_employer"
    assert {"text": "我想换公司", "answer_to": "business_type"} in bot.sent(MATCH)
    assert (dispatcher.messages[0]["label"], dispatcher.messages[0]["value"]) == ("业务类型", "换单位"), (
        "the correction names the business as users say it (bot/'s said_as)"
    )
    assert bot.sent(PLAN)[-1]["business_type"] == "change_employer"


def test_words_are_not_read_while_bot_cannot_be_reached(bot, tracker_factory, dispatcher, domain):
    action = form(bot, CE_2019_RE_REGISTRATION, down=True)
    tracker = user_turn(tracker_factory, "我想换公司", "reg_inform", requested="reg_business_type")
    events = slot_events(bot.run(action, dispatcher, tracker, domain))
    assert events == {"requested_slot": None}, "nothing guessed, and the form stops asking"
