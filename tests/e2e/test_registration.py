"""Registration guidance end to end: bot/ -> Rasa -> action server -> bot/'s plan and knowledge APIs.

The four conversations of the registration issue, plus the guided form with a correction.
Hours, ages and time limits are asserted as the user reads them in the reply.
"""


def test_personal_hours_question_gets_120_hours_and_the_reason(chat):
    reply = chat.say_text("我证书2019年发的，现在想重新注册，要学多少学时？")
    assert "120学时" in reply
    assert "60学时" in reply  # 主项120 / 增项60: the user did not say which
    assert "超过三年" in reply and "2019年" in reply


def test_renewal_approval_time_comes_from_the_knowledge_base(chat):
    reply = chat.say_text("延续注册多久批下来")
    assert "1个工作日" in reply
    assert "地市建设主管部门" in reply


def test_pasted_qualification_database_error_gets_its_fix(chat):
    reply = chat.say_text("资格库中目前没有您的数据，禁止注册！请确认注册页面省份是否选择正确！")
    assert "福建省" in reply  # first check: the province chosen when registering
    assert "身份信息" in reply and "更正" in reply  # then: identity mismatch, apply for a correction


def test_66_year_old_is_told_not_eligible_and_why(chat):
    reply = chat.say_text("我66岁了还能注册吗")
    assert "不符合申报条件" in reply
    assert "年龄不超过65周岁" in reply and "66周岁" in reply


def test_a_correction_after_the_answer_changes_it(chat):
    assert "需要提供继续教育学时" in chat.say_text("我证书2019年发的，想重新注册，要学多少学时")
    reply = chat.say_text("不对，是2025年")
    assert "2025年" in reply
    assert "不需要提供继续教育学时" in reply


def test_guided_plan_asks_only_what_renewal_needs_then_goes_step_by_step(chat):
    assert "哪种业务" in chat.say_text("帮我梳理一下注册步骤")
    assert "多少周岁" in chat.say_text("延续注册")
    assert "哪类单位" in chat.say_text("50岁")
    messages = chat.say("监理公司")  # done: 延续注册 needs no certificate date
    text = "\n".join(m.get("text", "") for m in messages)
    assert "签发日期" not in text
    assert "符合" in text and "1个工作日" in text and "设区市建设主管部门" in text
    assert "第1步" in text
    assert any(b["payload"] == "/reg_next_step" for m in messages for b in m.get("buttons", []))
    assert "第2步" in chat.say_text("下一步")
