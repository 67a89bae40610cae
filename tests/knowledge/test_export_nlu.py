"""FAQ questions and variants as Rasa NLU examples."""

from __future__ import annotations

import re
import shutil

import yaml

from knowledge.corpus import load_corpus
from knowledge.export_nlu import export
from knowledge.paths import ROOT


def _examples(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    return {b["intent"]: [line[2:] for line in b["examples"].splitlines()] for b in data["nlu"]}


def test_every_question_and_variant_becomes_an_ask_knowledge_example(tmp_path):
    path, counts, _ = export(tmp_path)
    intents = _examples(path)
    examples = intents["ask_knowledge"]
    assert len(examples) == len(set(examples)) == counts["ask_knowledge"]
    corpus = load_corpus()
    # Items routed to an intent of their own (e.g. pkg_compare -> compare_packages) train that intent.
    wanted = {
        " ".join(t.split()) for item in corpus.faq.values() if not item.intent for t in (item.question, *item.variants)
    }
    routed = {
        " ".join(t.split()) for item in corpus.faq.values() if item.intent for t in (item.question, *item.variants)
    }
    assert routed and not routed & set(examples)
    hand_written = set()  # intent examples of data/nlu, entity annotations removed as Rasa does
    for p in (ROOT / "data/nlu").glob("*.yml"):
        for block in yaml.safe_load(p.read_text(encoding="utf-8"))["nlu"]:
            if "intent" in block:
                hand_written |= {
                    re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line.strip()[2:])
                    for line in block["examples"].splitlines()
                    if line.strip().startswith("- ")
                }
    assert wanted - hand_written <= set(examples)
    assert not set(examples) & hand_written  # Rasa refuses an example under two intents


def test_an_item_with_its_own_intent_goes_there_and_brackets_are_escaped(tmp_path):
    root = tmp_path / "project"
    for rel in ("knowledge/documents", "data/faq", "data/dictionary", "data/nlu"):
        shutil.copytree(ROOT / rel, root / rel)
    faq = root / "data/faq/courses.yml"
    data = yaml.safe_load(faq.read_text(encoding="utf-8"))
    data["items"][0]["intent"] = "ask_course_list"
    data["items"][0]["variants"].append("[班型]有哪些")
    faq.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    path, counts, _ = export(tmp_path / "out", root=root)
    intents = _examples(path)
    assert data["items"][0]["question"] in intents["ask_course_list"]
    assert data["items"][0]["question"] not in intents["ask_knowledge"]
    assert "【班型】有哪些" in intents["ask_course_list"]
