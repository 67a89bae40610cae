"""CSV exports of enrollments and leads, as a spreadsheet shows them (Chinese headers, China time).

A cell that a spreadsheet would read as a formula (=, +, -, @, or a tab / carriage return first) is
prefixed with an apostrophe: a name or a question typed by a user must never run in Excel.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from bot.courses.catalogue import Catalogue
from bot.courses.sales import CHINA, STATUS_LABELS
from bot.models import Enrollment, Lead, StaffNote

ENROLLMENT_COLUMNS = [
    "报名号",
    "姓名",
    "手机号",
    "套餐",
    "科目",
    "报价（元）",
    "状态",
    "负责人",
    "渠道",
    "报名时间",
    "备注",
]
LEAD_COLUMNS = [
    "编号",
    "姓名",
    "手机号",
    "方便时间",
    "问题",
    "套餐",
    "科目",
    "状态",
    "负责人",
    "渠道",
    "提交时间",
    "备注",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _table(header: list[str], rows: Iterable[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


def _when(value) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if value else ""


def _package(cat: Catalogue, package_id: str | None) -> str:
    if not package_id:
        return ""
    try:
        return cat.package(package_id).name
    except KeyError:
        return package_id


def _subjects(cat: Catalogue, subject_ids) -> str:
    names = []
    for sid in subject_ids or []:
        try:
            names.append(cat.subject(sid).name)
        except KeyError:
            names.append(sid)
    return "、".join(names)


def _notes(notes: list[StaffNote]) -> str:
    return " | ".join(f"{_when(n.created_at)} {n.author}：{n.text}" for n in notes)


def enrollments_csv(
    cat: Catalogue, rows: list[Enrollment], names: dict[int, str], notes: dict[int, list[StaffNote]]
) -> str:
    return _table(
        ENROLLMENT_COLUMNS,
        (
            [
                e.number,
                e.name,
                e.mobile,
                _package(cat, e.package_id),
                _subjects(cat, e.subject_ids),
                e.price,
                STATUS_LABELS.get(e.status, e.status),
                names.get(e.assignee_id, "") if e.assignee_id else "",
                e.channel or "",
                _when(e.created_at),
                _notes(notes.get(e.id, [])),
            ]
            for e in rows
        ),
    )


def leads_csv(cat: Catalogue, rows: list[Lead], names: dict[int, str], notes: dict[int, list[StaffNote]]) -> str:
    return _table(
        LEAD_COLUMNS,
        (
            [
                lead.id,
                lead.name,
                lead.mobile,
                lead.preferred_time or "",
                lead.question or "",
                _package(cat, lead.package_id),
                _subjects(cat, lead.subject_ids),
                STATUS_LABELS.get(lead.status, lead.status),
                names.get(lead.assignee_id, "") if lead.assignee_id else "",
                lead.channel or "",
                _when(lead.created_at),
                _notes(notes.get(lead.id, [])),
            ]
            for lead in rows
        ),
    )
