"""Every figure in the course FAQ answers (data/faq/courses.yml) is the catalogue's.

The FAQ answers are written prose (with the page's own contradictions spelled out, "24-39 or
24-36 小时/科"), so they are not generated from the catalogue; instead this test reads each figure
back to the record it is about and compares it with knowledge/documents/course_catalogue.yml:
- a price (¥N) with its kind (全科, 单科 实务, 单科 公共) against packages[].prices of the package
  named before it on its line (else the item's source package);
- a validity ("N年有效期", "无忧取证班N年") and a share ("N%学员选择") against that package;
- hours ("N小时/科", "N-M小时/课") against the class or part named before it (else the source
  class): its hours_text, or its source_notes where the page says it otherwise;
- a package's year ("2025年无忧取证班") against packages[].year.
Whatever digits are left must be inside a catalogue text quoted as it is ("赠送2024年【强化精讲班】模块",
"考前5页纸"), so that no figure goes unchecked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.courses.catalogue import Catalogue, get_catalogue

ROOT = Path(__file__).resolve().parents[2]
FAQ = ROOT / "data" / "faq" / "courses.yml"

PRICE = re.compile(r"(全科|单科)?[：:]?\s*¥(\d+)(?:（(实务|公共)）)?")
VALIDITY = re.compile(r"(\d+)年有效期")
POPULARITY = re.compile(r"(\d+)%学员选择")
HOURS = re.compile(r"\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?小时/[科课]")
YEAR = re.compile(r"(\d{4})年")
PRICE_KINDS = {"全科": "full", "实务": "single_practice", "公共": "single_public"}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _named_before(line: str, end: int, names: dict[str, object]):
    """The record whose name occurs last before position `end` of `line` (the longest name wins a tie)."""
    best, best_at = None, -1
    for name, record in sorted(names.items(), key=lambda kv: len(kv[0])):
        at = line.rfind(name, 0, end)
        if at >= best_at and at >= 0:
            best, best_at = record, at
    return best


def figure_problems(cat: Catalogue, item: dict) -> list[str]:
    """What in one FAQ answer does not match the catalogue, as readable lines (empty: all match)."""
    packages = {p.name: p for p in cat.packages}
    classes: dict[str, object] = {c.name: c for c in cat.classes}
    for c in cat.classes:
        classes.update({part.name: part for part in c.parts or []})
    source = item["source"].split("#", 1)[1]
    source_package = next((p for p in cat.packages if p.id == source), None)
    source_class = next((c for c in cat.classes if c.id == source), None)
    verbatim = sorted({s for s in _strings(cat.model_dump()) if re.search(r"\d", s)}, key=len, reverse=True)
    notes_of = {id(c): " ".join(c.source_notes) for c in cat.classes}

    problems: list[str] = []
    for line in item["answer"].splitlines():
        left = line
        for m in PRICE.finditer(line):
            package = _named_before(line, m.start(), packages) or source_package
            kind = PRICE_KINDS.get(m.group(3) or m.group(1) or "")
            if package is None or kind is None:
                problems.append(f"{m.group(0)!r}: which package and which price it is cannot be told")
            elif getattr(package.prices, kind) != int(m.group(2)):
                problems.append(f"{m.group(0)!r}: {package.name} {kind} is ¥{getattr(package.prices, kind)}")
        for m in VALIDITY.finditer(line):
            package = _named_before(line, m.start(), packages) or source_package
            if package is None or package.validity_text != m.group(0):
                problems.append(
                    f"{m.group(0)!r}: {getattr(package, 'name', '?')} says {package and package.validity_text}"
                )
        for package in cat.packages:  # "无忧取证班2年"
            for m in re.finditer(rf"{re.escape(package.name)}(\d+)年(?!有效期)", line):
                if float(m.group(1)) != package.validity_years:
                    problems.append(f"{m.group(0)!r}: {package.name} is valid {package.validity_years} years")
            for m in re.finditer(rf"(\d{{4}})年{re.escape(package.name)}", line):
                if int(m.group(1)) != package.year:
                    problems.append(f"{m.group(0)!r}: {package.name} is of {package.year}")
                left = left.replace(m.group(0), package.name)
        for m in POPULARITY.finditer(line):
            package = _named_before(line, m.start(), packages) or source_package
            if package is None or package.popularity != m.group(0):
                problems.append(
                    f"{m.group(0)!r}: {getattr(package, 'name', '?')} says {package and package.popularity}"
                )
        for m in HOURS.finditer(line):
            record = _named_before(line, m.start(), classes) or source_class
            said = [getattr(record, "hours_text", None) or "", notes_of.get(id(record), "")]
            if record is None or not any(m.group(0) in text for text in said):
                problems.append(f"{m.group(0)!r}: {getattr(record, 'name', '?')} says {said[0] or 'no hours'}")
        for pattern in (PRICE, VALIDITY, POPULARITY, HOURS):
            left = pattern.sub(" ", left)
        for package in cat.packages:
            left = re.sub(rf"{re.escape(package.name)}\d+年", " ", left)
        # "密卷点题班1、2、3": each number with the name before it is a part of the catalogue.
        for stem in {name[:-1] for name in classes if name[-1].isdigit()}:
            for m in re.finditer(rf"{re.escape(stem)}(\d(?:、\d)+)", left):
                if all(f"{stem}{n}" in classes for n in m.group(1).split("、")):
                    left = left.replace(m.group(0), " ")
        for text in verbatim:
            left = left.replace(text, " ")
        for m in re.finditer(r"[^\s]*\d[^\s]*", left):
            problems.append(f"{m.group(0)!r}: a figure this test cannot find in the catalogue")
    return problems


def _items() -> list[dict]:
    items = yaml.safe_load(FAQ.read_text(encoding="utf-8"))["items"]
    return [item for item in items if item["source"].startswith("catalogue#")]


@pytest.mark.parametrize("item", _items(), ids=lambda item: item["id"])
def test_every_figure_in_a_course_faq_answer_is_the_catalogues(item):
    assert figure_problems(get_catalogue(), item) == []


def test_the_answers_do_state_figures():
    """The check has something to check: prices, validity, hours and shares all occur."""
    answers = "\n".join(item["answer"] for item in _items())
    for pattern in (PRICE, VALIDITY, POPULARITY, HOURS):
        assert pattern.search(answers), pattern.pattern


@pytest.mark.parametrize(
    "item_id, written, wrong",
    [
        ("price_wuyou", "全科¥6280", "全科¥6380"),  # a price changed
        ("price_overview", "单科¥2380（实务）", "单科¥2180（实务）"),  # another package's price
        ("pkg_compare", "¥2780（公共）", "¥2780（实务）"),  # the wrong kind
        ("validity", "AI私塾班：1年有效期", "AI私塾班：2年有效期"),
        ("pkg_ai_fit", "32%学员选择", "68%学员选择"),
        ("class_daoxue", "1小时/科", "2小时/科"),
        ("class_sijiao", "24-36小时/科", "24-38小时/科"),
        ("replay_devices", "AI私塾班1年", "AI私塾班3年"),
        ("vip_materials", "考前5页纸", "考前6页纸"),
    ],
)
def test_a_figure_that_is_not_the_catalogues_is_found(item_id, written, wrong):
    item = next(item for item in _items() if item["id"] == item_id)
    assert written in item["answer"], "the FAQ changed: pick another figure for this test"
    tampered = {**item, "answer": item["answer"].replace(written, wrong, 1)}
    assert figure_problems(get_catalogue(), tampered), f"{wrong!r} was not noticed"
