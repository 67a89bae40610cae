"""action_answer_question: answer with its source, suggest buttons, decline, backend down.

bot/ is played at the HTTP boundary by tests/actions/fake_bot.py (the action's clients are the real ones).
"""

import asyncio
import time

import pytest
from fake_bot import FakeBot
from rasa_sdk.events import SlotSet

from actions.api.knowledge import KnowledgeApi
from actions.api.registration import RegistrationApi
from actions.knowledge import UNAVAILABLE, ActionAnswerQuestion

ANSWER_PATH = "/api/knowledge/answer"
MATCH_PATH = "/api/registration/match"

ANSWER = {
    "decision": "answer",
    "answer": "证件照大小必须在30KB以内。",
    "faq_id": "photo_rules",
    "question": "证件照有什么要求？",
    "source": {"title": "注意事项第2条", "section": "guide#notes-2"},
}


@pytest.fixture
def bot():
    fake = FakeBot()
    yield fake
    fake.close()


def run(bot, tracker, dispatcher, domain, down=False):
    action = ActionAnswerQuestion(bot.client(KnowledgeApi, down=down), bot.client(RegistrationApi))
    return bot.run(action, dispatcher, tracker, domain)


def test_answer_is_uttered_with_its_source_and_remembered_as_context(bot, dispatcher, tracker_factory, domain):
    bot.reply(ANSWER_PATH, ANSWER)
    events = run(bot, tracker_factory("照片多大"), dispatcher, domain)
    assert bot.sent(ANSWER_PATH) == [{"question": "照片多大", "sender": "test-user", "channel": "web"}]
    assert dispatcher.messages[0]["text"] == "证件照大小必须在30KB以内。\n来源：注意事项第2条"
    assert dispatcher.messages[0]["custom"]["faq_id"] == "photo_rules"
    assert SlotSet("last_question", "证件照有什么要求？") in events


def test_follow_up_sends_the_previous_question_as_context(bot, dispatcher, tracker_factory, domain):
    bot.reply(ANSWER_PATH, ANSWER)
    run(bot, tracker_factory("那企业呢", slots={"last_question": "个人实名认证怎么做"}), dispatcher, domain)
    assert bot.sent(ANSWER_PATH) == [
        {"question": "那企业呢", "context_question": "个人实名认证怎么做", "sender": "test-user", "channel": "web"}
    ]


def test_a_moderately_sure_answer_offers_the_next_questions_as_buttons(bot, dispatcher, tracker_factory, domain):
    bot.reply(
        ANSWER_PATH,
        {
            **ANSWER,
            "suggestions": [
                {"faq_id": "phone_change", "question": "怎么修改手机号？"},
                {"faq_id": "password_reset", "question": "忘记密码怎么办？"},
            ],
        },
    )
    run(bot, tracker_factory("照片多大"), dispatcher, domain)
    assert "30KB" in dispatcher.messages[0]["text"], "the answer comes first"
    assert dispatcher.messages[1]["text"] == "您可能还想问："
    buttons = dispatcher.messages[1]["buttons"]
    assert [b["title"] for b in buttons] == ["怎么修改手机号？", "忘记密码怎么办？"]
    assert buttons[0]["payload"] == '/ask_knowledge{"faq_id":"phone_change"}'


def test_a_gap_is_declined_with_its_reason_and_a_person(bot, dispatcher, tracker_factory, domain):
    bot.reply(
        ANSWER_PATH,
        {
            "decision": "decline",
            "gap": "guakao",
            "answer": "抱歉，资料里没有关于证书挂靠的内容。我不能凭猜测回答，需要的话请回复“转人工”。",
        },
    )
    run(bot, tracker_factory("证能挂靠吗"), dispatcher, domain)
    message = dispatcher.messages[0]
    assert "挂靠" in message["text"] and message["buttons"] == [{"title": "转人工", "payload": "/human_handoff"}]
    assert message["custom"] == {"type": "declined", "question": "证能挂靠吗", "gap": "guakao"}


def test_several_questions_are_answered_in_the_order_asked(bot, dispatcher, tracker_factory, domain):
    bot.reply(
        ANSWER_PATH,
        {
            "decision": "answer",
            "parts": [
                {**ANSWER, "asked": "证件照多大"},
                {
                    "decision": "decline",
                    "gap": "guakao",
                    "asked": "能挂靠吗",
                    "answer": "抱歉，资料里没有关于证书挂靠的内容。",
                },
            ],
        },
    )
    events = run(bot, tracker_factory("证件照多大 另外能挂靠吗"), dispatcher, domain)
    first, second = dispatcher.messages
    assert first["text"].startswith("1. 关于“证件照多大”") and "30KB" in first["text"] and "来源：" in first["text"]
    assert second["text"].startswith("2. 关于“能挂靠吗”") and "挂靠" in second["text"]
    assert second["buttons"][-1]["title"] == "转人工"
    assert SlotSet("last_question", ANSWER["question"]) in events


def test_every_question_answered_in_one_message_is_context_for_the_next(bot, dispatcher, tracker_factory, domain):
    bot.reply(
        ANSWER_PATH,
        {
            "decision": "answer",
            "parts": [
                {**ANSWER, "asked": "证件照多大"},
                {**ANSWER, "faq_id": "time_renewal_added", "question": "延续注册多久审批？", "asked": "延续多久"},
            ],
        },
    )
    events = run(bot, tracker_factory("证件照多大 延续多久"), dispatcher, domain)
    assert SlotSet("last_question", "证件照有什么要求？ 延续注册多久审批？") in events


def test_a_message_about_something_else_is_redirected_not_answered(bot, dispatcher, tracker_factory, domain):
    bot.reply(ANSWER_PATH, {**ANSWER, "answer": "官方定价：全科¥6280", "confidence": 0.56})
    run(bot, tracker_factory("驾校报名多少钱", intent="out_of_scope"), dispatcher, domain)
    assert "帮不上忙" in dispatcher.messages[0]["text"] and "6280" not in dispatcher.messages[0]["text"]


def test_a_question_nlu_took_for_something_else_is_answered_when_the_knowledge_base_is_very_sure(
    bot, dispatcher, tracker_factory, domain
):
    bot.reply(ANSWER_PATH, {**ANSWER, "confidence": 0.97})
    run(bot, tracker_factory("帮我妈传材料 证件照要多大的", intent="out_of_scope"), dispatcher, domain)
    assert "30KB" in dispatcher.messages[0]["text"]


def test_an_answer_typed_inside_a_form_is_left_to_the_form(bot, dispatcher, tracker_factory, domain):
    assert (
        run(bot, tracker_factory("无忧取证班 全科 实务考建筑", active_loop="enrollment_form"), dispatcher, domain) == []
    )
    assert bot.requests == [] and not dispatcher.messages


def test_clicked_suggestion_is_answered_by_id(bot, dispatcher, tracker_factory, domain):
    bot.reply(ANSWER_PATH, ANSWER)
    run(
        bot,
        tracker_factory("/ask_knowledge", entities=[{"entity": "faq_id", "value": "photo_rules"}]),
        dispatcher,
        domain,
    )
    assert bot.sent(ANSWER_PATH) == [{"faq_id": "photo_rules"}]


def test_nothing_relevant_is_declined_honestly_with_a_way_to_a_person(bot, dispatcher, tracker_factory, domain):
    bot.reply(ANSWER_PATH, {"decision": "decline"})
    run(bot, tracker_factory("明天天气怎么样"), dispatcher, domain)
    message = dispatcher.messages[0]
    assert "没有找到" in message["text"] and message["buttons"][-1]["title"] == "转人工"


def test_a_decline_names_the_nearest_questions_when_there_are_some(bot, dispatcher, tracker_factory, domain):
    bot.reply(
        ANSWER_PATH,
        {
            "decision": "decline",
            "suggestions": [
                {"faq_id": "error_no_qualification", "question": "提示“资格库中目前没有您的数据”怎么办？"},
                {"faq_id": "phone_change", "question": "怎么修改手机号？"},
            ],
        },
    )
    run(bot, tracker_factory("一点注册就弹窗说库里没有我的数据，救命"), dispatcher, domain)
    message = dispatcher.messages[0]
    assert "没有找到确切的答案" in message["text"], "it still says plainly that there is no answer"
    assert [b["title"] for b in message["buttons"]] == [
        "提示“资格库中目前没有您的数据”怎么办？",
        "怎么修改手机号？",
        "转人工",
    ]
    assert message["buttons"][0]["payload"] == '/ask_knowledge{"faq_id":"error_no_qualification"}'
    assert message["custom"]["type"] == "declined"


@pytest.mark.parametrize("how", ["down", "slow", "failing"])
def test_backend_down_is_a_polite_reply(bot, dispatcher, tracker_factory, domain, how):
    if how == "slow":
        bot.reply(ANSWER_PATH, ANSWER, delay=3)  # past the client's 2 s timeout
    elif how == "failing":
        bot.reply(ANSWER_PATH, {"detail": "boom"}, status=503)
    events = run(bot, tracker_factory("照片多大"), dispatcher, domain, down=how == "down")
    assert dispatcher.messages[0]["text"] == UNAVAILABLE
    assert dispatcher.messages[0]["buttons"] == [{"title": "转人工", "payload": "/human_handoff"}]
    assert SlotSet("last_question", "证件照有什么要求？") not in events


def test_rejected_question_shows_the_reason(bot, dispatcher, tracker_factory, domain):
    bot.reply(ANSWER_PATH, {"detail": "问题太长了，请精简后再问。"}, status=422)
    run(bot, tracker_factory("证" * 2000), dispatcher, domain)
    assert dispatcher.messages[0]["text"] == "问题太长了，请精简后再问。"


def test_a_follow_up_after_a_registration_plan_has_the_business_as_context(bot, dispatcher, tracker_factory, domain):
    bot.reply(ANSWER_PATH, ANSWER)
    bot.reply(
        MATCH_PATH,
        {"business_type": {"code": "change_employer", "name": "变更聘用单位（先注销再重新注册）", "said_as": "换单位"}},
    )
    events = [{"event": "slot", "name": "reg_business_type", "value": "change_employer"}]
    run(bot, tracker_factory("多久能批", events=events), dispatcher, domain)
    assert bot.sent(MATCH_PATH) == [{"text": "change_employer", "answer_to": "business_type"}]
    assert bot.sent(ANSWER_PATH)[0]["context_question"] == "换单位", "the business as users say it"


def test_a_slow_answer_does_not_hold_up_other_conversations(bot, tracker_factory, domain):
    """The action is async: while bot/ takes 0.5 s over one answer, the others are asked meanwhile."""
    from rasa_sdk.executor import CollectingDispatcher

    bot.reply(ANSWER_PATH, ANSWER, delay=0.5)
    action = ActionAnswerQuestion(bot.client(KnowledgeApi), bot.client(RegistrationApi))
    dispatchers = [CollectingDispatcher() for _ in range(4)]

    async def four_users():
        started = time.monotonic()
        try:
            await asyncio.gather(
                *(action.run(d, tracker_factory("照片多大", sender=f"u{n}"), domain) for n, d in enumerate(dispatchers))
            )
        finally:
            await action.api.aclose()
            await action.registration.aclose()
        return time.monotonic() - started

    assert asyncio.run(four_users()) < 1.5, "four 0.5 s answers one after another would take 2 s"
    assert all("30KB" in d.messages[0]["text"] for d in dispatchers)
