"""The kind of answer a question asks for, against what an entry's text can give."""

from knowledge.qtype import answer_types, clash, question_types


def test_a_question_for_a_date_clashes_with_a_description_without_one():
    q = question_types("私教精讲班什么时候开课")
    assert q == {"when"}
    assert clash(q, answer_types("私教精讲班：直播，24-39小时/科，根据2025年新教材及考试大纲")) == 1.0
    assert clash(q, answer_types("自2018年7月起，不再接受建造师执业印章统一制发委托")) == 0.0


def test_time_limits_prices_hours_and_numbers_are_recognised():
    assert question_types("延续注册多久能批下来") == {"duration"}
    assert question_types("什么时候能批下来") == {"duration"}, "a time limit, not a date"
    assert question_types("无忧班多少钱") == {"price"}
    assert question_types("继续教育要学多少学时") == {"hours"}
    assert question_types("继续教育客服电话") == {"contact"}
    assert clash({"price"}, answer_types("全科：¥6280 单科：¥2980")) == 0.0
    assert clash({"contact"}, answer_types("需拨打继续教育客服电话968823")) == 0.0
    assert clash({"duration"}, answer_types("省注册中心于10个工作日内审查")) == 0.0
    assert clash({"price"}, answer_types("省注册中心于10个工作日内审查")) == 1.0


def test_questions_without_such_a_word_never_clash():
    assert question_types("证件照有什么要求") == set()
    assert clash(set(), set()) == 0.0


def test_a_count_of_days_that_tells_the_situation_is_no_question():
    assert question_types("已经等了好几天了也不知道审到哪一步了") == set()
    assert question_types("前几年一建实名认证弄过了 二建还要再认证吗") == set()
    assert question_types("审批要几天") == {"duration"}
    assert question_types("打电话也没人接 有没有地方能自己查") == set()
    assert question_types("继续教育客服电话是多少") == {"contact"}


def test_a_sign_up_that_asks_how_much_asks_for_a_price():
    assert question_types("报市政实务单科要多少") == {"price"}
    assert question_types("报名后要学多少学时") == {"hours"}


def test_years_in_words_are_a_period_and_having_been_away_some_years_is_no_question():
    assert clash({"duration"}, answer_types("签发日期超过注册之日三年时间的，均需提供继续教育学时")) == 0.0
    assert question_types("中间有几年没在单位 现在想重新注册") == set()


def test_a_question_for_a_year_is_answered_by_a_year():
    q = question_types("赠送的强化精讲班是哪一年的")
    assert q == {"year"}
    assert clash(q, answer_types("赠送2024年【强化精讲班】模块")) == 0.0
    assert clash(q, answer_types("全科：¥6280 单科：¥2980")) == 1.0


def test_how_early_to_apply_is_not_answered_by_how_long_the_review_takes():
    q = question_types("延续注册要提前多久办")
    assert q == {"advance"}
    assert question_types("延续注册要在证书到期前多久申请") == {"advance"}
    assert clash(q, answer_types("地市建设主管部门于1个工作日内审查并备案")) == 1.0
    assert question_types("延续注册审批要多久") == {"duration"}, "how long the review takes"
