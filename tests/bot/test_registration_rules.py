"""The registration rules against the source material, table by table.

The material is knowledge/documents/registration_guide.yml (the in-repo copy of the Fujian guide).
Dates are fixed so the tests do not depend on the day they run.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.registration import (
    IssueDate,
    Planner,
    Situation,
    SituationError,
    WorkdayCalendar,
    check_situation,
    load_rulebook,
)
from bot.registration.rules import RulebookError, parse_rulebook
from bot.registration.situation import add_years

ROOT = Path(__file__).resolve().parents[2]
GUIDE = yaml.safe_load((ROOT / "knowledge" / "documents" / "registration_guide.yml").read_text(encoding="utf-8"))
SECTIONS = {s["id"]: s for s in GUIDE["sections"]}
TODAY = date(2026, 11, 25)
BOOK = load_rulebook()
PLANNER = Planner(BOOK, WorkdayCalendar())

_WIDTH = str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"})


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text.translate(_WIDTH))


def plan(**facts):
    situation, ignored = check_situation(Situation(**facts), TODAY, BOOK)
    return PLANNER.plan(situation, ignored)


def issue(text: str) -> IssueDate:
    return IssueDate.parse(text)


# ---- the data file is faithful to the material -------------------------------------------------


@pytest.mark.parametrize("rule", BOOK.rules.values(), ids=lambda r: r.id)
def test_every_rule_quotes_its_section_verbatim(rule):
    assert rule.ref in SECTIONS, f"{rule.id}: no section {rule.ref} in the guide"
    assert _norm(rule.source) in _norm(SECTIONS[rule.ref]["text"])


@pytest.mark.parametrize("rule", BOOK.rules.values(), ids=lambda r: r.id)
def test_numbered_section_labels_match_the_guide(rule):
    numbered = re.match(r"^(注意事项|受理时限)第\d+条", rule.section)
    if numbered:
        assert SECTIONS[rule.ref]["title"].startswith(numbered.group(0))


def _numbers(value) -> list[str]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return re.findall(r"\d+", str(value))
    return []


_CHINESE_DIGITS = dict(zip("123456789", "一二三四五六七八九"))


@pytest.mark.parametrize("rule", BOOK.rules.values(), ids=lambda r: r.id)
def test_every_number_a_rule_computes_with_is_in_its_source_sentence(rule):
    for number in _numbers(dict(rule.values)):
        written = (number, _CHINESE_DIGITS.get(number, number) + "年")  # "三年" in 注意事项第14条
        assert any(w in rule.source for w in written), f"{rule.id}: {number} is not in “{rule.source}”"


@pytest.mark.parametrize("step", BOOK.steps.values(), ids=lambda s: s.id)
def test_step_texts_state_no_number_their_rules_do_not(step):
    sources = "".join(BOOK.rule(r).source for r in step.rules)
    text = re.sub(r"\{[a-z_]+\}", "", step.title + step.detail)
    for number in re.findall(r"\d+", text):
        assert number in sources, f"step {step.id} says {number}, its rules do not"


@pytest.mark.parametrize("item", BOOK.materials, ids=lambda m: m.id)
def test_material_requirements_come_from_their_rules(item):
    sources = "".join(BOOK.rule(r).source for r in item.rules)
    assert item.name in sources
    for token in re.findall(r"\d+K?B?", item.requirement):
        assert token in sources


def test_a_broken_reference_in_the_rules_file_is_refused():
    data = yaml.safe_load((ROOT / "bot" / "registration" / "rules.yml").read_text(encoding="utf-8"))
    data["business_types"]["renewal"]["approval"] = "time.nowhere"
    with pytest.raises(RulebookError, match="time.nowhere"):
        parse_rulebook(data)


# ---- 申报条件 --------------------------------------------------------------------------------


@pytest.mark.parametrize("age, eligible", [(18, True), (40, True), (64, True), (65, True), (66, False), (80, False)])
def test_age_not_over_65(age, eligible):
    result = plan(business_type="initial", age=age, employer_type="construction")
    assert result.eligible is eligible
    if not eligible:
        assert "65周岁" in result.eligibility_reasons[0] and f"{age}周岁" in result.eligibility_reasons[0]


@pytest.mark.parametrize(
    "employer", ["survey", "design", "construction", "supervision", "tendering_agency", "cost_consulting"]
)
def test_every_unit_type_named_in_the_conditions_is_eligible(employer):
    result = plan(business_type="renewal", age=50, employer_type=employer)
    assert result.eligible is True
    assert BOOK.employer_types[employer].name in " ".join(result.eligibility_reasons)


def test_no_employer_is_not_eligible():
    result = plan(business_type="initial", age=30, employer_type="none")
    assert result.eligible is False
    assert "没有受聘单位" in " ".join(result.eligibility_reasons)


def test_a_unit_type_the_conditions_do_not_list_is_not_decided():
    """The material says “等单位”: an unlisted type is neither accepted nor refused."""
    result = plan(business_type="initial", age=30, employer_type="other")
    assert result.eligible is None
    assert "人工" in " ".join(result.eligibility_reasons)


def test_without_a_qualification_certificate_not_eligible():
    result = plan(business_type="initial", age=30, employer_type="design", has_certificate=False)
    assert result.eligible is False
    assert "资格证书" in result.eligibility_reasons[0]


def test_unknown_age_leaves_eligibility_open_and_asks_for_it():
    result = plan(business_type="initial", employer_type="design")
    assert result.eligible is None
    assert [q.field for q in result.questions][:1] == ["age"]


@pytest.mark.parametrize("business", ["cancellation", "info_change"])
def test_cancellation_and_info_change_are_not_checked_against_the_conditions(business):
    result = plan(business_type=business, age=70)
    assert result.eligible is None
    assert "不按申报条件" in result.eligibility_reasons[0]


# ---- 继续教育（注意事项第14条、第11条） ---------------------------------------------------------


@pytest.mark.parametrize(
    "issued, submitted, role, required, hours",
    [
        ("2023-11-25", date(2026, 11, 25), "main", False, 0),  # exactly three years: not "超过"
        ("2023-11-25", date(2026, 11, 26), "main", True, 120),  # three years and one day
        ("2023-11-24", date(2026, 11, 25), "added", True, 60),
        ("2020-02-29", date(2023, 2, 28), "main", False, 0),  # no 29 February: the period ends on the 28th
        ("2020-02-29", date(2023, 3, 1), "main", True, 120),
        ("2019", date(2026, 11, 25), "main", True, 120),  # "2019年发的": whatever the day, over three years
        ("2024", date(2026, 11, 25), "added", False, 0),
        ("2023-10", date(2026, 11, 25), "added", True, 60),
        ("2023-12", date(2026, 11, 25), "main", False, 0),
    ],
)
def test_three_year_rule(issued, submitted, role, required, hours):
    for business in ("initial", "re_registration"):
        ce = plan(
            business_type=business, certificate_issue_date=issue(issued), specialty_role=role, submission_date=submitted
        ).continuing_education
        assert ce.required is required
        assert ce.hours == hours
        assert ("已超过三年" if required else "没有超过三年") in ce.reasons[0]


def test_without_main_or_added_both_hour_figures_are_given():
    ce = plan(business_type="re_registration", certificate_issue_date=issue("2019")).continuing_education
    assert ce.required is True and ce.hours is None
    assert ce.hours_by_role == {"main": 120, "added": 60}
    assert "主项120学时，增项60学时" in " ".join(ce.reasons)


@pytest.mark.parametrize("issued, boundary", [("2023", date(2023, 11, 24)), ("2023-11", date(2023, 11, 24))])
def test_a_date_known_only_to_the_year_or_month_gives_the_deciding_day(issued, boundary):
    ce = plan(business_type="initial", certificate_issue_date=issue(issued), submission_date=TODAY).continuing_education
    assert ce.required is None
    assert ce.required_if_issued_on_or_before == boundary
    assert add_years(boundary, 3) < TODAY <= add_years(date.fromordinal(boundary.toordinal() + 1), 3)
    assert "2023年11月24日及以前" in ce.reasons[0]


@pytest.mark.parametrize("business", ["renewal", "added_specialty"])
def test_the_material_sets_no_hours_for_renewal_or_added_registration(business):
    ce = plan(business_type=business, certificate_issue_date=issue("2015")).continuing_education
    assert ce.required is None
    assert "只规定了初始注册、重新注册" in ce.reasons[0]


def test_added_specialty_becoming_main_after_first_class():
    ce = plan(
        business_type="re_registration",
        certificate_issue_date=issue("2019-05-01"),
        added_to_main_after_first_class=True,
    ).continuing_education
    assert (ce.required, ce.elective_hours, ce.compulsory_hours, ce.hours, ce.hotline) == (True, 60, 60, 120, "968823")
    assert "选修、必修各60学时" in ce.reasons[0] and "968823" in ce.reasons[1]


def test_added_to_main_within_three_years_needs_no_hours():
    ce = plan(
        business_type="re_registration",
        certificate_issue_date=issue("2025-01-01"),
        added_to_main_after_first_class=True,
    ).continuing_education
    assert ce.required is False and ce.hotline is None


def test_added_to_main_plan_starts_by_cancelling_the_same_specialty_registration():
    result = plan(
        business_type="re_registration", certificate_issue_date=issue("2019"), added_to_main_after_first_class=True
    )
    ids = [s.id for s in result.steps]
    assert ids.index("cancel_same_specialty") < ids.index("continuing_education") < ids.index("apply")
    assert result.situation.specialty_role == "main"
    assert "选修、必修各60学时" in result.steps[ids.index("continuing_education")].title


# ---- 每种业务：谁审批、多久、步骤 ----------------------------------------------------------------


@pytest.mark.parametrize(
    "business, approver, days",
    [
        ("initial", "省注册中心", 10),
        ("re_registration", "省注册中心", 10),
        ("change_employer", "省注册中心", 10),
        ("added_specialty", "设区市建设主管部门", 1),
        ("renewal", "设区市建设主管部门", 1),
    ],
)
def test_approver_and_time_limit(business, approver, days):
    approval = plan(business_type=business, submission_date=date(2026, 11, 24)).approval
    assert (approval.approver, approval.working_days) == (approver, days)
    assert "如超过每日最大受理量则顺延" in approval.summary
    assert approval.calendar == "official"


def test_cancellation_is_passed_by_the_employer_without_city_approval():
    result = plan(business_type="cancellation")
    assert [s.id for s in result.steps] == ["cancel_apply", "cancel_employer"]
    assert result.approval.approver == "聘用企业" and result.approval.working_days is None
    assert "不再经各设区市建设主管部门审批" in result.approval.summary
    assert result.continuing_education is None and result.materials == [] and result.questions == []


def test_changing_employer_is_cancellation_then_re_registration():
    result = plan(business_type="change_employer", certificate_issue_date=issue("2018"), specialty_role="main")
    ids = [s.id for s in result.steps]
    assert ids[:2] == ["cancel_apply", "cancel_employer"]
    assert ids.index("apply_re_registration") > ids.index("cancel_employer")
    assert result.continuing_education.hours == 120
    assert "注销" in result.approval.notes[0]


@pytest.mark.parametrize(
    "kind, approver, days, step",
    [
        ("contact", None, None, "info_contact_saved"),
        ("other", "企业所在地设区市主管部门", 1, "info_city_review"),
        ("identity", "省注册中心", None, "reauthenticate"),
    ],
)
def test_personal_information_change(kind, approver, days, step):
    result = plan(business_type="info_change", info_change_kind=kind)
    assert (result.approval.approver, result.approval.working_days) == (approver, days)
    assert step in [s.id for s in result.steps]


def test_info_change_without_the_kind_asks_for_it():
    result = plan(business_type="info_change")
    assert result.approval is None
    assert [q.field for q in result.questions] == ["info_change_kind"]


def test_initial_registration_steps_in_order():
    result = plan(
        business_type="initial",
        certificate_issue_date=issue("2020-03-01"),
        specialty_role="main",
        age=35,
        employer_type="construction",
        first_class_authenticated=False,
    )
    assert [s.id for s in result.steps] == [
        "account",
        "authenticate",
        "continuing_education",
        "materials",
        "apply",
        "employer_confirm",
        "review",
        "certificate",
    ]
    assert result.steps[2].title == "完成继续教育120学时"
    assert "预计2026年12月9日前" in result.steps[6].title


def test_first_class_authenticated_skips_account_and_authentication():
    result = plan(business_type="initial", certificate_issue_date=issue("2025-06-01"), first_class_authenticated=True)
    ids = [s.id for s in result.steps]
    assert "first_class_login" in ids and "account" not in ids and "authenticate" not in ids
    assert "continuing_education" not in ids  # within three years
    assert result.authentication.required is False
    assert "无需重复认证" in result.authentication.reasons[0]


def test_authentication_paths_personal_and_enterprise():
    auth = plan(business_type="initial").authentication
    assert [o.name for o in auth.personal_options] == ["统一身份认证", "现场认证"]
    assert "L4" in auth.personal_options[0].how and "身份证原件" in auth.personal_options[1].how
    assert [o.name for o in auth.enterprise_options] == ["身份锁认证", "现场认证"]
    assert "无需提交书面材料" in auth.enterprise_options[1].how
    assert auth.required is None  # not told whether 一建 authentication was done


def test_photo_rules():
    materials = {m.name: m.requirement for m in plan(business_type="initial").materials}
    assert set(materials) == {"一寸白底彩色证件照", "身份证正反面照", "本人签名照", "手持身份证照"}
    assert "30KB" in materials["一寸白底彩色证件照"] and "照片处理工具" in materials["一寸白底彩色证件照"]
    assert all(t in materials["本人签名照"] for t in ("白色背景", "100K", "从左往右横版"))
    assert "示例图" in materials["手持身份证照"]


def test_sources_quote_the_rules_used():
    result = plan(business_type="re_registration", certificate_issue_date=issue("2019"))
    by_section = {s.section: s.text for s in result.sources}
    assert "主项120学时，增项60学时" in by_section["注意事项第14条"]
    assert "10个工作日" in by_section["受理时限第1条"]


# ---- what to ask next -------------------------------------------------------------------------


def test_nothing_known_asks_business_then_eligibility_then_certificate():
    fields = [q.field for q in plan().questions]
    assert fields == ["business_type", "age", "employer_type", "certificate_issue_date"]


def test_renewal_never_asks_for_the_certificate_date():
    fields = [q.field for q in plan(business_type="renewal").questions]
    assert "certificate_issue_date" not in fields and fields == ["age", "employer_type"]


def test_not_eligible_stops_the_questions():
    assert plan(age=66).questions == []


def test_main_or_added_only_asked_when_hours_are_due():
    assert "specialty_role" in [
        q.field for q in plan(business_type="initial", certificate_issue_date=issue("2019")).questions
    ]
    assert "specialty_role" not in [
        q.field for q in plan(business_type="initial", certificate_issue_date=issue("2025")).questions
    ]


# ---- working days across holidays (chinesecalendar) and past its data (holidays + weekends) -------

CAL = WorkdayCalendar()


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # 国庆 1-7 October
        (date(2026, 9, 24), 1, date(2026, 9, 28)),  # 中秋 25-27 September
        (date(2026, 9, 24), 10, date(2026, 10, 15)),  # both, with the make-up Saturday 10 October counted
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # a make-up Saturday is a working day
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # 春节: make-up Saturday 14 February
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # 15-23 February off
        (date(2026, 2, 13), 10, date(2026, 3, 5)),  # make-up Saturday 28 February counted too
        (date(2026, 11, 25), 10, date(2026, 12, 9)),
    ],
)
def test_working_days_from_the_published_schedule(start, days, expected):
    result = CAL.add_working_days(start, days)
    assert (result.date, result.official, result.estimated_from) == (expected, True, None)


def test_past_2026_the_date_is_estimated_and_says_so():
    result = CAL.add_working_days(date(2026, 12, 28), 10)
    assert result.date == date(2027, 1, 12)  # 1 January 2027 skipped as a statutory holiday
    assert result.official is False and result.estimated_from == date(2027, 1, 1)


def test_estimate_skips_statutory_holidays_and_weekends():
    result = CAL.add_working_days(date(2027, 9, 30), 1)
    assert result.date == date(2027, 10, 6) and not result.official


def test_fallback_is_used_only_where_the_schedule_is_unknown():
    def official(day):
        if day.year > 2026:
            raise NotImplementedError
        return day.weekday() < 5

    calendar = WorkdayCalendar(official_is_workday=official, fallback_holidays=lambda year: {date(2027, 1, 4): "x"})
    assert calendar.is_workday(date(2026, 12, 31)) == (True, True)
    assert calendar.is_workday(date(2027, 1, 4)) == (False, False)
    assert calendar.is_workday(date(2027, 1, 5)) == (True, False)


def test_plan_past_2026_flags_the_estimate_for_the_user():
    approval = plan(business_type="renewal", submission_date=date(2026, 12, 31)).approval
    assert approval.calendar == "estimated"
    assert approval.decision_by == date(2027, 1, 4)
    assert any("2027年" in n and "调休" in n for n in approval.notes)


# ---- contradictions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "facts, field, words",
    [
        (dict(certificate_issue_date=issue("2026-12-01")), "certificate_issue_date", "晚于今天"),
        (dict(certificate_issue_date=issue("2027")), "certificate_issue_date", "晚于今天"),
        (
            dict(certificate_issue_date=issue("2020-05-01"), submission_date=date(2020, 4, 1)),
            "submission_date",
            "早于证书签发日期",
        ),
        (dict(submission_date=date(2028, 1, 1)), "submission_date", "一年"),
        (dict(age=17), "age", "18到120"),
        (dict(age=121), "age", "18到120"),
        (
            dict(business_type="cancellation", certificate_issue_date=issue("2019")),
            "certificate_issue_date",
            "注销不涉及继续教育",
        ),
        (dict(business_type="cancellation", specialty_role="main"), "specialty_role", "注销"),
        (
            dict(business_type="info_change", certificate_issue_date=issue("2019")),
            "certificate_issue_date",
            "个人信息修改",
        ),
        (dict(added_to_main_after_first_class=True, specialty_role="added"), "specialty_role", "矛盾"),
        (
            dict(business_type="renewal", added_to_main_after_first_class=True),
            "added_to_main_after_first_class",
            "重新注册",
        ),
        (dict(business_type="renewal", info_change_kind="contact"), "info_change_kind", "个人信息修改"),
    ],
)
def test_contradictions_are_refused_with_a_chinese_reason(facts, field, words):
    with pytest.raises(SituationError) as exc:
        check_situation(Situation(**facts), TODAY, BOOK)
    assert exc.value.problems[0][0] == field and words in exc.value.problems[0][1]


@pytest.mark.parametrize("age, eligible", [(18, None), (120, False)])
def test_age_bounds_are_inclusive(age, eligible):
    """18 and 120 are ages a user can give: their plan judges them instead of refusing the number."""
    situation, ignored = check_situation(Situation(age=age), TODAY, BOOK)
    assert situation.age == age and ignored == []
    result = PLANNER.plan(situation)
    assert result.eligible is eligible  # 18: the employer is still unknown; 120: over 65
    assert f"{age}周岁" in " ".join(result.eligibility_reasons)


def test_irrelevant_fields_can_be_dropped_instead_of_refused():
    situation, ignored = check_situation(
        Situation(business_type="cancellation", certificate_issue_date=issue("2019"), specialty_role="main", age=70),
        TODAY,
        BOOK,
        drop_irrelevant=True,
    )
    assert situation.certificate_issue_date is None and situation.specialty_role is None and situation.age == 70
    assert [f for f, _ in ignored] == ["certificate_issue_date", "specialty_role"]


def test_impossible_dates_are_refused_even_when_dropping_irrelevant_fields():
    with pytest.raises(SituationError):
        check_situation(Situation(certificate_issue_date=issue("2030")), TODAY, BOOK, drop_irrelevant=True)


@pytest.mark.parametrize("text", ["2019-13", "2019-02-30", "19", "2019/06/01", "二〇一九"])
def test_issue_date_parsing_refuses_what_is_not_a_date(text):
    with pytest.raises(ValueError):
        IssueDate.parse(text)
