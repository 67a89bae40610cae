"""The knowledge base as retrievable entries: FAQ items and document sections.

Sources:
- knowledge/documents/*.yml: documents. A document is either a list of `sections`
  ({id, title, text}, like the registration guide) or the course catalogue (classes, subjects,
  packages, ...), which is rendered into one section per class, package and list.
- data/faq/*.yml: FAQ items {id, question, variants, answer, source: "<doc>#<section>", tags,
  optional intent}; and under `gaps:`, what the material does not answer ({id, topic, reason,
  questions}): retrieved like FAQ items, so that a question about a gap is declined with its
  reason instead of being answered with the nearest item.
- data/train/user_style.yml: messages written the way users type by writers who never saw
  data/faq/ (units of field "written": matched and held out in the calibration folds like
  variants, but not what an entry is said to mention), and out-of-domain messages for the
  decision model (`out_of_domain`).

Every entry has a stable id (`faq:<id>`, `gap:<id>` or `doc:<doc>#<section>`), the text a user is
shown and the title of its source ("来源：..."). Loading validates the data: duplicate ids, empty
answers and FAQ sources that point nowhere are errors, all listed in one message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.characters import basic_normalize
from knowledge.dictionaries import userdict_path
from knowledge.paths import ROOT

DOCUMENTS_DIR = ROOT / "knowledge" / "documents"
WRITTEN_FILE = Path("data") / "train" / "user_style.yml"

_FAQ_ID = re.compile(r"^[a-z0-9_]+$")


class CorpusError(ValueError):
    """The knowledge data is inconsistent; the message lists every problem found."""


@dataclass(frozen=True)
class Section:
    doc_id: str
    section_id: str
    doc_title: str
    title: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.doc_id}#{self.section_id}"


@dataclass(frozen=True)
class FaqItem:
    id: str
    question: str
    variants: tuple[str, ...]
    answer: str
    source: str
    tags: tuple[str, ...] = ()
    intent: str | None = None
    written: tuple[str, ...] = ()  # user-style messages of data/train/user_style.yml


@dataclass(frozen=True)
class Gap:
    """Something the material does not answer: `reason` says what it lacks (no fact of its own)."""

    id: str
    topic: str
    reason: str
    questions: tuple[str, ...]
    written: tuple[str, ...] = ()


@dataclass
class Entry:
    """One retrievable thing. `units` are the texts it is matched through: for a FAQ item its
    question, every variant, its user-style messages ("written") and its answer; for a document
    section its title and text."""

    id: str
    kind: str  # "faq" | "gap" | "doc"
    title: str  # the FAQ question, the gap's topic, or the section title
    text: str  # the answer, the gap's reason, or the section text
    source_doc: str  # the document's title
    source_section: str  # the section's title
    source_key: str  # "<doc>#<section>"
    units: list[tuple[str, str]] = field(default_factory=list)  # (field, text)
    faq_id: str | None = None
    gap_id: str | None = None

    @property
    def source_title(self) -> str:
        return f"{self.source_doc} · {self.source_section}"


@dataclass
class Corpus:
    sections: dict[str, Section]
    faq: dict[str, FaqItem]
    entries: list[Entry]
    files: list[Path]
    gaps: dict[str, Gap] = field(default_factory=dict)
    out_of_domain: tuple[str, ...] = ()  # user-style messages the material must decline

    def entry(self, entry_id: str) -> Entry:
        return self._by_id[entry_id]

    def __post_init__(self) -> None:
        self._by_id = {e.id: e for e in self.entries}
        self._unit_words: dict[int, dict[tuple[str, int], frozenset[str]]] = {}

    def faq_entry(self, faq_id: str) -> Entry | None:
        return self._by_id.get(f"faq:{faq_id}")

    def vocabulary(self, tokenizer, skip: set[tuple[str, int]] = frozenset()) -> set[str]:
        """Words of the knowledge base for the spelling lexicon: Chinese words of every text,
        latin words only from documents and answers (users' pinyin in FAQ variants must not
        become "known English"). `skip`: (entry id, unit index) pairs to leave out."""
        per_unit = self._unit_words.get(id(tokenizer))
        if per_unit is None:
            per_unit = {}
            for entry in self.entries:
                for j, (fieldname, text) in enumerate(entry.units):
                    normalized = basic_normalize(text)
                    found = set()
                    for w in set(tokenizer.words(normalized)) | set(tokenizer.tokens(normalized, chars=False)):
                        if w.isascii():
                            if fieldname in ("answer", "section", "title") and w.isalpha() and len(w) >= 2:
                                found.add(w)
                        elif len(w) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in w):
                            found.add(w)
                    per_unit[(entry.id, j)] = frozenset(found)
            self._unit_words[id(tokenizer)] = per_unit
        words: set[str] = set()
        for key, found in per_unit.items():
            if key not in skip:
                words |= found
        return words


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------


def _join(items) -> str:
    return "、".join(str(i) for i in items if i is not None and str(i) != "")


def _catalogue_sections(doc: dict) -> list[tuple[str, str, str]]:
    """The course catalogue rendered into (section id, title, text), one per class, package and list."""
    out: list[tuple[str, str, str]] = []
    for c in doc.get("classes") or []:
        lines = [f"{c['name']}（{c.get('stage', '')}）"]
        if c.get("format") or c.get("hours_text"):
            lines.append("形式与课时：" + " ".join(str(x) for x in (c.get("format"), c.get("hours_text")) if x))
        if c.get("goal"):
            lines.append(f"课程目标：{c['goal']}")
        if c.get("strength"):
            lines.append(f"课程优势：{c['strength']}")
        for part in c.get("parts") or []:
            lines.append(
                f"{part['name']}：{part.get('format', '')} {part.get('hours_text', '')}，"
                f"课程目标：{part.get('goal', '')}"
            )
        out.append((c["id"], c["name"], "\n".join(lines)))
    if doc.get("subjects"):
        lines = [
            f"{s['name']}（{s.get('kind', '')}）：主讲老师 {_join(s.get('teachers') or [])}" for s in doc["subjects"]
        ]
        out.append(("subjects", "科目与主讲老师", "\n".join(lines)))
    for p in doc.get("packages") or []:
        prices = p.get("prices") or {}
        lines = [
            f"{p.get('year', '')}年{p['name']}（{p.get('popularity', '')}）",
            "适合学员：" + "；".join(p.get("suitable_for") or []),
            f"课程有效期：{p.get('validity_text', '')}",
            f"协议保障：{p.get('guarantee', '')}",
            f"增值内容：{p.get('bonus', '')}",
        ]
        if prices:
            lines.append(
                f"官方定价：全科 {prices.get('full')}元；单科（实务）{prices.get('single_practice')}元；"
                f"单科（公共）{prices.get('single_public')}元"
            )
        out.append((p["id"], p["name"], "\n".join(lines)))
    classes = {c["id"]: c["name"] for c in doc.get("classes") or []}
    mode = doc.get("study_mode")
    if mode:
        lines = [
            f"{st['name']}：{_join(classes.get(cid, cid) for cid in st.get('classes') or [])}"
            for st in mode.get("stages") or []
        ]
        out.append(("study_mode", mode.get("title", "学习模式"), "\n".join(lines)))
    bank = doc.get("question_bank")
    if bank:
        lines = [
            f"{t['name']}：{_join(t.get('items') or [])}"
            for t in (bank.get("tiers") or []) + (bank.get("extras") or [])
        ]
        out.append(("question_bank", bank.get("title", "题库"), "\n".join(lines)))
    if doc.get("vip_materials"):
        out.append(("vip_materials", "VIP配套资料（电子版）", "；".join(doc["vip_materials"])))
    if doc.get("vip_services"):
        lines = [f"{g['group']}：{_join(g.get('items') or [])}" for g in doc["vip_services"]]
        out.append(("vip_services", "VIP旗舰服务", "\n".join(lines)))
    return out


def load_documents(documents_dir: Path = DOCUMENTS_DIR) -> tuple[dict[str, Section], list[Path], list[str]]:
    sections: dict[str, Section] = {}
    files: list[Path] = []
    problems: list[str] = []
    for path in sorted(documents_dir.glob("*.yml")):
        files.append(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML ({exc})")
            continue
        doc_id, title = doc.get("id"), doc.get("title")
        if not doc_id or not title:
            problems.append(f"{path.name}: a document needs `id` and `title`")
            continue
        if doc.get("sections"):
            raw = [(s.get("id"), s.get("title"), s.get("text")) for s in doc["sections"]]
        else:
            raw = _catalogue_sections(doc)
        if not raw:
            problems.append(f"{path.name}: no sections")
        for sid, stitle, text in raw:
            if not sid or not stitle or not (text or "").strip():
                problems.append(f"{path.name}: section {sid!r} needs id, title and text")
                continue
            sec = Section(doc_id, str(sid), title, str(stitle), str(text).strip())
            if sec.key in sections:
                problems.append(f"{path.name}: duplicate section {sec.key}")
            sections[sec.key] = sec
    return sections, files, problems


# ---------------------------------------------------------------------------------------------
# FAQ
# ---------------------------------------------------------------------------------------------


def _gaps(path: Path, data: dict, gaps: dict[str, Gap], problems: list[str]) -> None:
    for n, raw in enumerate(data.get("gaps") or [], 1):
        gid = str(raw.get("id") or "")
        where = f"{path.name} gap {gid or n}"
        questions = tuple(str(q).strip() for q in raw.get("questions") or [] if str(q).strip())
        topic, reason = str(raw.get("topic") or "").strip(), str(raw.get("reason") or "").strip()
        if not _FAQ_ID.match(gid) or gid in gaps:
            problems.append(f"{where}: id must be unique, lower-case letters, digits and _")
        elif not topic or not reason or not questions:
            problems.append(f"{where}: topic, reason and questions are required")
        elif re.search(r"\d{2,}", reason):
            problems.append(f"{where}: a reason states no figure (it says what the material lacks)")
        else:
            gaps[gid] = Gap(gid, topic, reason, questions)


def load_faq(
    faq_dir: Path, sections: dict[str, Section], gaps: dict[str, Gap] | None = None
) -> tuple[dict[str, FaqItem], list[Path], list[str]]:
    """FAQ items of every file under faq_dir; the files' `gaps` go into `gaps` when it is given."""
    items: dict[str, FaqItem] = {}
    files: list[Path] = []
    problems: list[str] = []
    for path in sorted(faq_dir.glob("*.yml")):
        files.append(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML ({exc})")
            continue
        if gaps is not None:
            _gaps(path, data, gaps, problems)
        for n, raw in enumerate(data.get("items") or [], 1):
            fid = str(raw.get("id") or "")
            where = f"{path.name} item {fid or n}"
            if not _FAQ_ID.match(fid):
                problems.append(f"{where}: id must be lower-case letters, digits and _")
                continue
            if fid in items:
                problems.append(f"{where}: duplicate id {fid}")
                continue
            question = str(raw.get("question") or "").strip()
            answer = str(raw.get("answer") or "").strip()
            source = str(raw.get("source") or "").strip()
            variants = tuple(str(v).strip() for v in raw.get("variants") or [] if str(v).strip())
            if not question or not answer:
                problems.append(f"{where}: question and answer are required")
                continue
            if source not in sections:
                problems.append(
                    f"{where}: source {source!r} does not resolve to a document section "
                    f"(known: <doc>#<section>, e.g. {next(iter(sections), 'guide#notes-2')})"
                )
                continue
            items[fid] = FaqItem(
                fid,
                question,
                variants,
                answer,
                source,
                tuple(str(t) for t in raw.get("tags") or []),
                raw.get("intent") or None,
            )
    return items, files, problems


@dataclass(frozen=True)
class Written:
    """data/train/user_style.yml: {items: {faq id: [message]}, gaps: {gap id: [message]},
    out_of_domain: [message]}."""

    items: dict[str, tuple[str, ...]] = field(default_factory=dict)
    gaps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    out_of_domain: tuple[str, ...] = ()


def _texts(values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(" ".join(str(v).split()) for v in values or [] if str(v).strip()))


def load_written(path: Path, faq: dict[str, FaqItem], gaps: dict[str, Gap]) -> tuple[Written, list[str]]:
    """The user-style training messages; ids that name no item or gap are problems."""
    if not path.is_file():
        return Written(), []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        return Written(), [f"{path.name}: not valid YAML ({exc})"]
    problems = []
    for group, known in (("items", faq), ("gaps", gaps)):
        problems += [f"{path.name}: {group} {k!r} is not defined" for k in data.get(group) or {} if k not in known]
    return (
        Written(
            {str(k): _texts(v) for k, v in (data.get("items") or {}).items()},
            {str(k): _texts(v) for k, v in (data.get("gaps") or {}).items()},
            _texts(data.get("out_of_domain")),
        ),
        problems,
    )


# ---------------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------------


def load_corpus(root: Path = ROOT) -> Corpus:
    """Documents + FAQ of a project tree as entries. Raises CorpusError listing every problem."""
    sections, doc_files, problems = load_documents(root / "knowledge" / "documents")
    gaps: dict[str, Gap] = {}
    faq, faq_files, faq_problems = load_faq(root / "data" / "faq", sections, gaps)
    problems += faq_problems
    written, written_problems = load_written(root / WRITTEN_FILE, faq, gaps)
    problems += written_problems
    for fid, texts in written.items.items():
        if fid in faq:
            known = {faq[fid].question, *faq[fid].variants}
            faq[fid] = dataclasses.replace(faq[fid], written=tuple(t for t in texts if t not in known))
    for gid, texts in written.gaps.items():
        if gid in gaps:
            gaps[gid] = dataclasses.replace(gaps[gid], written=tuple(t for t in texts if t not in gaps[gid].questions))
    if not sections:
        problems.append(f"no documents under {root / 'knowledge' / 'documents'}")
    if problems:
        raise CorpusError("知识库数据有误 / the knowledge data is inconsistent:\n  - " + "\n  - ".join(problems))
    entries: list[Entry] = []
    for item in faq.values():
        sec = sections[item.source]
        units = (
            [("question", item.question)]
            + [("variant", v) for v in item.variants]
            + [("written", v) for v in item.written]
            + [("answer", item.answer)]
        )
        entries.append(
            Entry(
                f"faq:{item.id}",
                "faq",
                item.question,
                item.answer,
                sec.doc_title,
                sec.title,
                sec.key,
                units,
                faq_id=item.id,
            )
        )
    for gap in gaps.values():
        units = (
            [("question", gap.topic)] + [("variant", q) for q in gap.questions] + [("written", q) for q in gap.written]
        )
        entries.append(Entry(f"gap:{gap.id}", "gap", gap.topic, gap.reason, "", gap.topic, "", units, gap_id=gap.id))
    for sec in sections.values():
        entries.append(
            Entry(
                f"doc:{sec.key}",
                "doc",
                sec.title,
                sec.text,
                sec.doc_title,
                sec.title,
                sec.key,
                [("title", sec.title), ("section", sec.text)],
            )
        )
    files = doc_files + faq_files + ([root / WRITTEN_FILE] if (root / WRITTEN_FILE).is_file() else [])
    return Corpus(sections, faq, entries, files, gaps, written.out_of_domain)


def data_files(root: Path = ROOT) -> list[Path]:
    """Every file whose content the indexes are built from (the staleness check hashes these)."""
    files = sorted((root / "knowledge" / "documents").glob("*.yml")) + sorted((root / "data" / "faq").glob("*.yml"))
    if (root / WRITTEN_FILE).is_file():
        files.append(root / WRITTEN_FILE)
    dictionary = root / "data" / "dictionary"
    ud = userdict_path(dictionary)
    if ud is not None:
        files.append(ud)
    if (dictionary / "synonyms.yml").is_file():
        files.append(dictionary / "synonyms.yml")
    files += sorted((root / "knowledge" / "calibration").glob("*.yml"))
    # The calibration half of the user messages chooses the thresholds (knowledge/build.py).
    files += [
        p for p in (root / "data" / "eval" / "calibration.yml", root / "data" / "eval" / "sections.yml") if p.is_file()
    ]
    return files


def data_hash(root: Path = ROOT, salt: str = "") -> str:
    """sha256 over the relative path and content of every data file (and `salt`: format, model)."""
    h = hashlib.sha256(salt.encode())
    for path in data_files(root):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
