"""Load bot/registration/rules.yml into typed, cross-checked objects.

The YAML file holds the facts (numbers, names, source sentences); this module only reads it and
refuses a file whose references do not resolve, so a typo fails at start-up and in the tests,
not in front of a user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).with_name("rules.yml")

# Conditions a step may carry in `when:`; evaluated by the planner.
STEP_CONDITIONS = frozenset(
    {
        "first_class",
        "not_first_class",
        "ce_required",
        "added_to_main",
        "info_contact",
        "info_identity",
        "info_other",
    }
)
# Approval kinds that are not a time-limit rule id.
SPECIAL_APPROVALS = frozenset({"cancellation", "info_change"})


class RulebookError(ValueError):
    """rules.yml is inconsistent (unknown reference, missing field)."""


@dataclass(frozen=True)
class Rule:
    id: str
    section: str
    ref: str
    source: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise RulebookError(f"rule {self.id} has no value {key!r}") from None


@dataclass(frozen=True)
class Named:
    """A code with its Chinese name and the other ways users say it: `aliases` only as a whole answer,
    `words` also inside a sentence (bot/registration/reading.py)."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class BusinessType(Named):
    rule: str = ""
    eligibility: bool = True
    continuing_education: bool = False
    approval: str = ""
    rejects: tuple[str, ...] = ()
    asks_first_class: bool = False
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepTemplate:
    id: str
    title: str
    detail: str
    rules: tuple[str, ...]
    when: tuple[str, ...] = ()


@dataclass(frozen=True)
class MaterialItem:
    id: str
    name: str
    requirement: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class AuthMethod:
    name: str
    how: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Rulebook:
    document: str
    rules: Mapping[str, Rule]
    business_types: Mapping[str, BusinessType]
    info_change_kinds: Mapping[str, Named]
    specialty_roles: Mapping[str, Named]
    employer_types: Mapping[str, Named]
    materials: tuple[MaterialItem, ...]
    steps: Mapping[str, StepTemplate]
    auth_methods: Mapping[str, tuple[AuthMethod, ...]] = field(default_factory=dict)  # personal / enterprise
    auth_exempt: Mapping[str, str] = field(default_factory=dict)  # personal / enterprise -> rule id
    # 增项转主项 (注意事项第11条): the third answer to 主项/增项, planned as main + added_to_main_after_first_class
    added_to_main: Named | None = None

    def rule(self, rule_id: str) -> Rule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise RulebookError(f"unknown rule {rule_id!r}") from None

    @staticmethod
    def lookup(table: Mapping[str, Named], text: str) -> str | None:
        """The code for `text` given as a code, a Chinese name, an alias or a word (exact, whitespace-trimmed)."""
        wanted = text.strip().lower()
        for code, item in table.items():
            if wanted in (said.lower() for said in (code, item.name, *item.aliases, *item.words)):
                return code
        return None

    @property
    def listed_employer_codes(self) -> tuple[str, ...]:
        """The unit types named in 申报条件第1条 (the rule's own list, not the 'other'/'none' extras)."""
        return tuple(self.rule("eligibility.certificate_employer")["employer_types"])


def _named(table: Mapping[str, Any], cls=Named, **extra_fields) -> dict[str, Named]:
    out = {}
    for code, spec in (table or {}).items():
        if not isinstance(spec, Mapping) or "name" not in spec:
            raise RulebookError(f"{code}: needs a name")
        kwargs = {k: spec[k] for k in extra_fields if k in spec}
        for k, conv in extra_fields.items():
            if k in kwargs:
                kwargs[k] = conv(kwargs[k])
        out[code] = cls(
            code=code,
            name=spec["name"],
            aliases=tuple(spec.get("aliases") or ()),
            words=tuple(spec.get("words") or ()),
            **kwargs,
        )
    return out


def parse_rulebook(data: Mapping[str, Any]) -> Rulebook:
    rules: dict[str, Rule] = {}
    for rule_id, spec in (data.get("rules") or {}).items():
        missing = [k for k in ("section", "ref", "source") if not spec.get(k)]
        if missing:
            raise RulebookError(f"rule {rule_id} lacks {', '.join(missing)}")
        values = {k: v for k, v in spec.items() if k not in ("section", "ref", "source")}
        rules[rule_id] = Rule(rule_id, spec["section"], spec["ref"], spec["source"].strip(), values)

    business_types = _named(
        data.get("business_types"),
        BusinessType,
        rule=str,
        eligibility=bool,
        continuing_education=bool,
        approval=str,
        rejects=tuple,
        asks_first_class=bool,
        steps=tuple,
    )
    steps = {
        step_id: StepTemplate(
            step_id, spec["title"], spec["detail"], tuple(spec.get("rules") or ()), tuple(spec.get("when") or ())
        )
        for step_id, spec in (data.get("steps") or {}).items()
    }
    materials = tuple(
        MaterialItem(m["id"], m["name"], m["requirement"], tuple(m.get("rules") or ()))
        for m in (data.get("materials") or ())
    )
    auth = data.get("authentication") or {}
    auth_methods = {
        who: tuple(AuthMethod(m["name"], m["how"], tuple(m.get("rules") or ())) for m in auth.get(who) or ())
        for who in ("personal", "enterprise")
    }
    book = Rulebook(
        document=data.get("document", ""),
        rules=rules,
        business_types=business_types,
        info_change_kinds=_named(data.get("info_change_kinds")),
        specialty_roles=_named(data.get("specialty_roles")),
        employer_types=_named(data.get("employer_types")),
        materials=materials,
        steps=steps,
        auth_methods=auth_methods,
        auth_exempt=dict(auth.get("exempt") or {}),
        added_to_main=_named({"added_to_main": data["added_to_main"]})["added_to_main"]
        if data.get("added_to_main")
        else None,
    )
    _check(book)
    return book


def _check(book: Rulebook) -> None:
    """Every reference resolves; the few codes the planner relies on exist."""
    problems = []
    for biz in book.business_types.values():
        if biz.rule not in book.rules:
            problems.append(f"business {biz.code}: unknown rule {biz.rule}")
        if biz.approval not in book.rules and biz.approval not in SPECIAL_APPROVALS:
            problems.append(f"business {biz.code}: unknown approval {biz.approval}")
        problems += [f"business {biz.code}: unknown step {s}" for s in biz.steps if s not in book.steps]
    for step in book.steps.values():
        problems += [f"step {step.id}: unknown rule {r}" for r in step.rules if r not in book.rules]
        problems += [f"step {step.id}: unknown condition {c}" for c in step.when if c not in STEP_CONDITIONS]
    for who in ("personal", "enterprise"):
        if not book.auth_methods.get(who):
            problems.append(f"authentication.{who} is empty")
        for method in book.auth_methods.get(who, ()):
            problems += [f"auth method {method.name}: unknown rule {r}" for r in method.rules if r not in book.rules]
        if book.auth_exempt.get(who) not in book.rules:
            problems.append(f"authentication.exempt.{who}: unknown rule {book.auth_exempt.get(who)}")
    for item in book.materials:
        problems += [f"material {item.id}: unknown rule {r}" for r in item.rules if r not in book.rules]
    for rule_id in (
        "eligibility.age",
        "eligibility.certificate_employer",
        "ce.three_years",
        "ce.added_to_main",
        "ce.hotline",
        "time.province",
        "time.city",
        "process.info_change_other",
    ):
        if rule_id not in book.rules:
            problems.append(f"missing rule {rule_id}")
    if not problems:
        listed = book.rule("eligibility.certificate_employer").values.get("employer_types") or {}
        problems += [
            f"employer type {c} of 申报条件 has no entry in employer_types"
            for c in listed
            if c not in book.employer_types
        ]
        problems += [f"employer_types needs {c}" for c in ("other", "none") if c not in book.employer_types]
        problems += [f"specialty_roles needs {c}" for c in ("main", "added") if c not in book.specialty_roles]
    for table_name, table in (
        ("business_types", book.business_types),
        ("employer_types", book.employer_types),
        ("specialty_roles", book.specialty_roles),
        ("info_change_kinds", book.info_change_kinds),
    ):
        said_for: dict[str, str] = {}
        for item in table.values():
            for said in (item.code, item.name, *item.aliases, *item.words):
                if said_for.setdefault(said, item.code) != item.code:  # a word must name one choice
                    problems.append(f"{table_name}: “{said}” names both {said_for[said]} and {item.code}")
    if problems:
        raise RulebookError("rules.yml: " + "; ".join(problems))


@lru_cache(maxsize=4)
def load_rulebook(path: Path = RULES_FILE) -> Rulebook:
    with open(path, encoding="utf-8") as fh:
        return parse_rulebook(yaml.safe_load(fh) or {})
