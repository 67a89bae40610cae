"""action_answer_question: answer with its source, suggest buttons, decline, backend down."""

from unittest.mock import MagicMock

from rasa_sdk.events import SlotSet

from actions.api.base import BackendRejected, BackendUnavailable
from actions.knowledge import ActionAnswerQuestion

ANSWER = {
    "decision": "answer",
    "answer": "证件照大小必须在30KB以内。",
    "faq_id": "photo_rules",
    "question": "证件照有什么要求？",
    "source": {"title": "注意事项第2条", "section": "guide#notes-2"},
}


def run(api, tracker, dispatcher, domain):
    return ActionAnswerQuestion(api).run(dispatcher, tracker, domain)


def test_answer_is_uttered_with_its_source_and_remembered_as_context(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.return_value = ANSWER
    events = run(api, tracker_factory("照片多大"), dispatcher, domain)
    api.answer.assert_called_once_with("照片多大", context_question=None, sender="test-user")
    assert dispatcher.messages[0]["text"] == "证件照大小必须在30KB以内。\n来源：注意事项第2条"
    assert dispatcher.messages[0]["custom"]["faq_id"] == "photo_rules"
    assert SlotSet("last_question", "证件照有什么要求？") in events


def test_follow_up_sends_the_previous_question_as_context(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.return_value = ANSWER
    run(api, tracker_factory("那企业呢", slots={"last_question": "个人实名认证怎么做"}), dispatcher, domain)
    api.answer.assert_called_once_with("那企业呢", context_question="个人实名认证怎么做", sender="test-user")


def test_a_moderately_sure_answer_offers_the_next_questions_as_buttons(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.return_value = {
        **ANSWER,
        "suggestions": [
            {"faq_id": "phone_change", "question": "怎么修改手机号？"},
            {"faq_id": "password_reset", "question": "忘记密码怎么办？"},
        ],
    }
    run(api, tracker_factory("照片多大"), dispatcher, domain)
    assert "30KB" in dispatcher.messages[0]["text"], "the answer comes first"
    assert dispatcher.messages[1]["text"] == "您可能还想问："
    buttons = dispatcher.messages[1]["buttons"]
    assert [b["title"] for b in buttons] == ["怎么修改手机号？", "忘记密码怎么办？"]
    assert buttons[0]["payload"] == '/ask_knowledge{"faq_id":"phone_change"}'


def test_a_gap_is_declined_with_its_reason_and_a_person(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.return_value = {
        "decision": "decline",
        "gap": "guakao",
        "answer": "抱歉，资料里没有关于证书挂靠的内容。我不能凭猜测回答，需要的话请回复“转人工”。",
    }
    run(api, tracker_factory("证能挂靠吗"), dispatcher, domain)
    message = dispatcher.messages[0]
    assert "挂靠" in message["text"] and message["buttons"] == [{"title": "转人工", "payload": "/human_handoff"}]
    assert message["custom"] == {"type": "declined", "question": "证能挂靠吗", "gap": "guakao"}


def test_several_questions_are_answered_in_the_order_asked(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.return_value = {
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
    }
    events = run(api, tracker_factory("证件照多大 另外能挂靠吗"), dispatcher, domain)
    first, second = dispatcher.messages
    assert first["text"].startswith("1. 关于“证件照多大”") and "30KB" in first["text"] and "来源：" in first["text"]
    assert second["text"].startswith("2. 关于“能挂靠吗”") and "挂靠" in second["text"]
    assert second["buttons"][-1]["title"] == "转人工"
    assert SlotSet("last_question", ANSWER["question"]) in events


def test_every_question_answered_in_one_message_is_context_for_the_next(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.return_value = {
        "decision": "answer",
        "parts": [
            {**ANSWER, "asked": "证件照多大"},
            {**ANSWER, "faq_id": "time_renewal_added", "question": "延续注册多久审批？", "asked": "延续多久"},
        ],
    }
    events = run(api, tracker_factory("证件照多大 延续多久"), dispatcher, domain)
    assert SlotSet("last_question", "证件照有什么要求？ 延续注册多久审批？") in events


def test_a_message_about_something_else_is_redirected_not_answered(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.return_value = {**ANSWER, "answer": "官方定价：全科¥6280", "confidence": 0.56}
    run(api, tracker_factory("驾校报名多少钱", intent="out_of_scope"), dispatcher, domain)
    assert "帮不上忙" in dispatcher.messages[0]["text"] and "6280" not in dispatcher.messages[0]["text"]


def test_a_question_nlu_took_for_something_else_is_answered_when_the_knowledge_base_is_very_sure(
    dispatcher, tracker_factory, domain
):
    api = MagicMock()
    api.answer.return_value = {**ANSWER, "confidence": 0.97}
    run(api, tracker_factory("帮我妈传材料 证件照要多大的", intent="out_of_scope"), dispatcher, domain)
    assert "30KB" in dispatcher.messages[0]["text"]


def test_an_answer_typed_inside_a_form_is_left_to_the_form(dispatcher, tracker_factory, domain):
    api = MagicMock()
    assert (
        run(api, tracker_factory("无忧取证班 全科 实务考建筑", active_loop="enrollment_form"), dispatcher, domain) == []
    )
    api.answer.assert_not_called()
    assert not dispatcher.messages


def test_clicked_suggestion_is_answered_by_id(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer_by_id.return_value = ANSWER
    run(
        api,
        tracker_factory("/ask_knowledge", entities=[{"entity": "faq_id", "value": "photo_rules"}]),
        dispatcher,
        domain,
    )
    api.answer_by_id.assert_called_once_with("photo_rules")
    api.answer.assert_not_called()


def test_nothing_relevant_is_declined_honestly_with_a_way_to_a_person(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.return_value = {"decision": "decline"}
    run(api, tracker_factory("明天天气怎么样"), dispatcher, domain)
    message = dispatcher.messages[0]
    assert "没有找到" in message["text"] and message["buttons"][-1]["title"] == "转人工"


def test_a_decline_names_the_nearest_questions_when_there_are_some(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.return_value = {
        "decision": "decline",
        "suggestions": [
            {"faq_id": "error_no_qualification", "question": "提示“资格库中目前没有您的数据”怎么办？"},
            {"faq_id": "phone_change", "question": "怎么修改手机号？"},
        ],
    }
    run(api, tracker_factory("一点注册就弹窗说库里没有我的数据，救命"), dispatcher, domain)
    message = dispatcher.messages[0]
    assert "没有找到确切的答案" in message["text"], "it still says plainly that there is no answer"
    assert [b["title"] for b in message["buttons"]] == [
        "提示“资格库中目前没有您的数据”怎么办？",
        "怎么修改手机号？",
        "转人工",
    ]
    assert message["buttons"][0]["payload"] == '/ask_knowledge{"faq_id":"error_no_qualification"}'
    assert message["custom"]["type"] == "declined"


def test_backend_down_is_a_polite_reply(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.side_effect = BackendUnavailable("timeout")
    events = run(api, tracker_factory("照片多大"), dispatcher, domain)
    assert "暂时无法访问" in dispatcher.messages[0]["text"]
    assert SlotSet("last_question", "证件照有什么要求？") not in events


def test_rejected_question_shows_the_reason(dispatcher, tracker_factory, domain):
    api = MagicMock()
    api.answer.side_effect = BackendRejected(422, "问题太长了，请精简后再问。")
    run(api, tracker_factory("证" * 2000), dispatcher, domain)
    assert dispatcher.messages[0]["text"] == "问题太长了，请精简后再问。"
