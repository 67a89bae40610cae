"""A user's own path through the registration: eligibility, continuing education, approval, steps.

Every number and name comes from the rulebook (rules.yml); this module decides which rules apply
to the situation and words the result for the user. Each part says which rules it used, and the
response lists them with their source sentences.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.registration.rules import Rule, Rulebook, load_rulebook
from bot.registration.schemas import (
    Approval,
    Authentication,
    AuthOption,
    ContinuingEducation,
    IgnoredField,
    Material,
    PlanResponse,
    Question,
    SituationEcho,
    SourceRef,
    Step,
)
from bot.registration.situation import Situation, add_years, chinese_date
from bot.registration.workdays import WorkdayCalendar

TIMED_APPROVALS = ("time.province", "time.city")


class Planner:
    def __init__(self, book: Rulebook | None = None, calendar: WorkdayCalendar | None = None):
        self.book = book or load_rulebook()
        self.calendar = calendar or WorkdayCalendar()

    # -- the whole plan ------------------------------------------------------------------------
    def plan(self, s: Situation, ignored: list[tuple[str, str]] | None = None) -> PlanResponse:
        """`s` must have passed check_situation (submission_date filled, contradictions refused)."""
        if s.submission_date is None:
            raise ValueError("submission_date must be resolved by check_situation first")
        used: list[str] = []
        eligible, eligibility_reasons = self.eligibility(s, used)
        ce = self.continuing_education(s, used)
        approval = self.approval(s, used)
        authentication = self.authentication(s, used)
        steps = self.steps(s, ce, approval, used)
        materials = self.materials(s, used)
        biz = self._biz(s)
        employer = self.book.employer_types.get(s.employer_type) if s.employer_type else None
        return PlanResponse(
            situation=SituationEcho(
                business_type=s.business_type,
                business_name=biz.name if biz else None,
                certificate_issue_date=s.certificate_issue_date.iso() if s.certificate_issue_date else None,
                specialty_role=s.specialty_role,
                specialty_role_name=self.book.specialty_roles[s.specialty_role].name if s.specialty_role else None,
                age=s.age,
                employer_type=s.employer_type,
                employer_name=employer.name if employer else None,
                first_class_authenticated=s.first_class_authenticated,
                added_to_main_after_first_class=s.added_to_main_after_first_class,
                info_change_kind=s.info_change_kind,
                submission_date=s.submission_date,
            ),
            eligible=eligible,
            eligibility_reasons=eligibility_reasons,
            continuing_education=ce,
            approval=approval,
            authentication=authentication,
            steps=steps,
            materials=materials,
            questions=self.questions(s, eligible, ce),
            ignored_fields=[IgnoredField(field=f, reason=r) for f, r in ignored or ()],
            sources=[self._source(rule_id) for rule_id in dict.fromkeys(used)],
        )

    def _biz(self, s: Situation):
        return self.book.business_types[s.business_type] if s.business_type else None

    def _source(self, rule_id: str) -> SourceRef:
        rule = self.book.rule(rule_id)
        return SourceRef(rule=rule.id, section=rule.section, text=rule.source)

    # -- 申报条件 ---------------------------------------------------------------------------------
    def eligibility(self, s: Situation, used: list[str]) -> tuple[bool | None, list[str]]:
        biz = self._biz(s)
        if biz is not None and not biz.eligibility:
            return None, [f"{biz.name}不是注册申报，不按申报条件（资格证书、受聘单位、年龄）核对。"]
        age_rule = self.book.rule("eligibility.age")
        unit_rule = self.book.rule("eligibility.certificate_employer")
        used += [unit_rule.id, age_rule.id]
        max_age = age_rule["max_age"]
        listed = "、".join(unit_rule["employer_types"].values())
        failed, undecided, reasons = [], [], []

        if s.age is None:
            undecided.append("年龄（周岁）")
        elif s.age > max_age:
            failed.append(
                f"申报条件要求年龄不超过{max_age}周岁（{age_rule.section}），您{s.age}周岁，超过了{max_age}周岁。"
            )
        else:
            reasons.append(f"年龄{s.age}周岁，没有超过{max_age}周岁。")

        if s.employer_type is None:
            undecided.append("受聘单位类型")
        elif s.employer_type == "none":
            failed.append(f"申报条件要求受聘于一个建设工程{listed}等单位（{unit_rule.section}），您目前没有受聘单位。")
        elif s.employer_type in unit_rule["employer_types"]:
            reasons.append(f"受聘于{self.book.employer_types[s.employer_type].name}，属于申报条件列举的单位类型。")
        else:
            undecided.append(None)
            reasons.append(
                f"申报条件列举的是建设工程{listed}等单位；您的单位不在列举之中，"
                "材料没有明确是否属于可申报的单位，建议转人工客服确认。"
            )

        if s.has_certificate is False:
            failed.append(f"申报条件要求取得资格证书（{unit_rule.section}），您还没有取得。")
        elif s.has_certificate or s.certificate_issue_date:
            reasons.append("已取得资格证书。")
        else:
            reasons.append("前提：已取得资格证书。")

        if failed:
            return False, ["不符合申报条件：" + failed[0]] + failed[1:]
        missing = [u for u in undecided if u]
        if missing:
            reasons.insert(0, f"还需要知道您的{'和'.join(missing)}，才能判断是否符合申报条件。")
        if undecided:
            return None, reasons
        return True, ["符合申报条件。"] + reasons

    # -- 继续教育 ---------------------------------------------------------------------------------
    def continuing_education(self, s: Situation, used: list[str]) -> ContinuingEducation | None:
        biz = self._biz(s)
        if biz is not None and "certificate_issue_date" in biz.rejects:
            return None  # 注销、个人信息修改：没有继续教育这回事
        rule = self.book.rule("ce.three_years")
        used.append(rule.id)
        years, years_text, by_role = rule["years"], rule["years_text"], dict(rule["hours"])
        hours_text = f"主项{by_role['main']}学时，增项{by_role['added']}学时"
        if biz is not None and not biz.continuing_education:
            return ContinuingEducation(
                required=None,
                hours_by_role=by_role,
                reasons=[
                    f"材料只规定了初始注册、重新注册的继续教育学时（{rule.section}），没有写{biz.name}的继续教育要求。"
                ],
            )
        scope = "" if biz is not None else "（如果办理的是初始注册或重新注册）"
        issue, registration = s.certificate_issue_date, s.submission_date
        if issue is None:
            return ContinuingEducation(
                required=None,
                hours_by_role=by_role,
                reasons=[
                    f"需要资格证书上该申请专业的签发日期{scope}：签发日期距注册之日超过{years_text}的才需要继续教育"
                    f"（{hours_text}，{rule.section}）。"
                ],
            )

        def over(day: date) -> bool:
            return registration > add_years(day, years)

        special = bool(s.added_to_main_after_first_class)
        since = f"您的资格证书（该申请专业）签发于{issue.chinese()}，到注册之日{chinese_date(registration)}"
        if not over(issue.earliest()):
            used.append("ce.not_everyone")
            return ContinuingEducation(
                required=False,
                hours=0,
                hours_by_role=by_role,
                reasons=[
                    f"{since}没有超过{years_text}，不需要提供继续教育学时{scope}（{rule.section}：超过{years_text}的才需要）。"
                ],
            )
        if not over(issue.latest()):
            boundary = issue.latest()
            while not over(boundary):
                boundary -= timedelta(days=1)
            return ContinuingEducation(
                required=None,
                hours_by_role=by_role,
                required_if_issued_on_or_before=boundary,
                reasons=[
                    f"只知道证书签发于{issue.chinese()}，还判断不了{scope}：签发日期在{chinese_date(boundary)}及以前的，"
                    f"到注册之日{chinese_date(registration)}已超过{years_text}，需要继续教育（{hours_text}）；"
                    f"在{chinese_date(boundary + timedelta(days=1))}及以后的不需要。请核对证书上该专业的签发日期。"
                ],
            )

        if special:
            special_rule, hotline = self.book.rule("ce.added_to_main"), self.book.rule("ce.hotline")
            used += [special_rule.id, hotline.id]
            elective, compulsory = special_rule["elective_hours"], special_rule["compulsory_hours"]
            return ContinuingEducation(
                required=True,
                hours=elective + compulsory,
                hours_by_role=by_role,
                elective_hours=elective,
                compulsory_hours=compulsory,
                hotline=str(hotline["phone"]),
                reasons=[
                    f"{since}已超过{years_text}，且该增项专业现作为主项申请注册（主项已取得一级建造师同专业资格）："
                    f"需按主项要求一次性学习选修、必修各{elective}学时的继续教育（{special_rule.section}）。",
                    f"请拨打继续教育客服电话{hotline['phone']}，后台会帮您处理再次报名增项专业继续教育的事宜。",
                ],
            )

        reasons = [f"{since}已超过{years_text}，需要提供继续教育学时{scope}（{rule.section}）。"]
        hours = by_role.get(s.specialty_role) if s.specialty_role else None
        if hours is not None:
            role_name = self.book.specialty_roles[s.specialty_role].name
            reasons.append(f"您申请的是{role_name}，需要{hours}学时（{hours_text}）。")
        else:
            reasons.append(f"学时要求：{hours_text}。")
        return ContinuingEducation(required=True, hours=hours, hours_by_role=by_role, reasons=reasons)

    # -- 审批与时限 -------------------------------------------------------------------------------
    def approval(self, s: Situation, used: list[str]) -> Approval | None:
        biz = self._biz(s)
        if biz is None:
            return None
        submitted = s.submission_date
        if biz.approval == "cancellation":
            rule = self.book.rule("process.cancellation")
            used.append(rule.id)
            return Approval(
                approver=rule["approver"],
                submission_date=submitted,
                summary=f"注销由个人申请、{rule['approver']}在系统直接操作通过，不再经各设区市建设主管部门审批；"
                "材料没有规定办理时限。",
            )
        if biz.approval == "info_change":
            kind = s.info_change_kind
            if kind is None:
                return None
            if kind == "contact":
                rule = self.book.rule("process.info_change_other")
                used.append(rule.id)
                return Approval(
                    approver=None,
                    submission_date=submitted,
                    summary="修改通讯地址、邮政编码、联系人、联系电话，不需要设区市主管部门确认。",
                )
            if kind == "identity":
                rule = self.book.rule("process.info_change_identity")
                used.append(rule.id)
                return Approval(
                    approver=rule["approver"],
                    submission_date=submitted,
                    summary=f"新的身份信息由{rule['approver']}审核，材料没有规定审核时限；"
                    "审核通过后还要本人携带证明材料重新进行实名认证。",
                )
            return self._timed(self.book.rule("process.info_change_other"), submitted, used)
        approval = self._timed(self.book.rule(biz.approval), submitted, used)
        if biz.code == "change_employer":
            approval.notes.insert(0, "这是重新注册的审批；之前的注销由原聘用企业直接操作通过，不经设区市审批。")
            used.append("process.change_employer")
        return approval

    def _timed(self, rule: Rule, submitted: date, used: list[str]) -> Approval:
        used.append(rule.id)
        days = rule["working_days"]
        result = self.calendar.add_working_days(submitted, days)
        approver = rule["approver"] + (
            f"（{rule.values['authority']}）"
            if rule.values.get("authority") and rule.values["authority"] != rule["approver"]
            else ""
        )
        overflow = f"（{rule.values['overflow']}）" if rule.values.get("overflow") else ""
        summary = (
            f"由{approver}{rule['action']}，系统受理后{days}个工作日内完成{overflow}。"
            f"按{chinese_date(submitted)}受理计算，第{days}个工作日是{chinese_date(result.date)}。"
        )
        notes = ["个人提交后要经聘用企业确认才会上报，以系统受理的日期为准。"]
        if not result.official:
            notes.append(
                f"{result.estimated_from.year}年的节假日调休安排还没有公布，这个日期按法定节假日和周末估算，"
                "不知道尚未公布的调休上班日，仅供参考。"
            )
        return Approval(
            approver=rule["approver"],
            authority=rule.values.get("authority"),
            working_days=days,
            submission_date=submitted,
            decision_by=result.date,
            calendar="official" if result.official else "estimated",
            summary=summary,
            notes=notes,
        )

    # -- 实名认证 ---------------------------------------------------------------------------------
    def authentication(self, s: Situation, used: list[str]) -> Authentication | None:
        biz = self._biz(s)
        if biz is not None and biz.approval in ("cancellation", "info_change"):
            return None
        personal, enterprise = self.book.auth_methods["personal"], self.book.auth_methods["enterprise"]
        exempt_personal = self.book.rule(self.book.auth_exempt["personal"])
        exempt_enterprise = self.book.rule(self.book.auth_exempt["enterprise"])
        for method in personal + enterprise:
            used += list(method.rules)
        used += [exempt_personal.id, exempt_enterprise.id]
        first_class = s.first_class_authenticated
        if first_class:
            reasons = ["您已办理过一级建造师实名认证，个人无需重复认证。"]
        elif first_class is False:
            reasons = ["个人实名认证在下面两种方式中任选一种。"]
        else:
            reasons = ["已办理过一级建造师实名认证的人员无需重复认证；没有办过的，在下面两种方式中任选一种。"]
        reasons.append("聘用企业也要完成企业实名认证（已办理过一级建造师实名认证的企业无需重复认证）。")
        return Authentication(
            required=None if first_class is None else not first_class,
            personal_options=[AuthOption(name=m.name, how=m.how) for m in personal],
            enterprise_options=[AuthOption(name=m.name, how=m.how) for m in enterprise],
            reasons=reasons,
        )

    # -- 步骤与材料 -------------------------------------------------------------------------------
    def steps(
        self, s: Situation, ce: ContinuingEducation | None, approval: Approval | None, used: list[str]
    ) -> list[Step]:
        biz = self._biz(s)
        if biz is None:
            return []
        conditions = {
            "first_class": s.first_class_authenticated is True,
            "not_first_class": s.first_class_authenticated is not True,
            "ce_required": ce is not None and (ce.required is True or ce.required_if_issued_on_or_before is not None),
            "added_to_main": bool(s.added_to_main_after_first_class),
            "info_contact": s.info_change_kind == "contact",
            "info_identity": s.info_change_kind == "identity",
            "info_other": s.info_change_kind == "other",
        }
        context = {
            "level": self.book.rule("auth.unified_identity")["level"],
            "business_name": biz.name,
            "ce_hours_text": _ce_hours_text(ce),
            "ce_reason": "".join(ce.reasons) if ce else "",
            "approver": approval.approver if approval and approval.approver else "",
            "working_days": approval.working_days if approval and approval.working_days else "",
            "decision_text": _decision_text(approval),
            "approval_text": (approval.summary + "".join(approval.notes)) if approval else "",
        }
        steps = []
        for step_id in biz.steps:
            template = self.book.steps[step_id]
            if not all(conditions[c] for c in template.when):
                continue
            used += list(template.rules)
            steps.append(
                Step(
                    id=step_id,
                    title=template.title.format(**context),
                    detail=template.detail.format(**context),
                    sections=list(dict.fromkeys(self.book.rule(r).section for r in template.rules)),
                )
            )
        return steps

    def materials(self, s: Situation, used: list[str]) -> list[Material]:
        biz = self._biz(s)
        if biz is None or not biz.eligibility:
            return []  # 注销、个人信息修改不涉及这些照片
        items = []
        for item in self.book.materials:
            used += list(item.rules)
            items.append(
                Material(
                    name=item.name,
                    requirement=item.requirement,
                    sections=list(dict.fromkeys(self.book.rule(r).section for r in item.rules)),
                )
            )
        return items

    # -- 还要问什么 -------------------------------------------------------------------------------
    def questions(self, s: Situation, eligible: bool | None, ce: ContinuingEducation | None) -> list[Question]:
        """What else to ask, in the order a conversation should ask it.

        Nothing once the user is known not to be eligible: the rest would not change the answer.
        `needed_for` names the parts that cannot be answered without the fact; an empty list
        means the fact only makes the answer more specific.
        """
        if eligible is False:
            return []
        biz = self._biz(s)
        questions = []
        if biz is None:
            questions.append(Question(field="business_type", needed_for=["continuing_education", "approval", "steps"]))
        if biz is None or biz.eligibility:
            if s.age is None:
                questions.append(Question(field="age", needed_for=["eligibility"]))
            if s.employer_type is None:
                questions.append(Question(field="employer_type", needed_for=["eligibility"]))
        if biz is None or biz.continuing_education:
            if s.certificate_issue_date is None:
                questions.append(Question(field="certificate_issue_date", needed_for=["continuing_education"]))
            elif ce is not None and ce.required is not False and s.specialty_role is None:
                questions.append(Question(field="specialty_role", needed_for=[]))
        if biz is not None and biz.approval == "info_change" and s.info_change_kind is None:
            questions.append(Question(field="info_change_kind", needed_for=["approval", "steps"]))
        if biz is not None and biz.asks_first_class and s.first_class_authenticated is None:
            questions.append(Question(field="first_class_authenticated", needed_for=[]))
        return questions


def _ce_hours_text(ce: ContinuingEducation | None) -> str:
    if ce is None:
        return ""
    if ce.elective_hours and ce.compulsory_hours:
        return f"：选修、必修各{ce.elective_hours}学时"
    by_role = f"主项{ce.hours_by_role.get('main')}学时，增项{ce.hours_by_role.get('added')}学时"
    if ce.required is None:
        return f"（视签发日期而定；{by_role}）"
    return f"{ce.hours}学时" if ce.hours else f"（{by_role}）"


def _decision_text(approval: Approval | None) -> str:
    if approval is None or approval.decision_by is None:
        return ""
    estimate = "，估算" if approval.calendar == "estimated" else ""
    return f"（预计{chinese_date(approval.decision_by)}前{estimate}）"
