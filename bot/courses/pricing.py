"""The price of a package for a set of subjects.

What the source material says, and what it does not
----------------------------------------------------
The course page lists, per package, one 全科 price and two 单科 prices (实务, 公共); the figures are
read from knowledge/documents/course_catalogue.yml (packages[].prices), never written here. The page
does not say what 全科 contains. The composition used here is the exam's three subjects, as implied
by the catalogue's subject list: every 公共 subject plus ONE 实务 specialty. Which subject is 公共
and which is 实务 is the catalogue's `subjects[].kind`.

The rule
--------
1. 全科: when the chosen subjects contain every 公共 subject and at least one 实务 subject, those
   three are priced together at the package's `full` price.
2. Extra 实务 specialties on top of 全科 are priced as 单科 实务 each: 全科 + extra singles
   (e.g. 全科 with 建筑 + 市政 = full + single_practice).
3. Anything else is priced per subject: 单科 实务 for a 实务 subject, 单科 公共 for a 公共 subject.
4. 全科 is applied only when it is not dearer than the singles it replaces (with the catalogue's
   prices it is always cheaper; the guard keeps the rule right if a price changes).
So the total is the cheapest way to buy exactly the chosen subjects from this price list.

What the quote tells the user
-----------------------------
- When 全科 applies, how much the same subjects would cost as singles, and what 全科 saves.
- When the chosen singles together cost more than 全科, that they do, what 全科 contains, and what
  全科 (plus any extra 实务 they chose) would cost instead, including the subjects it would add.
Prices are whole yuan (the page gives no cents).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.courses.catalogue import Catalogue, Package, Subject, yuan


@dataclass(frozen=True)
class QuoteLine:
    kind: str  # "full" | "single"
    label: str
    subject_ids: tuple[str, ...]
    price: int


@dataclass(frozen=True)
class Quote:
    package: Package
    subjects: tuple[Subject, ...]  # catalogue order, no repeats
    lines: tuple[QuoteLine, ...]
    total: int
    singles_total: int  # every chosen subject bought as a single
    full_applied: bool
    notes: tuple[str, ...] = field(default_factory=tuple)
    # What 全科 (+ the other chosen 实务 as singles) would cost when the user chose singles only.
    full_alternative_total: int | None = None


def single_price(package: Package, subject: Subject) -> int:
    return package.prices.single_practice if subject.kind == "实务" else package.prices.single_public


def quote(catalogue: Catalogue, package_id: str, subject_ids) -> Quote:
    """Price `subject_ids` (ids, any order, repeats ignored) in package `package_id`.

    Raises KeyError for an unknown package or subject and ValueError for an empty choice.
    """
    package = catalogue.package(package_id)
    for sid in subject_ids:
        catalogue.subject(sid)  # KeyError when unknown
    ordered = catalogue.ordered_subject_ids(subject_ids)
    if not ordered:
        raise ValueError("no subjects chosen")
    subjects = tuple(catalogue.subject(sid) for sid in ordered)
    publics = [s for s in subjects if s.kind == "公共"]
    practices = [s for s in subjects if s.kind == "实务"]
    all_publics = {s.id for s in catalogue.public_subjects}
    singles_total = sum(single_price(package, s) for s in subjects)

    bundle: list[Subject] = []
    if all_publics <= {s.id for s in publics} and practices:
        candidate = [*publics, practices[0]]
        if package.prices.full <= sum(single_price(package, s) for s in candidate):
            bundle = candidate

    lines: list[QuoteLine] = []
    if bundle:
        lines.append(
            QuoteLine(
                "full", f"全科（{'+'.join(s.name for s in bundle)}）", tuple(s.id for s in bundle), package.prices.full
            )
        )
    in_bundle = {s.id for s in bundle}
    for s in subjects:
        if s.id not in in_bundle:
            lines.append(QuoteLine("single", f"单科 {s.name}（{s.kind}）", (s.id,), single_price(package, s)))
    total = sum(line.price for line in lines)

    notes: list[str] = []
    alternative: int | None = None
    if bundle:
        replaced = sum(single_price(package, s) for s in bundle)
        if replaced > package.prices.full:
            parts = "+".join(str(single_price(package, s)) for s in bundle)
            notes.append(
                f"{'、'.join(s.name for s in bundle)}这{len(bundle)}科如果按单科分别报，需要"
                f"{parts}={yuan(replaced)}；按全科价{yuan(package.prices.full)}，"
                f"省{yuan(replaced - package.prices.full)}。"
            )
    elif singles_total > package.prices.full:
        extra_practices = max(len(practices) - 1, 0)
        alternative = package.prices.full + extra_practices * package.prices.single_practice
        missing = [s.name for s in catalogue.public_subjects if s.id not in {p.id for p in publics}]
        if not practices:
            missing.append("一门实务")
        public_names = "、".join(s.name for s in catalogue.public_subjects)
        note = (
            f"您选的{len(subjects)}科按单科合计{yuan(singles_total)}，比{package.name}全科价"
            f"{yuan(package.prices.full)}还高。全科包含{public_names}和一门实务；"
        )
        if extra_practices:
            note += f"改报全科再加报其余{extra_practices}门实务，共{yuan(alternative)}"
        else:
            note += f"改报全科共{yuan(alternative)}"
        if alternative < singles_total:
            note += f"，比单科合计少{yuan(singles_total - alternative)}"
        elif alternative > singles_total:
            note += f"，比单科合计多{yuan(alternative - singles_total)}"
        note += f"，还能多学{'、'.join(missing)}。" if missing else "。"
        notes.append(note)

    return Quote(
        package=package,
        subjects=subjects,
        lines=tuple(lines),
        total=total,
        singles_total=singles_total,
        full_applied=bool(bundle),
        notes=tuple(notes),
        full_alternative_total=alternative,
    )
