"""A user's situation: parsed values, the date arithmetic the rules need, and contradiction checks.

Parsing of single fields (with Chinese messages) lives in schemas.py; here are the checks that
need several fields or today's date. They raise SituationError with one Chinese reason per field.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bot.registration.rules import Rulebook

MIN_AGE, MAX_AGE = 18, 120  # plausibility of an age a user types, not a rule of the material
MAX_SUBMISSION_AHEAD = timedelta(days=366)
CE_FIELDS = ("certificate_issue_date", "specialty_role", "added_to_main_after_first_class")
FIELD_NAMES = {
    "business_type": "业务类型",
    "certificate_issue_date": "证书签发日期",
    "specialty_role": "主项/增项",
    "added_to_main_after_first_class": "增项转主项（主项已取得一级同专业证书）",
    "info_change_kind": "要修改的信息类别",
    "submission_date": "提交日期",
    "age": "年龄",
    "employer_type": "受聘单位类型",
}


class SituationError(ValueError):
    """The situation is contradictory or impossible; `problems` is [(field, 中文原因)]."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(reason for _, reason in problems))
        self.problems = problems


def add_years(day: date, years: int) -> date:
    """Same month and day `years` later; 29 February becomes the last day of February.

    (按年计算期间，到期月没有对应日的，以该月最后一日为期间的最后一日。)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, day.month, calendar.monthrange(day.year + years, day.month)[1])


_ISSUE_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True)
class IssueDate:
    """A certificate issue date, possibly known only to the month or the year ("2019年发的")."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> IssueDate:
        """`YYYY`, `YYYY-MM` or `YYYY-MM-DD`; ValueError when it is not a real date."""
        m = _ISSUE_DATE.match(text.strip())
        if not m:
            raise ValueError(text)
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        result = cls(year, int(month) if month else None, int(day) if day else None)
        result.earliest()  # raises ValueError for month 13, 31 February, ...
        return result

    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        if self.day:
            return date(self.year, self.month, self.day)
        if self.month:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, 12, 31)

    @property
    def exact(self) -> bool:
        return self.day is not None

    def iso(self) -> str:
        return "-".join([f"{self.year:04d}"] + [f"{v:02d}" for v in (self.month, self.day) if v])

    def chinese(self) -> str:
        return f"{self.year}年" + (f"{self.month}月" if self.month else "") + (f"{self.day}日" if self.day else "")


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class Situation:
    business_type: str | None = None
    certificate_issue_date: IssueDate | None = None
    specialty_role: str | None = None  # main | added
    age: int | None = None
    employer_type: str | None = None
    has_certificate: bool | None = None
    first_class_authenticated: bool | None = None
    submission_date: date | None = None  # None = today
    added_to_main_after_first_class: bool | None = None
    info_change_kind: str | None = None


def check_situation(
    s: Situation, today: date, book: Rulebook, drop_irrelevant: bool = False
) -> tuple[Situation, list[tuple[str, str]]]:
    """Resolve defaults and refuse contradictions.

    Returns the situation with `submission_date` filled and (when `drop_irrelevant`) the fields that
    do not apply to the business type removed, plus [(field, why it was ignored)]. Without
    `drop_irrelevant` such fields are a contradiction (e.g. 注销 with a certificate date).
    Impossible values (future certificate, self-contradicting answers) are always refused.
    """
    problems: list[tuple[str, str]] = []
    ignored: list[tuple[str, str]] = []
    biz = book.business_types[s.business_type] if s.business_type else None
    updates: dict = {}

    def irrelevant(field: str, reason: str) -> None:
        if drop_irrelevant:
            updates[field] = None
            ignored.append((field, reason))
        else:
            problems.append((field, reason))

    if s.age is not None and not MIN_AGE <= s.age <= MAX_AGE:
        problems.append(("age", f"年龄{s.age}周岁不合理：请填写{MIN_AGE}到{MAX_AGE}之间的周岁年龄。"))
    if biz is not None:
        for field in biz.rejects:
            if getattr(s, field) is not None:
                irrelevant(field, f"{biz.name}不涉及继续教育，不需要填写{FIELD_NAMES[field]}。")
    if s.info_change_kind is not None and s.business_type != "info_change":
        irrelevant("info_change_kind", "只有“个人信息修改”需要填写要修改的信息类别。")
    if s.added_to_main_after_first_class and "added_to_main_after_first_class" not in updates:
        if s.specialty_role == "added":
            problems.append(
                (
                    "specialty_role",
                    "您说该增项专业现在作为主项申请注册，专业却填了增项，两者矛盾，请确认是主项还是增项。",
                )
            )
        elif s.business_type not in (None, "re_registration", "change_employer"):
            irrelevant(
                "added_to_main_after_first_class",
                f"增项专业作为主项申请注册属于重新注册（注意事项第11条），与{biz.name}不符。",
            )
        else:
            updates["specialty_role"] = "main"

    issue = s.certificate_issue_date if "certificate_issue_date" not in updates else None
    if issue is not None and issue.earliest() > today:
        problems.append(
            (
                "certificate_issue_date",
                f"证书签发日期{issue.chinese()}晚于今天（{chinese_date(today)}），请检查是否填错。",
            )
        )

    submission = s.submission_date or today
    if submission > today + MAX_SUBMISSION_AHEAD:
        problems.append(
            ("submission_date", f"提交日期{chinese_date(submission)}离今天超过一年，请填写一年以内的日期。")
        )
    elif (
        issue is not None
        and submission < issue.earliest()
        and not any(f == "certificate_issue_date" for f, _ in problems)
    ):
        problems.append(
            (
                "submission_date",
                f"提交日期{chinese_date(submission)}早于证书签发日期{issue.chinese()}，取得证书后才能申请注册，请检查。",
            )
        )

    if problems:
        raise SituationError(problems)
    updates["submission_date"] = submission
    return replace(s, **updates), ignored
