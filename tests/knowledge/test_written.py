"""User-style training messages (data/train/user_style.yml) and how a writer's file is merged."""

from __future__ import annotations

import shutil

import pytest
import yaml

from knowledge.corpus import WRITTEN_FILE, CorpusError, data_files, load_corpus
from knowledge.paths import ROOT
from scripts import written_messages


def _project(tmp_path, written: dict | None):
    for rel in ("knowledge/documents", "data/faq", "data/dictionary", "knowledge/calibration", "data/eval"):
        shutil.copytree(ROOT / rel, tmp_path / rel)
    if written is not None:
        (tmp_path / WRITTEN_FILE).parent.mkdir(parents=True)
        (tmp_path / WRITTEN_FILE).write_text(yaml.safe_dump(written, allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_written_messages_are_matched_like_variants_and_declined_ones_are_negatives(tmp_path):
    root = _project(
        tmp_path,
        {
            "items": {"photo_rules": ["相片要白底不 工地上拍的行不"]},
            "gaps": {"guakao": ["挂出去一年给多少"]},
            "out_of_domain": ["今天福州下雨不"],
        },
    )
    corpus = load_corpus(root)
    photo = corpus.faq_entry("photo_rules")
    assert ("written", "相片要白底不 工地上拍的行不") in photo.units
    assert photo.units[-1][0] == "answer"  # the answer stays the last unit
    assert ("written", "挂出去一年给多少") in corpus.entry("gap:guakao").units
    assert corpus.out_of_domain == ("今天福州下雨不",)
    assert root / WRITTEN_FILE in data_files(root)  # a change rebuilds the index

    from knowledge.build import Builder

    builder = Builder(root=root)
    builder.corpus = corpus
    assert "今天福州下雨不" in builder.negatives()


def test_a_written_message_for_an_unknown_item_is_refused(tmp_path):
    root = _project(tmp_path, {"items": {"no_such_item": ["随便问问"]}})
    with pytest.raises(CorpusError, match="no_such_item"):
        load_corpus(root)


def test_without_the_file_the_corpus_is_the_faq_alone(tmp_path):
    corpus = load_corpus(_project(tmp_path, None))
    assert corpus.out_of_domain == ()
    assert all(not item.written for item in corpus.faq.values())


def test_merge_maps_labels_drops_copies_of_evaluation_messages_and_multi_questions(tmp_path):
    root = _project(tmp_path, None)
    scored = yaml.safe_load((root / "data/eval/calibration.yml").read_text(encoding="utf-8"))["messages"][0]["text"]
    writer = tmp_path / "writer.yml"
    messages = [
        {"text": "照片  是不是得白底", "section": "注意事项2照片要求"},
        {"text": scored + "啊", "section": "注意事项2照片要求"},  # a near copy of a calibration message
        {"text": "挂靠一年多少钱", "gap": "guakao"},
        {"text": "外省的证咋办", "gap": "none"},
        {"text": "讲个笑话", "kind": "unrelated"},
        {"text": "几天批 多少钱", "section": ["受理时限初始重新注册", "价格总览"]},
        {"text": "没有这个标签", "section": "不存在的标签"},
    ]
    writer.write_text(yaml.safe_dump({"messages": messages}, allow_unicode=True), encoding="utf-8")
    merged, counts = written_messages.merge([writer], root, engine=None)
    assert merged["items"] == {"photo_rules": ["照片 是不是得白底"]}
    assert merged["gaps"] == {"guakao": ["挂靠一年多少钱"]}
    assert merged["out_of_domain"] == ["外省的证咋办", "讲个笑话"]
    assert counts["near_copy"] == 1 and counts["skipped"] == 2


def test_a_several_item_section_goes_to_the_item_the_engine_ranks_first():
    class Hit:
        def __init__(self, faq_id):
            self.faq_id = faq_id

    class Engine:
        def search(self, text, k):
            return [Hit("other"), Hit("process_cancellation"), Hit("process_change_employer")]

    candidates = ["process_change_employer", "process_cancellation"]
    assert written_messages.choose_item(Engine(), "离职了证咋注销", candidates) == "process_cancellation"
    assert written_messages.choose_item(None, "离职了证咋注销", candidates) == "process_change_employer"
