"""POST /api/registration/match through the real app: bot/ reads the user's words for the conversation.

The seam with actions/: until issue #15 the action server kept its own word lists next to rules.yml,
and each side missed words of the other. OLD_ACTION_WORDS below is the action server's last list,
written here as data: every word of it must still be read by bot/ to the same choice.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings

URL = "/api/registration/match"

# actions/registration.py before issue #15: field -> [(code, words)], the first code found wins.
OLD_ACTION_WORDS = {
    "business_type": [
        (
            "change_employer",
            ("换单位", "换个单位", "换公司", "变更单位", "变更聘用单位", "变更注册", "转注册", "跳槽", "调单位"),
        ),
        ("info_change", ("个人信息修改", "修改个人信息", "信息修改", "改个人信息", "个人信息变更")),
        ("re_registration", ("重新注册", "从新注册", "重注册", "重新注侧", "再次注册")),
        ("initial", ("初始注册", "首次注册", "第一次注册", "初次注册", "初使注册", "首注")),
        ("renewal", ("延续注册", "延续", "延注", "续期注册", "续注", "延期注册")),
        ("added_specialty", ("增项注册", "增加专业", "加专业", "增项申请")),
        ("cancellation", ("注销",)),
    ],
    "employer_type": [
        ("tendering_agency", ("招标代理",)),
        ("cost_consulting", ("造价",)),
        ("survey", ("勘察", "勘测")),
        ("design", ("设计",)),
        ("supervision", ("监理",)),
        ("construction", ("施工", "建筑公司", "工程公司", "建设公司", "建筑企业")),
        (
            "none",
            (
                "没有单位",
                "无单位",
                "没单位",
                "没有工作",
                "没工作",
                "待业",
                "没有受聘",
                "未受聘",
                "辞职了",
                "离职了",
                "没入职",
                "未入职",
                "还没入职",
                "找工作",
                "没上班",
                "无业",
                "没找到单位",
                "没签单位",
            ),
        ),
        ("other", ("其他", "其它", "别的")),
    ],
    "specialty_role": [
        ("added_to_main", ("增项转主项", "增项变主项", "增项作为主项", "增项当主项", "增项改主项", "增项转为主项")),
        ("main", ("主项",)),
        ("added", ("增项",)),
    ],
    "info_change_kind": [
        ("identity", ("姓名", "名字", "改名", "身份证")),
        ("contact", ("通讯地址", "地址", "邮编", "邮政编码", "联系人", "联系电话", "电话", "手机")),
        ("other", ("其他", "其它", "别的")),
    ],
}
# The action server read these only as the answer to their own question (never from a sentence).
OLD_ANSWER_ONLY = {("employer_type", "other")} | {
    ("info_change_kind", code) for code in ("identity", "contact", "other")
}

OLD_WORDS = [
    (field, code, word) for field, table in OLD_ACTION_WORDS.items() for code, words in table for word in words
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("match") / "t.db"
    with TestClient(create_app(Settings(environment="test", database_url=f"sqlite:///{db}"))) as c:
        yield c


def read(client, text, answer_to=None) -> dict:
    response = client.post(URL, json={"text": text, **({"answer_to": answer_to} if answer_to else {})})
    assert response.status_code == 200, response.text
    return {field: (choice or {}).get("code") for field, choice in response.json().items()}


@pytest.mark.parametrize("field, code, word", OLD_WORDS, ids=lambda v: v if isinstance(v, str) else None)
def test_every_word_the_action_server_knew_is_read_to_the_same_choice(client, field, code, word):
    assert read(client, word, answer_to=field)[field] == code, "as the answer to its question"
    if (field, code) not in OLD_ANSWER_ONLY:
        assert read(client, f"嗯，{word}。")[field] == code, "inside a sentence"


@pytest.mark.parametrize(
    "text, code",
    [("我想转注到新单位", "change_employer"), ("注销手续怎么办", "cancellation"), ("换公司了", "change_employer")],
)
def test_words_only_one_side_knew_are_read_in_a_sentence(client, text, code):
    assert read(client, text)["business_type"] == code


@pytest.mark.parametrize(
    "text, field, code",
    [
        ("跳槽了要重新注册吗", "business_type", "change_employer"),  # the situation, not the mechanism
        ("先注销再重新注册", "business_type", "re_registration"),
        ("我是增项转主项", "specialty_role", "added_to_main"),
        ("我要增项注册，报的是主项", "specialty_role", "main"),
    ],
)
def test_a_sentence_naming_several_choices_is_read_in_the_files_order(client, text, field, code):
    assert read(client, text)[field] == code


def test_short_answers_are_read_only_as_answers(client):
    """ "无" answers 哪类单位; in "无忧取证班" it is a course name. "增项" answers 主项还是增项."""
    assert read(client, "无", answer_to="employer_type")["employer_type"] == "none"
    assert read(client, "报无忧取证班")["employer_type"] is None
    assert read(client, "增项", answer_to="specialty_role") == {
        "business_type": None,
        "employer_type": None,
        "specialty_role": "added",
        "info_change_kind": None,
    }
    assert read(client, "手机号换了怎么办")["info_change_kind"] is None


def test_the_reply_names_each_choice_for_the_user(client):
    body = client.post(URL, json={"text": "我在监理公司，想延续注册"}).json()
    assert body["business_type"] == {"code": "renewal", "name": "延续注册", "said_as": "延续注册"}
    assert body["employer_type"] == {"code": "supervision", "name": "监理单位", "said_as": "监理"}
    assert body["specialty_role"] is None and body["info_change_kind"] is None


@pytest.mark.parametrize(
    "body, words",
    [
        ({"text": "施工", "answer_to": "age"}, "answer_to"),
        ({"text": "施" * 501}, "text"),
        ({}, "text"),
        ({"text": ["施工"]}, "text"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, body, words):
    response = client.post(URL, json=body)
    assert response.status_code == 422 and words in response.json()["detail"]


@pytest.mark.parametrize(
    "said, code",
    [
        ("换公司", "change_employer"),
        ("调单位", "change_employer"),
        ("转注", "change_employer"),
        ("注销手续", "cancellation"),
    ],
)
def test_the_plan_api_accepts_the_same_words(client, said, code):
    response = client.post("/api/registration/plan", json={"business_type": said})
    assert response.status_code == 200, response.text
    assert response.json()["situation"]["business_type"] == code
