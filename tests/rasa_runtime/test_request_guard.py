"""A form starts only when the user asks for what it does (rasa_runtime/request_rules.py, applied by
rasa_runtime/request_guard.py in the NLU pipeline)."""

import pytest

from rasa_runtime.request_rules import guarded


@pytest.mark.parametrize(
    "text, intent",
    [
        ("帮我推荐一下", "ask_recommendation"),
        ("零基础报哪个班合适", "ask_recommendation"),
        ("我要报名", "enroll"),
        ("给我报个无忧取证班", "enroll"),
        ("让顾问给我回个电话", "request_callback"),
        ("帮我梳理一下注册步骤", "reg_plan_request"),
        ("/enroll", "enroll"),  # a button names its intent
    ],
)
def test_a_request_that_says_what_it_wants_keeps_its_intent(text, intent):
    assert guarded(text, intent) == intent


@pytest.mark.parametrize(
    "text, intent",
    [
        ("选的就是福建 还是不行", "ask_recommendation"),
        ("证书2019年发的 延续多久能好", "enroll"),
        ("那个资料库没有我的数据", "request_callback"),
    ],
)
def test_a_form_intent_without_the_words_of_its_request_goes_to_the_knowledge_base(text, intent):
    assert guarded(text, intent) == "ask_knowledge"


def test_a_situation_and_which_class_fits_is_a_recommendation_request():
    assert guarded("考了两次了都没过 你们哪个班适合我", "ask_knowledge") == "ask_recommendation"
    assert guarded("无忧取证班适合什么人", "ask_knowledge") == "ask_knowledge", "asks about the package, not for advice"
    assert guarded("证件照有什么要求", "ask_knowledge") == "ask_knowledge"


def test_a_request_for_ones_own_plan_is_a_plan_request():
    assert guarded("帮我梳理一下该怎么办注册 刚考过二建 要办初始注册 29岁", "reg_ask_eligibility") == "reg_plan_request"
    assert guarded("我66岁了还能注册吗", "reg_ask_eligibility") == "reg_ask_eligibility"
    # how to go about it, with a fact of one's own case: a plan, whatever DIET was torn between
    for heard in ("reg_plan_request", "reg_inform", "nlu_fallback", "ask_knowledge"):
        assert guarded("帮我爸看看注册要怎么弄 他要换单位 从监理公司跳到施工单位 58岁", heard) == "reg_plan_request"
    assert guarded("注册要怎么弄", "ask_knowledge") == "ask_knowledge", "no case of one's own"
    assert (
        guarded("主项考了一建 增项拿证三年了 现在增项当主项重新注册 继续教育咋弄", "ask_knowledge") == "ask_knowledge"
    ), "how to go about one topic, continuing education, is a question"


def test_a_rule_that_matches_confirms_a_weak_intent():
    from rasa_runtime.request_rules import decide

    assert decide("平时工作很忙 现场经验基本没有 哪个班适合我", "ask_recommendation") == ("ask_recommendation", True)
    assert decide("我要报名", "enroll") == ("enroll", False), "NLU's own score stands"


def test_an_elliptical_follow_up_is_a_question_not_facts_for_a_form():
    assert guarded("增项呢", "reg_inform") == "ask_knowledge"
    assert guarded("那延续的呢", "reg_inform") == "ask_knowledge"
    assert guarded("2019年", "reg_inform") == "reg_inform"


def test_facts_of_ones_own_case_that_ask_nothing_are_facts_for_the_plan():
    assert guarded("证书2019年3月发的 一建没弄过", "ask_knowledge") == "reg_inform"
    assert guarded("证书2019年发的 要学多少学时", "ask_knowledge") == "ask_knowledge", "a question"
    assert guarded("那我儿子34岁 刚考下来 初始注册多久批下来", "ask_knowledge") == "ask_knowledge", "a question"


def test_a_question_about_a_named_business_is_not_a_plan_request():
    assert (
        guarded("刚考过二建市政 单位是施工企业 我32岁 想办初始注册 审批要多久", "reg_plan_request") == "ask_knowledge"
    )
    assert guarded("我想注销二建，帮我看看怎么办", "reg_plan_request") == "reg_plan_request"


def test_facts_of_a_case_with_a_question_about_it_are_a_question():
    text = "我爸62岁 证考下来好多年了 现在一家监理公司返聘他 想注册二建 年龄上有没有问题"
    assert guarded(text, "reg_inform") == "ask_knowledge"
    assert guarded("证书2015年发的 主项 市政 一建没有", "reg_inform") == "reg_inform", "facts only"


def test_a_plan_for_studying_is_a_question_about_the_courses():
    text = "您好，我年纪大了，还不太清楚考试是怎么回事，想先有人讲讲考试情况和怎么规划复习，有这种课吗"
    assert guarded(text, "reg_plan_request") == "ask_knowledge"
    assert guarded("我刚考过二建，想初始注册，帮我规划一下", "reg_plan_request") == "reg_plan_request"


def test_a_question_that_sounds_like_yes_or_no_is_a_question():
    assert guarded("是不是所有人都要学啊", "deny") == "ask_knowledge"
    assert guarded("好的 那单科要多少钱", "affirm") == "ask_knowledge"
    assert guarded("不是", "deny") == "deny"
    assert guarded("不用了 谢谢", "deny") == "deny"
    assert guarded("对的 没错 就是这个", "affirm") == "affirm"


def test_signing_up_without_a_question_is_an_enrollment():
    assert guarded("报AI私塾班 施工管理单科", "ask_knowledge") == "enroll"
    assert guarded("还是报无忧吧 全科 建筑实务", "nlu_fallback") == "enroll"
    assert guarded("报AI私塾班多少钱", "ask_knowledge") == "ask_knowledge", "a question about it"
    assert guarded("AI私塾班", "inform") == "inform", "the answer to a form's question stays"


def test_a_price_asked_while_signing_up_is_answered_first():
    assert guarded("这次想直接报全科，你们无忧取证班全科多少钱？", "enroll") == "ask_knowledge"
    assert guarded("我想报AI私塾班 学费怎么收", "enroll") == "ask_knowledge"
    assert guarded("我要报名无忧取证班", "enroll") == "enroll", "no question: the form starts"
    assert guarded("怎么报名无忧取证班", "enroll") == "enroll", "how to enroll is the enrollment itself"


def test_the_component_replaces_the_intent_and_puts_it_first_in_the_ranking():
    # Imported here: Rasa's engine modules change asyncio for the action tests collected with these.
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    from rasa_runtime.request_guard import RequestGuard

    message = Message({TEXT: "选的就是福建 还是不行"})
    message.set(INTENT, {"name": "ask_recommendation", "confidence": 0.8})
    message.set(
        INTENT_RANKING_KEY,
        [{"name": "ask_recommendation", "confidence": 0.8}, {"name": "ask_knowledge", "confidence": 0.15}],
    )
    RequestGuard().process([message])
    assert message.get(INTENT) == {"name": "ask_knowledge", "confidence": 1.0}
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking] == ["ask_knowledge", "ask_recommendation"]
    assert ranking[1]["confidence"] == 0.0, "no tie for the FallbackClassifier to call ambiguous"
    untouched = Message({TEXT: "我要报名"})
    untouched.set(INTENT, {"name": "enroll", "confidence": 0.9})
    RequestGuard().process([untouched])
    assert untouched.get(INTENT)["name"] == "enroll"


def test_the_guard_keeps_the_intent_of_every_training_example():
    """The rules only catch what DIET gets wrong: on the project's own examples they agree with it."""
    import re
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    changed = []
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = block.get("intent")
            for line in (block.get("examples") or "").splitlines() if intent else ():
                if line.strip().startswith("- "):
                    text = re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", line.strip()[2:])
                    if guarded(text, intent) != intent:
                        changed.append((intent, text))
    assert changed == []
