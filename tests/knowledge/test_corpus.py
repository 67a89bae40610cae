"""The knowledge data as entries, and its validation."""

from __future__ import annotations

import shutil

import pytest
import yaml

from knowledge.corpus import CorpusError, data_hash, load_corpus
from knowledge.paths import ROOT


def _copy_project_data(dst):
    for rel in ("knowledge/documents", "data/faq", "data/train", "data/dictionary", "knowledge/calibration"):
        if (ROOT / rel).exists():
            shutil.copytree(ROOT / rel, dst / rel)
    return dst


def test_every_faq_item_and_section_is_an_entry_with_a_stable_id():
    corpus = load_corpus()
    ids = [e.id for e in corpus.entries]
    assert len(ids) == len(set(ids))
    assert {f"faq:{fid}" for fid in corpus.faq} <= set(ids)
    assert "doc:guide#notes-2" in ids and "doc:catalogue#wuyou" in ids
    photo = corpus.faq_entry("photo_rules")
    assert photo.source_doc == "福建省二级建造师注册办理指南"
    assert "注意事项第2条" in photo.source_section
    assert photo.source_title.startswith("福建省二级建造师注册办理指南 · ")


def test_a_faq_item_is_matched_through_question_variants_and_answer():
    corpus = load_corpus()
    item = corpus.faq["photo_rules"]
    fields = [f for f, _ in corpus.faq_entry("photo_rules").units]
    assert fields[0] == "question" and fields[-1] == "answer"
    assert fields.count("variant") == len(item.variants) >= 10
    assert fields.count("written") == len(item.written)


def test_catalogue_sections_carry_the_prices_and_teachers():
    corpus = load_corpus()
    wuyou = corpus.sections["catalogue#wuyou"].text
    assert "6280" in wuyou and "2年有效期" in wuyou
    assert "大鹏" in corpus.sections["catalogue#subjects"].text


def test_a_faq_source_that_points_nowhere_is_refused(tmp_path):
    root = _copy_project_data(tmp_path)
    path = root / "data/faq/registration.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["items"][0]["source"] = "guide#no-such-section"
    data["items"][1]["id"] = data["items"][2]["id"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        load_corpus(root)
    message = str(err.value)
    assert "guide#no-such-section" in message  # every problem is listed, not just the first
    assert "duplicate id" in message


def test_the_data_hash_follows_the_content(tmp_path):
    root = _copy_project_data(tmp_path)
    before = data_hash(root)
    assert before == data_hash(root)
    with open(root / "data/dictionary/synonyms.yml", "a", encoding="utf-8") as fh:
        fh.write("\n# a comment changes the file\n")
    assert data_hash(root) != before
