"""bot/registration/nlu_words.py: the registration synonyms and lookup tables Rasa trains on are
rules.yml's words, so an entity Rasa extracts reaches the form as the code bot/ would read it as.

The seam with Rasa's data: before issue #15 data/nlu/registration.yml kept a third copy of these
words. OLD_NLU_SYNONYMS below is that copy's last state, kept as data: every text of it must still
reach the same code (or, for the one text two codes claim, be left to bot/'s reading).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.registration.nlu_words import main, render, synonyms
from bot.registration.rules import load_rulebook
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

# data/nlu/registration.yml before issue #15: code -> texts.
OLD_NLU_SYNONYMS = {
    "initial": ["初始注册", "初始", "首次注册", "初次注册", "第一次注册", "首注", "初使注册"],
    "re_registration": ["重新注册", "从新注册", "重注", "再次注册", "重新注侧"],
    "renewal": ["延续注册", "延续", "延注", "续期注册", "延期注册", "延续注侧"],
    "added_specialty": ["增项注册", "增加专业注册", "加专业注册"],
    "cancellation": ["注销", "注销注册", "注销手续"],
    "info_change": ["个人信息修改", "修改个人信息", "信息修改"],
    "change_employer": ["换单位", "换个单位", "变更单位", "变更注册", "变更聘用单位", "转注册"],
    "construction": ["施工单位", "施工", "建筑公司", "施工企业"],
    "design": ["设计院", "设计", "设计单位"],
    "survey": ["勘察", "勘察单位", "勘测"],
    "supervision": ["监理", "监理单位", "监理公司"],
    "tendering_agency": ["招标代理", "招标代理公司"],
    "cost_consulting": ["造价咨询", "造价", "造价公司"],
    "none": ["没有单位", "辞职了", "待业"],
    "other": ["其他单位", "其他信息"],
    "main": ["主项", "主项专业"],
    "added": ["增项"],
    "added_to_main": ["增项转主项", "增项变主项"],
    "identity": ["姓名", "身份证", "身份证号"],
    "contact": ["联系电话", "通讯地址", "邮政编码", "联系人"],
}
# The field whose question each code answers (what the form asks bot/ with `answer_to`).
FIELD_OF = {
    **dict.fromkeys(["initial", "re_registration", "renewal", "added_specialty", "cancellation"], "business_type"),
    **dict.fromkeys(["info_change", "change_employer"], "business_type"),
    **dict.fromkeys(
        ["construction", "design", "survey", "supervision", "tendering_agency", "cost_consulting", "none"],
        "employer_type",
    ),
    **dict.fromkeys(["main", "added", "added_to_main"], "specialty_role"),
    **dict.fromkeys(["identity", "contact"], "info_change_kind"),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("nlu-words") / "t.db"
    with TestClient(create_app(Settings(environment="test", database_url=f"sqlite:///{db}"))) as c:
        yield c


def code_read(client, text: str, field: str) -> str | None:
    response = client.post("/api/registration/match", json={"text": text, "answer_to": field})
    assert response.status_code == 200, response.text
    return (response.json()[field] or {}).get("code")


def generated() -> dict:
    return yaml.safe_load(render(synonyms(load_rulebook())))


def mapping_of(data: dict) -> dict[str, str]:
    found = {}
    for block in data["nlu"]:
        if "synonym" in block:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    found[line.strip()[2:]] = block["synonym"]
    return found


def test_every_old_synonym_reaches_the_same_code_or_is_left_to_bot(client):
    mapped = mapping_of(generated())
    for code, texts in OLD_NLU_SYNONYMS.items():
        for text in texts:
            if text in mapped:
                assert mapped[text] == code, (text, mapped[text], code)
            else:
                # Left out of the synonyms (two codes claim it): bot/ reads it as the answer it is.
                assert code_read(client, text, FIELD_OF[code]) == code, text


def test_each_generated_synonym_is_a_word_bot_reads_as_that_code(client):
    fields = ["business_type", "employer_type", "specialty_role", "info_change_kind"]
    for text, code in mapping_of(generated()).items():
        assert code in {code_read(client, text, field) for field in fields}, (text, code)


def test_a_text_two_codes_claim_is_no_synonym():
    assert "增项" not in mapping_of(generated())  # the specialty's role, or short for 增项注册


def test_each_hand_picked_lookup_entry_is_a_word_of_its_choices():
    book = load_rulebook()
    tables = {"reg_business": book.business_types, "reg_employer": book.employer_types}
    data = yaml.safe_load((ROOT / "data" / "nlu" / "registration.yml").read_text(encoding="utf-8"))
    lookups = {b["lookup"]: b["examples"] for b in data["nlu"] if "lookup" in b}
    assert set(lookups) == set(tables)
    for entity, examples in lookups.items():
        words = {w for item in tables[entity].values() for w in item.words}
        entries = [line.strip()[2:] for line in examples.splitlines() if line.strip().startswith("- ")]
        assert entries and not set(entries) - words, (entity, set(entries) - words)


def test_a_word_added_to_rules_yml_becomes_a_synonym():
    book = load_rulebook()
    renewal = book.business_types["renewal"]
    changed = {**book.business_types, "renewal": dataclasses.replace(renewal, words=(*renewal.words, "续个证"))}
    assert "续个证" in synonyms(dataclasses.replace(book, business_types=changed))["renewal"]


def test_rasa_data_keeps_no_copy_of_the_words_and_the_file_is_written(tmp_path):
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        blocks = yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []
        assert not [b for b in blocks if "synonym" in b], path
    assert main(["--out", str(tmp_path)]) == 0
    assert (
        mapping_of(yaml.safe_load((tmp_path / "registration_words.yml").read_text(encoding="utf-8")))["首注"]
        == "initial"
    )
