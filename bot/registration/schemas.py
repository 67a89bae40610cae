"""Request and response bodies of POST /api/registration/plan and POST /api/registration/match.

Every field error carries a Chinese reason in its ctx (`PydanticCustomError(..., {"reason": ...})`),
which bot/errors.py turns into the 422 body's `detail`, so a user reads what to fix.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bot.registration.reading import FIELDS
from bot.registration.rules import Named, load_rulebook
from bot.registration.situation import IssueDate, Situation


def _reject(reason: str) -> PydanticCustomError:
    return PydanticCustomError("registration_input", "{reason}", {"reason": reason})


def _code(table: dict[str, Named], value: Any, what: str, field: str) -> str | None:
    if value is None:
        return None
    code = load_rulebook().lookup(table, value) if isinstance(value, str) else None
    if code is None:
        choices = "、".join(item.name for item in table.values())
        raise _reject(f"不认识的{what}“{value}”（{field}）。可选：{choices}。")
    return code


def _bool(value: Any, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise _reject(f"{what}只能填 true 或 false。")


class PlanRequest(BaseModel):
    """A user's situation. Every field is optional: the answer covers what the given facts decide and
    `questions` lists what else is needed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "business_type": "re_registration",
                    "certificate_issue_date": "2019-06-15",
                    "specialty_role": "main",
                    "age": 45,
                    "employer_type": "construction",
                    "first_class_authenticated": False,
                },
                {"business_type": "重新注册", "certificate_issue_date": "2019"},
                {"age": 66},
            ]
        }
    )

    business_type: str | None = Field(
        None,
        description="initial | re_registration | added_specialty | renewal | "
        "cancellation | info_change | change_employer, or the Chinese name (重新注册, 换单位, ...)",
    )
    certificate_issue_date: str | None = Field(
        None, description="资格证书上该申请专业的签发日期: YYYY-MM-DD, or YYYY-MM / YYYY when only that is known"
    )
    specialty_role: str | None = Field(None, description="main | added (主项 | 增项)")
    age: int | None = Field(None, description="周岁")
    employer_type: str | None = Field(
        None,
        description="survey | design | construction | supervision | tendering_agency | "
        "cost_consulting | other | none (或中文：施工单位、监理 ...)",
    )
    has_certificate: bool | None = Field(None, description="已取得二级建造师资格证书")
    first_class_authenticated: bool | None = Field(None, description="已办理过一级建造师实名认证")
    submission_date: date | None = Field(None, description="系统受理（提交）日期，默认今天（北京时间）")
    added_to_main_after_first_class: bool | None = Field(
        None, description="注意事项第11条的情形：主项已取得一级同专业资格，增项专业现作为主项申请注册"
    )
    info_change_kind: str | None = Field(None, description="个人信息修改时：contact | identity | other")
    drop_irrelevant: bool = Field(
        False,
        description="true: 与业务类型无关的字段被忽略并在 ignored_fields 中说明，而不是 422（对话里累积的信息用这个）",
    )

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise _reject("请求体应是 JSON 对象，例如 {\"business_type\": \"重新注册\", \"age\": 45}。")
        unknown = [k for k in data if k not in cls.model_fields]
        if unknown:
            raise _reject(f"不认识的字段：{'、'.join(map(str, unknown))}。可用字段：{'、'.join(cls.model_fields)}。")
        return data

    @field_validator("business_type", mode="before")
    @classmethod
    def _business(cls, v: Any) -> str | None:
        return _code(load_rulebook().business_types, v, "业务类型", "business_type")

    @field_validator("specialty_role", mode="before")
    @classmethod
    def _role(cls, v: Any) -> str | None:
        return _code(load_rulebook().specialty_roles, v, "专业类别", "specialty_role")

    @field_validator("employer_type", mode="before")
    @classmethod
    def _employer(cls, v: Any) -> str | None:
        return _code(load_rulebook().employer_types, v, "受聘单位类型", "employer_type")

    @field_validator("info_change_kind", mode="before")
    @classmethod
    def _info_kind(cls, v: Any) -> str | None:
        return _code(load_rulebook().info_change_kinds, v, "信息类别", "info_change_kind")

    @field_validator("certificate_issue_date", mode="before")
    @classmethod
    def _issue_date(cls, v: Any) -> str | None:
        if v is None:
            return None
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        try:
            if not isinstance(v, str):
                raise ValueError(v)
            parsed = IssueDate.parse(v)
        except ValueError:
            raise _reject(
                f"证书签发日期“{v}”看不懂：请写成 2019-06-15；只记得年月写 2019-06，只记得年份写 2019。"
            ) from None
        if parsed.year < 1950:
            raise _reject(f"证书签发日期的年份{parsed.year}不合理，请检查。")
        return parsed.iso()

    @field_validator("age", mode="before")
    @classmethod
    def _age(cls, v: Any) -> int | None:
        if v is None:
            return None
        if isinstance(v, str) and v.strip().isdigit():
            return int(v.strip())
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        raise _reject(f"年龄“{v}”不对：请填写整数周岁，例如 45。")

    @field_validator("submission_date", mode="before")
    @classmethod
    def _submission(cls, v: Any) -> Any:
        if v is None or isinstance(v, date):
            return v
        message = f"提交日期“{v}”看不懂：请写成 2026-11-25 这样的日期。"
        if not isinstance(v, str):
            raise _reject(message)
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            raise _reject(message) from None

    @field_validator("has_certificate", mode="before")
    @classmethod
    def _has_cert(cls, v: Any) -> bool | None:
        return _bool(v, "has_certificate（是否已取得资格证书）")

    @field_validator("first_class_authenticated", mode="before")
    @classmethod
    def _first_class(cls, v: Any) -> bool | None:
        return _bool(v, "first_class_authenticated（是否办理过一级建造师实名认证）")

    @field_validator("added_to_main_after_first_class", mode="before")
    @classmethod
    def _added_to_main(cls, v: Any) -> bool | None:
        return _bool(v, "added_to_main_after_first_class（增项是否转为主项）")

    @field_validator("drop_irrelevant", mode="before")
    @classmethod
    def _drop(cls, v: Any) -> bool:
        return bool(_bool(v, "drop_irrelevant"))

    def to_situation(self) -> Situation:
        return Situation(
            business_type=self.business_type,
            certificate_issue_date=IssueDate.parse(self.certificate_issue_date)
            if self.certificate_issue_date
            else None,
            specialty_role=self.specialty_role,
            age=self.age,
            employer_type=self.employer_type,
            has_certificate=self.has_certificate,
            first_class_authenticated=self.first_class_authenticated,
            submission_date=self.submission_date,
            added_to_main_after_first_class=self.added_to_main_after_first_class,
            info_change_kind=self.info_change_kind,
        )


# ---- response -------------------------------------------------------------------------------------


class SourceRef(BaseModel):
    rule: str = Field(description="rule id in bot/registration/rules.yml")
    section: str = Field(description="材料中的章节，如“注意事项第14条”")
    text: str = Field(description="原句")


class ContinuingEducation(BaseModel):
    required: bool | None = Field(description="true/false; null = 材料未规定，或所给信息不足以判断")
    hours: int | None = Field(None, description="按所给主项/增项应学的学时")
    hours_by_role: dict[str, int] = Field(default_factory=dict, description="main/added -> 学时（注意事项第14条）")
    elective_hours: int | None = Field(None, description="增项转主项：选修学时")
    compulsory_hours: int | None = Field(None, description="增项转主项：必修学时")
    hotline: str | None = Field(None, description="继续教育客服电话（增项转主项时）")
    required_if_issued_on_or_before: date | None = Field(
        None, description="只知道签发年份/月份而无法判断时：在此日期及以前签发的需要继续教育"
    )
    reasons: list[str]


class Approval(BaseModel):
    approver: str | None = Field(description="谁审批/确认；null = 无需审批")
    authority: str | None = None
    working_days: int | None = Field(None, description="材料规定的工作日时限；null = 材料未规定")
    submission_date: date
    decision_by: date | None = Field(None, description="受理日后第N个工作日")
    calendar: Literal["official", "estimated"] | None = Field(
        None, description="official: 国务院已公布的节假日安排; estimated: 超出已公布年份，按法定节假日+周末估算"
    )
    summary: str
    notes: list[str] = Field(default_factory=list)


class AuthOption(BaseModel):
    name: str
    how: str


class Authentication(BaseModel):
    required: bool | None = Field(description="个人是否还需办理实名认证；null = 不知道是否办过一建实名认证")
    personal_options: list[AuthOption]
    enterprise_options: list[AuthOption]
    reasons: list[str]


class Step(BaseModel):
    id: str
    title: str
    detail: str
    sections: list[str]


class Material(BaseModel):
    name: str
    requirement: str
    sections: list[str]


class Question(BaseModel):
    field: str
    needed_for: list[str] = Field(
        description="没有它就答不了的部分（eligibility/continuing_education/approval/steps）；空 = 只会让答案更具体"
    )


class IgnoredField(BaseModel):
    field: str
    reason: str


class SituationEcho(BaseModel):
    business_type: str | None
    business_name: str | None
    certificate_issue_date: str | None
    specialty_role: str | None
    specialty_role_name: str | None = None
    age: int | None
    employer_type: str | None
    employer_name: str | None
    first_class_authenticated: bool | None
    added_to_main_after_first_class: bool | None
    info_change_kind: str | None
    submission_date: date


class PlanResponse(BaseModel):
    situation: SituationEcho
    eligible: bool | None = Field(description="true/false; null = 信息不足、材料未明确，或该业务不按申报条件核对")
    eligibility_reasons: list[str]
    continuing_education: ContinuingEducation | None
    approval: Approval | None
    authentication: Authentication | None
    steps: list[Step]
    materials: list[Material]
    questions: list[Question] = Field(description="还需要的信息，按建议的提问顺序")
    ignored_fields: list[IgnoredField] = Field(default_factory=list)
    sources: list[SourceRef]


# ---- reading a user's words -------------------------------------------------------------------------


class MatchRequest(BaseModel):
    """What a user typed, as a sentence or as the answer to the question about one field."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "我跳槽了，证书2019年发的，要重新注册吗"},
                {"text": "别的", "answer_to": "employer_type"},
            ]
        }
    )

    text: str = Field(..., max_length=500, description="用户的原话")
    answer_to: str | None = Field(
        None,
        description="这句话回答的是哪个问题：" + " | ".join(FIELDS) + "；不填 = 一句普通的话"
        "（“其他”“别的”“电话”这类词只在回答对应问题时才认）",
    )

    @field_validator("answer_to", mode="before")
    @classmethod
    def _answer_to(cls, v: Any) -> str | None:
        if v is None or v in FIELDS:
            return v
        raise _reject(f"answer_to 只能是 {'、'.join(FIELDS)} 之一，或者不填。")


class Choice(BaseModel):
    code: str = Field(description="POST /api/registration/plan 用的代码（specialty_role 另有 added_to_main）")
    name: str = Field(description="中文名称")
    said_as: str = Field(description="用户通常的说法（words 的第一个，如“换单位”“施工”），对话复述和上下文用")


class MatchResponse(BaseModel):
    business_type: Choice | None
    employer_type: Choice | None
    specialty_role: Choice | None = Field(
        description="main | added | added_to_main（增项转主项：方案里按 specialty_role=main、"
        "added_to_main_after_first_class=true 计算）"
    )
    info_change_kind: Choice | None
