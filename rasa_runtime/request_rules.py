"""A form starts only when the user asks for what it does.

DIET reads intents from how a message sounds, and a long message about one's situation sounds much
like a request: "选的就是福建 还是不行" came out as a recommendation request, "证书2019年发的" as an
enrollment. A form that starts on such a message interrogates a user who asked a question. So a
form-starting intent is kept only when the message holds a word of that request (推荐/适合/报哪个
for a recommendation, 报/买/上课 for an enrollment, 电话/回电/联系 for a call-back, 梳理/步骤/办理
for a registration plan); otherwise the message goes to the knowledge base (ask_knowledge), which
answers it or says plainly that it cannot. The other way round, a question that describes the
asker's situation and asks which class fits ("考了两次都没过 哪个班适合我") is a recommendation
request even when DIET heard a knowledge question.

`guarded(text, intent)` is the rule, on the text as the user wrote it; rasa_runtime/request_guard.py
applies it in the NLU pipeline, after DIET and before the FallbackClassifier (config.yml).
"""

from __future__ import annotations

import re

# The words without which a message does not ask for what the form does.
REQUEST_WORDS: dict[str, re.Pattern] = {
    "ask_recommendation": re.compile(
        r"推荐|推存|推建|tuijian|适合|合适|报哪|选哪|哪个班|哪个套餐|哪种班|什么班|选什么|报什么|建议|"
        r"怎么选|挑|参谋|哪个好|哪个更好|选课|报班|选(一个|个|一下)?班|报.{0,10}还是|还是.{0,4}(无忧|ai|私塾)",
        re.I,
    ),
    "enroll": re.compile(r"报|买|上课|参加|培训|交钱|付款|下单|baoming|保名|入学"),
    # ("请问材料要和填写的一致吗" is about the registration materials, not the two packages)
    "compare_packages": re.compile(
        r"对比|比较|比比|区别|差别|差在|差多少|不同|不一样|哪个|选哪|怎么选|优缺点|好在哪|划算|vs|duibi", re.I
    ),
    "ask_why_recommendation": re.compile(r"推荐|推存|适合|理由|原因|为啥|为什么|凭啥|凭什么|怎么就|咋就"),
    "request_callback": re.compile(r"电话|回电|回拨|联系|打给|打来|打过来|致电|顾问|找人|call", re.I),
    # (not 注册/办理 alone: "想办初始注册 审批要多久" asks for a time limit, not for a plan)
    "reg_plan_request": re.compile(
        r"梳理|步骤|流程|方案|规划|清单|一步|带我|捋|理一下|理理|怎么办|怎么弄|咋办|咋弄|怎么注册|"
        r"怎么操作|怎么做|怎么换|怎么申请|怎么注侧|安排|帮(我|偶)看(看|下)|要做什么|做哪些|干啥|干嘛|手续|"
        r"开始|准备什么|先做什么|从哪"
    ),
}
# "which class fits me", with a fact about the asker: a recommendation request.
_WHICH_FITS = re.compile(
    r"(哪个|什么|哪种|哪一个|哪)(班|套餐|课)?.{0,3}(适合|合适)|适合(报)?(哪个|什么|哪种|哪一个)|"
    r"(报|选)(哪个|什么|哪种|哪一个)(班|套餐|课)?|推荐(个|一个|一下|下)?(班|套餐|课)"
)
_ABOUT_ME = re.compile(
    r"零基础|0基础|小白|基础|没过|没通过|没考过|考(了|过).{0,3}(次|年)|差.{0,2}分|挂|忙|加班|出差|没时间|"
    r"现场|工地|经验|第一次考|刚毕业|转行|外行|上班族"
)
# "帮我梳理一下…", "一步步带我办": the whole plan for one's own case.
_PLAN = re.compile(
    r"梳理|一步步|一步一步|带我(走|办|弄)|捋一捋|捋捋|理一下|理理|规划一下|办理清单|列个清单|列一下步骤|注册方案"
)
# "注册要怎么弄", "帮我爸看看": how to go about the registration as a whole (not "继续教育咋弄": a topic).
_HOW_TO_REGISTER = re.compile(r"注册(要|该|应该|得)?(怎么|咋|如何)(弄|办|走|搞|操作|做)|帮.{0,3}看(看|下|一下)")
# "报AI私塾班 施工管理单科", "还是报无忧吧 全科": signing up, said without a question.
_SIGN_UP = re.compile(
    r"^(我要|我想|我决定|帮我|给我|直接|就|那就|还是|那)?(报名|报|买)(个|一个|一下)?\s*(无忧|ai|私塾|全科|单科|建筑|"
    r"市政|机电|公路|水利|施工管理|法规)",
    re.I,
)
_ASKS = re.compile(
    r"[吗嘛呢？?]|多少|多久|多长|几|什么|啥|谁|怎么|咋|哪|如何|是否|是不是|有没有|能不能|可不可以|要不要|需不需要|"
    r"用不用|算算|算一下|[不没][。!！]*$"
)
# "想直接报全科 无忧取证班全科多少钱": a price asked while signing up is asked first; the enrollment
# form would ask for the specialty and leave the price unsaid.
_PRICE_ASKED = re.compile(r"多少钱|多少米|几块|价格|价钱|费用|学费|收费|怎么收|贵不贵|优惠|打折|便宜")
# "增项呢", "那延续的呢": a follow-up about the last topic, not facts for a form.
_ELLIPSIS = re.compile(r"^(那|那么|还有)?.{1,6}?(的)?呢[?？。!！]*$")
# "为啥不推荐无忧的", "推荐的理由是啥": about the recommendation just given, not a request for another.
_WHY = r"(为啥|为什么|为何|凭啥|凭什么|怎么|咋)"
_WHY_RECOMMENDED = re.compile(
    rf"{_WHY}.{{0,6}}(推荐|推存)|推荐.{{0,4}}(理由|原因|依据)|根据(什么|啥).{{0,3}}推荐|"
    rf"{_WHY}.{{0,8}}适合(我|这个|那个)?(班|套餐)?|{_WHY}.{{0,4}}(是|不是|不能是)(这个|那个|无忧|ai|私塾)|"
    rf"{_WHY}.{{0,6}}(班|套餐)(不行|不好|不适合)",
    re.I,
)
# A fact of one's own registration case: the certificate's date, an age, main or added specialty.
_MY_FACTS = re.compile(
    r"(证书?|证是|拿证|签发).{0,8}((19|20)\d{2}|[今去前]年)|(19|20)\d{2}\s*年.{0,6}(发|签发|拿|取得|考)|"
    r"今年\s*\d{2}(岁|周岁)?(?![\d年])|\d{2}\s*(岁|周岁)|主项|增项(?!注册)"
)
# "想先有人讲讲考试情况和怎么规划复习 有这种课吗": a plan for studying, a question about the courses.
_STUDY_TOPIC = re.compile(r"课|班|复习|备考|考试|刷题|学习")
_REGISTRATION_TOPIC = re.compile(r"注册|注销|延续|增项|变更|换单位|跳槽|认证|证书|办理|手续|注侧")
# A yes or a no ("不用了", "对的 没错") is this short; a longer message with a question word asks something.
_SHORT_REPLY = 6
# Intents a rule of this module may replace (never the answer to a form's question: inform stays).
_QUESTION_LIKE = ("ask_knowledge", "nlu_fallback", None)


def guarded(text: str, intent: str | None) -> str | None:
    """The intent to act on for `text` that NLU classified as `intent`."""
    return decide(text, intent)[0]


def decide(text: str, intent: str | None) -> tuple[str | None, bool]:
    """(intent, whether a rule of this module decided it) for `text` that NLU classified as `intent`.
    A rule's decision holds with full confidence; otherwise NLU's intent and score stand."""
    text = text or ""
    if text.startswith("/"):  # a button payload names its intent
        return intent, False
    if intent in _QUESTION_LIKE + (
        "compare_packages",
        "ask_recommendation",
        "ask_why_recommendation",
    ) and _WHY_RECOMMENDED.search(text):
        return "ask_why_recommendation", True
    if (
        intent in _QUESTION_LIKE + ("inform", "compare_packages", "ask_recommendation")
        and _WHICH_FITS.search(text)
        and _ABOUT_ME.search(text)
    ):
        return "ask_recommendation", True
    if intent in _QUESTION_LIKE + (
        "reg_ask_eligibility",
        "reg_ask_ce",
        "reg_inform",
        "reg_plan_request",
    ) and _PLAN.search(text):
        return "reg_plan_request", True
    if (
        intent in _QUESTION_LIKE + ("reg_plan_request", "reg_inform")
        and _HOW_TO_REGISTER.search(text)
        and _MY_FACTS.search(text)
    ):
        # "帮我爸看看注册要怎么弄 他要换单位 58岁": how to go about it, for a case of one's own; DIET,
        # torn between a plan request and the facts of one, was below the fallback threshold
        return "reg_plan_request", True
    if intent in _QUESTION_LIKE + ("enroll",) and _SIGN_UP.search(text) and not _ASKS.search(text):
        return "enroll", True
    if intent == "enroll" and _PRICE_ASKED.search(text) and _ASKS.search(text):
        return "ask_knowledge", True
    if intent in ("reg_inform", "inform") and _ELLIPSIS.match(text):
        return "ask_knowledge", True
    if intent == "reg_inform" and len(text.strip()) > _SHORT_REPLY and _ASKS.search(text):
        # "我爸62岁 … 想注册二建 年龄上有没有问题": the facts of a case, and a question about it
        return "ask_knowledge", True
    if intent == "reg_plan_request" and _STUDY_TOPIC.search(text) and not _REGISTRATION_TOPIC.search(text):
        return "ask_knowledge", True
    if intent in ("affirm", "deny") and len(text.strip()) > _SHORT_REPLY and _ASKS.search(text):
        return "ask_knowledge", True  # "是不是所有人都要学啊" sounds like 不是, and asks a question
    if (
        intent in _QUESTION_LIKE + ("reg_ask_ce", "reg_ask_eligibility")
        and _MY_FACTS.search(text)
        and not _ASKS.search(text)
    ):
        return "reg_inform", True  # "证书2019年3月发的 一建没弄过": facts of one's own case, asking nothing
    words = REQUEST_WORDS.get(intent or "")
    if words is not None and not words.search(text):
        return "ask_knowledge", True
    return intent, False
