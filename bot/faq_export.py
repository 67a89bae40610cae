"""Groups of unanswered questions as a file of data/faq/, in exactly its format (knowledge.corpus
reads it): either more variants of an existing item, or one draft item per group whose answer and
source staff write from the material. Nothing here writes an answer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.unanswered import Group
from knowledge.corpus import FaqItem, load_documents, load_faq
from knowledge.paths import ROOT

FAQ_DIR = ROOT / "data" / "faq"
DOCUMENTS_DIR = ROOT / "knowledge" / "documents"


@dataclass(frozen=True)
class FaqSource:
    item: FaqItem
    file: str  # the data/faq/ file it lives in


def find_item(faq_id: str, faq_dir: Path = FAQ_DIR, documents_dir: Path = DOCUMENTS_DIR) -> FaqSource | None:
    """The FAQ item `faq_id` as knowledge/ loads it, and its file; None if there is none."""
    sections, _, _ = load_documents(documents_dir)
    items, _, _ = load_faq(faq_dir, sections)
    item = items.get(faq_id)
    if item is None:
        return None
    for path in sorted(faq_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if any(str(raw.get("id")) == faq_id for raw in data.get("items") or []):
            return FaqSource(item, path.name)
    return FaqSource(item, "")


class _Dumper(yaml.SafeDumper):
    """Answers over several lines as `|` blocks, the way data/faq/ writes them."""


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _item_yaml(item: dict) -> str:
    """One item as an entry of the `items:` list, indented as in data/faq/."""
    text = yaml.dump([item], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(keepends=True))


def _asked(group: Group) -> str:
    return f"被问 {group.count} 次，{group.first_seen:%Y-%m-%d} 至 {group.last_seen:%Y-%m-%d}"


def as_variants(source: FaqSource, groups: list[Group]) -> str:
    """The existing item with the groups' questions added to its variants: it replaces the item."""
    item = source.item
    known = {item.question, *item.variants}
    added: list[str] = []
    for question in (q for g in groups for q in g.questions):
        if question not in known:
            known.add(question)
            added.append(question)
    entry = {
        "id": item.id,
        "question": item.question,
        "variants": [*item.variants, *added],
        "answer": item.answer,
        "source": item.source,
        "tags": list(item.tags),
    }
    if item.intent:
        entry["intent"] = item.intent
    where = f"data/faq/{source.file}" if source.file else "data/faq/"
    header = (
        f"# 未解答问题 → FAQ 条目 {item.id} 的新问法（{len(added)} 条，来自问题组 "
        f"{', '.join(g.id for g in groups)}；{'；'.join(_asked(g) for g in groups)}）。\n"
        f"# 用下面的条目替换 {where} 中的同名条目，然后运行 make train。\n"
        "# 先确认每个新问法问的确实是这个条目回答的问题；不是的删掉。\n"
        "items:\n"
    )
    return header + _item_yaml(entry)


def as_drafts(groups: list[Group], nearest: dict[str, tuple[str, float]]) -> str:
    """One draft item per group: the most asked wording as its question, the others as variants,
    answer and source left empty for staff (knowledge/ refuses an item without an answer, so a
    draft cannot be trained by mistake). `nearest`: group id -> (faq id, score)."""
    parts = [
        "# 未解答问题 → 新 FAQ 条目草稿（",
        str(len(groups)),
        " 条）。\n",
        "# answer（答案）和 source（出处，文档id#章节id）必须由客服依据资料填写；资料里没有答案的，\n",
        "# 不要编写答案，改在 data/faq/gaps.yml 里记为缺口。填好后放进 data/faq/ 的文件并运行 make train。\n",
        "items:\n",
    ]
    for group in groups:
        questions = group.questions
        comment = f"  # 问题组 {group.id}：{_asked(group)}"
        if group.id in nearest:
            faq_id, score = nearest[group.id]
            comment += f"；最接近的已有条目 {faq_id}（{score:.2f}），问的若是同一件事，请改为导出成它的问法"
        parts.append(comment + "\n")
        parts.append("  # answer: 待客服依据资料撰写（不得编造）\n")
        parts.append(
            _item_yaml(
                {
                    "id": f"draft_{group.id}",
                    "question": questions[0],
                    "variants": questions[1:],
                    "answer": "",
                    "source": "",
                    "tags": [],
                }
            )
        )
    return "".join(parts)
