"""The course catalogue, read from its one source of truth: knowledge/documents/course_catalogue.yml.

Nothing in code repeats a fact from that file (names, prices, hours, teachers, who a package suits):
the backend loads it, checks its shape, and serves it. `Catalogue.match` turns a user's words
("无优班", "全科+建筑", "法规和施管") into catalogue ids; it folds typos and synonyms with the same
normalisation the knowledge search uses (the knowledge engine's lexicon, data/dictionary/synonyms.yml), so an
alias is written down once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.settings import PROJECT_ROOT

CATALOGUE_PATH = PROJECT_ROOT / "knowledge" / "documents" / "course_catalogue.yml"

# Word endings that a user leaves out: "建筑" for 建筑实务, "法规" for 法规相关知识, "无忧取证" for 无忧取证班.
_SUFFIXES = ("工程实务", "实务", "相关知识", "班")
# What a user writes for "all the subjects of the exam"; synonyms.yml folds 全套/所有科目/全部科目 into it.
_FULL_COURSE_WORD = "全科"


class CatalogueError(RuntimeError):
    """The catalogue file is missing or does not have the expected shape."""


class _Open(BaseModel):
    # Fields this code does not use are kept and served as they are.
    model_config = ConfigDict(extra="allow")


class ClassPart(_Open):
    name: str
    format: str | None = None
    hours_text: str | None = None
    hours_min: float | None = None
    hours_max: float | None = None
    unit: str | None = None
    goal: str | None = None
    strength: str | None = None


class CourseClass(ClassPart):
    id: str
    stage: str
    source_notes: list[str] = Field(default_factory=list)
    parts: list[ClassPart] | None = None


class Subject(_Open):
    id: str
    name: str
    kind: Literal["公共", "实务"]
    teachers: list[str] = Field(default_factory=list)


class Prices(_Open):
    full: int = Field(gt=0)
    single_practice: int = Field(gt=0)
    single_public: int = Field(gt=0)


class Package(_Open):
    id: str
    name: str
    year: int | None = None
    popularity: str | None = None
    suitable_for: list[str] = Field(default_factory=list)
    validity_text: str | None = None
    validity_years: float | None = None
    guarantee: str | None = None
    bonus: str | None = None
    prices: Prices


class Catalogue(_Open):
    title: str | None = None
    classes: list[CourseClass]
    subjects: list[Subject]
    packages: list[Package]
    study_mode: dict[str, Any] | None = None
    question_bank: dict[str, Any] | None = None
    vip_materials: list[Any] | None = None
    vip_services: list[Any] | None = None
    source_notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        for kind, items in (("class", self.classes), ("subject", self.subjects), ("package", self.packages)):
            ids = [item.id for item in items]
            if len(ids) != len(set(ids)):
                raise ValueError(f"duplicate {kind} ids in the catalogue: {ids}")
        if not self.public_subjects or not self.practice_subjects:
            raise ValueError("the catalogue needs at least one 公共 and one 实务 subject")
        return self

    # -- lookups ---------------------------------------------------------------------------------
    @cached_property
    def public_subjects(self) -> list[Subject]:
        return [s for s in self.subjects if s.kind == "公共"]

    @cached_property
    def practice_subjects(self) -> list[Subject]:
        return [s for s in self.subjects if s.kind == "实务"]

    def package(self, package_id: str) -> Package:
        for p in self.packages:
            if p.id == package_id:
                return p
        raise KeyError(package_id)

    def subject(self, subject_id: str) -> Subject:
        for s in self.subjects:
            if s.id == subject_id:
                return s
        raise KeyError(subject_id)

    def ordered_subject_ids(self, subject_ids) -> list[str]:
        """Distinct ids in catalogue order (the order users see in the subject list)."""
        wanted = set(subject_ids)
        return [s.id for s in self.subjects if s.id in wanted]

    # -- understanding a user's words -----------------------------------------------------------
    def resolve_package(self, value: str) -> Package | None:
        """An id ("wuyou") or anything a user calls a package ("无优班", "AI私塾")."""
        value = (value or "").strip()
        for p in self.packages:
            if value == p.id:
                return p
        found = self.match(value).packages
        return self.package(found[0]) if len(found) == 1 else None

    def resolve_subject(self, value: str) -> Subject | None:
        value = (value or "").strip()
        for s in self.subjects:
            if value == s.id:
                return s
        found = self.match(value).subjects
        return self.subject(found[0]) if len(found) == 1 else None

    def match(self, text: str) -> Match:
        """Packages and subjects named in free text, and whether the user asked for 全科."""
        from bot.search_lexicon import search_lexicon  # loads the knowledge index on first use

        normalized = search_lexicon().normalize_text(text or "")
        compact = normalized.replace(" ", "")
        packages = [p.id for p in self.packages if _mentions(compact, self._aliases[p.id])]
        subjects = [s.id for s in self.subjects if _mentions(compact, self._aliases[s.id])]
        return Match(packages=packages, subjects=subjects, full_course=_FULL_COURSE_WORD in compact)

    @cached_property
    def _aliases(self) -> dict[str, set[str]]:
        """Per package / subject id: its normalised name, the name without its ending, and, when an
        ending was dropped, the first two characters if no other item starts the same way ("水利")."""
        from bot.search_lexicon import search_lexicon

        normalize_text = search_lexicon().normalize_text
        aliases: dict[str, set[str]] = {}
        prefixes: dict[str, set[str]] = {}
        for item in [*self.packages, *self.subjects]:
            name = normalize_text(item.name).replace(" ", "")
            names = {name, item.name.lower()}
            for suffix in _SUFFIXES:
                if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                    stem = name[: -len(suffix)]
                    names.add(stem)
                    if len(stem) > 2 and all("\u4e00" <= ch <= "\u9fff" for ch in stem[:2]):
                        prefixes.setdefault(stem[:2], set()).add(item.id)
                    break
            aliases[item.id] = names
        for prefix, owners in prefixes.items():
            if len(owners) == 1:
                aliases[next(iter(owners))].add(prefix)
        return aliases


def yuan(amount: int) -> str:
    """A price as users read it: whole yuan (the page gives no cents)."""
    return f"¥{amount}"


def package_fields(package: Package) -> list[dict[str, str]]:
    """A package's catalogue fields as labelled texts, in the course page's order and words: the one
    rendering of them (GET /api/packages serves it; the chat's comparison and choices show it)."""
    rows = (
        ("popularity", "选择比例", package.popularity),
        ("suitable_for", "适合学员", "；".join(package.suitable_for)),
        ("validity", "课程有效期", package.validity_text),
        ("guarantee", "协议保障", package.guarantee),
        ("bonus", "增值内容", package.bonus),
        ("full", "全科", yuan(package.prices.full)),
        ("single_practice", "单科（实务）", yuan(package.prices.single_practice)),
        ("single_public", "单科（公共）", yuan(package.prices.single_public)),
    )
    return [{"id": key, "label": label, "text": text or ""} for key, label, text in rows]


@dataclass(frozen=True)
class Match:
    packages: list[str]
    subjects: list[str]
    full_course: bool


def _mentions(text: str, aliases: set[str]) -> bool:
    return any(alias and alias in text for alias in aliases)


def catalogue_path() -> Path:
    return Path(os.environ.get("CATALOGUE_PATH", CATALOGUE_PATH))


def load_catalogue(path: Path | None = None) -> Catalogue:
    path = Path(path or catalogue_path())
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError(f"course catalogue not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"course catalogue is not valid YAML: {path}: {exc}") from exc
    try:
        return Catalogue.model_validate(raw or {})
    except ValidationError as exc:
        raise CatalogueError(f"course catalogue {path} does not have the expected shape:\n{exc}") from exc


@lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int) -> Catalogue:
    return load_catalogue(Path(path))


def get_catalogue() -> Catalogue:
    """The catalogue, read once and again only when the file changes (edits need no restart)."""
    path = catalogue_path()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise CatalogueError(f"course catalogue not found: {path}") from exc
    return _cached(str(path), mtime)
