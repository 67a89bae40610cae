"""A message cut into the questions it asks; the asking part of a long message."""

from knowledge.split import question_focus, split_questions


def test_two_questions_in_one_breath_are_two():
    assert split_questions("延续注册多久能批 顺便问下无忧班多少钱") == ["延续注册多久能批", "无忧班多少钱"]
    assert split_questions("电子证书在哪打印？还有执业印章是谁给刻") == ["电子证书在哪打印", "还有执业印章是谁给刻"]


def test_the_situation_stays_with_its_question():
    text = "手持身份证那张被退回来了说不合格 我都拍了三遍了 是不是又要从头再报一次初始注册"
    assert split_questions(text) == [text]
    assert split_questions("签名照有什么要求？多大的") == ["签名照有什么要求？多大的"], "too short to stand alone"


def test_the_asking_part_leaves_out_the_feelings():
    assert (
        question_focus("注册二建到底要满足什么条件啊 问了三个人三个说法 单位人事也说不清楚 烦死了")
        == "注册二建到底要满足什么条件啊"
    )
    assert question_focus("证件照多大") is None


def test_a_choice_between_two_is_a_question_and_still_is_not():
    assert split_questions("继教电话多少 另外增项注册是市里审还是省里审") == [
        "继教电话多少",
        "增项注册是市里审还是省里审",
    ]
    assert split_questions("证件照多大 换了好多张 还是不行") == ["证件照多大 换了好多张 还是不行"]
    text = "初始注册报上去好几天了 公司那边也确认了 到底是报到省里还是市里审的"
    assert split_questions(text) == [text], "好几天 tells how long it has been; it asks nothing"
    assert split_questions("题库有几种 另外作业在哪看") == ["题库有几种", "作业在哪看"]
