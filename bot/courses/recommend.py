"""Which package fits a prospective student, with the catalogue's own words as the reasons.

The catalogue lists, per package, who it suits (`packages[].suitable_for`, e.g. "平时工作忙，想要快速
掌握考试要点"). A student answers a few questions; each answer that points to a situation is
matched against those lines by the cue words below, and a package scores one point per answer
that one of its lines covers. The lines that matched are the reasons shown to the user, quoted
as they are. Cue words are only the vocabulary of matching: a test checks that each of them
still occurs in the catalogue, so a catalogue edit cannot silently switch a question off.

"Asks only what it needs": `open_questions` lists the unanswered questions that could still
change the result. Once the leading package is ahead by more than any other package could
still gain, nothing more is asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.courses.catalogue import Catalogue, Package

# question -> answer -> cue words looked for in packages[].suitable_for
QUESTIONS: dict[str, dict[bool, tuple[str, ...]]] = {
    # 零基础 / 基础薄弱 / 行业小白
    "zero_basis": {True: ("零基础", "小白", "基础知识薄弱"), False: ()},
    # 考过、没过，而且不止一次
    "failed_before": {True: ("未通过",), False: ()},
    # 平时工作忙
    "busy": {True: ("工作忙",), False: ()},
    # 有没有施工现场经验（没有 -> 现场经验不足）
    "site_experience": {True: (), False: ("现场经验不足",)},
    # 报全科（全部考试科目）还是单科；derived from the chosen subjects
    "all_subjects": {True: ("全部考试",), False: ()},
}
QUESTION_ORDER = ("zero_basis", "failed_before", "busy", "site_experience", "all_subjects")


@dataclass(frozen=True)
class PackageFit:
    package: Package
    score: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    recommended: tuple[str, ...]  # one package id, or several when they fit equally well
    fits: tuple[PackageFit, ...]  # every package, best first
    decided: bool  # no unanswered question can change `recommended`
    open_questions: tuple[str, ...]  # unanswered questions that still matter, in asking order


def _matching_lines(package: Package, cues: tuple[str, ...]) -> list[str]:
    return [line for line in package.suitable_for if any(cue in line for cue in cues)]


def recommend(catalogue: Catalogue, answers: dict[str, bool | None]) -> Recommendation:
    """`answers` maps question ids (QUESTIONS) to True / False, or None when not asked yet."""
    fits: list[PackageFit] = []
    potential: dict[str, int] = {}
    for package in catalogue.packages:
        score, reasons = 0, []
        gain = 0
        for question in QUESTION_ORDER:
            answer = answers.get(question)
            if answer is None:
                # The most this package could still gain from this question.
                gain += max(1 if _matching_lines(package, cues) else 0 for cues in QUESTIONS[question].values())
                continue
            lines = _matching_lines(package, QUESTIONS[question][bool(answer)])
            if lines:
                score += 1
                reasons.extend(line for line in lines if line not in reasons)
        fits.append(PackageFit(package, score, tuple(reasons)))
        potential[package.id] = gain
    # Stable sort: equal scores keep catalogue order.
    fits.sort(key=lambda f: -f.score)
    best = fits[0].score
    recommended = tuple(f.package.id for f in fits if f.score == best)
    unanswered = tuple(q for q in QUESTION_ORDER if answers.get(q) is None)
    decided = len(recommended) == 1 and all(f.score + potential[f.package.id] < best for f in fits[1:])
    return Recommendation(
        recommended=recommended,
        fits=tuple(fits),
        decided=decided or not unanswered,
        open_questions=() if decided else unanswered,
    )
