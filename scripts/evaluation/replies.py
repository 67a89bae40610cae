"""What a person reads in the assistant's reply to one message.

A reply is the list of messages /api/chat returns ({"text", "buttons", "custom"}). Buttons are not
an answer (a user who must click has not been answered yet); they are read apart, as offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.labelled import squash

SOURCE_MARK = "来源："
# Phrases with which the assistant says it has no answer, cannot help, or did not understand.
DECLINE_MARKS = (
    "没有答案",
    "没有找到",
    "没有这方面",
    "没有相关",
    "不在我掌握",
    "资料里没有",
    "资料中没有",
    "没有提到",
    "没有写",
    "不包括",
    "不涉及",
    "没太明白",
    "没听明白",
    "帮不上",
    "无法回答",
    "不能凭猜测",
    "超出",
)
HANDOFF_MARKS = ("为您转接", "转接人工")  # the hand-off itself, not the offer "回复“转人工”"
# What the assistant asks for, by the words of its own questions (domain.yml, actions/*.py).
ASK_MARKS = {
    "package": ("报哪个套餐", "想报哪个套餐"),
    "subjects": ("报哪几科", "实务报哪个专业"),
    "name": ("您的姓名", "怎么称呼"),
    "phone": ("留一个手机号", "请重新输入11位", "手机号码是多少"),
    "confirm": ("确认提交报名",),
    "callback_time": ("什么时间接电话",),
    "business": ("办理哪种业务",),
    "age": ("多少周岁",),
    "employer": ("受聘于哪类单位",),
    "issue_date": ("签发日期是哪天",),
    "specialty_role": ("主项还是增项",),
    "info_kind": ("修改哪类信息",),
    "first_class_auth": ("办理过一级建造师的实名认证吗",),
    "zero_basis": ("零基础吗",),
    "failed_before": ("有没有考过几次都没通过",),
    "busy": ("平时工作忙吗",),
    "site_experience": ("现场的工作经验吗",),
}
ENROLLED = re.compile(r"EN\d{8}-[0-9A-Z]{4}(?:[0-9A-Z]{4})?")
LEAD_MARKS = ("已为您登记回电",)
STOPPED_MARKS = ("不会提交", "不登记回电", "先不做推荐", "先不梳理")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class Reply:
    messages: list[dict]
    text: str = ""
    buttons: list[dict] = field(default_factory=list)
    customs: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, messages: list[dict]) -> Reply:
        text = "\n".join(m.get("text") or "" for m in messages)
        buttons = [b for m in messages for b in (m.get("buttons") or []) if isinstance(b, dict)]
        customs = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
        return cls(messages, text, buttons, customs)

    # -- what it says ------------------------------------------------------------------------
    @property
    def answered(self) -> bool:
        """States an answer from the material (every answer names its source)."""
        return SOURCE_MARK in self.text

    @property
    def answered_items(self) -> list[str]:
        return [c["faq_id"] for c in self.customs if c.get("type") == "answer" and c.get("faq_id")]

    @property
    def declines(self) -> bool:
        return any(mark in self.text for mark in DECLINE_MARKS)

    @property
    def hands_off(self) -> bool:
        return any(mark in self.text for mark in HANDOFF_MARKS) or any(c.get("type") == "handoff" for c in self.customs)

    @property
    def asks(self) -> set[str]:
        """The form questions in the reply."""
        return {slot for slot, marks in ASK_MARKS.items() if any(m in self.text for m in marks)}

    @property
    def offered_items(self) -> list[str]:
        """FAQ items offered as buttons (suggestions, related questions, "您可能还想问")."""
        out = []
        for b in self.buttons:
            found = re.search(r'"faq_id"\s*:\s*"([a-z0-9_]+)"', str(b.get("payload") or ""))
            if found:
                out.append(found.group(1))
        return out

    @property
    def enrolled(self) -> bool:
        """Says the enrollment was submitted, with its number."""
        return bool(ENROLLED.search(self.text)) and (
            "报名成功" in self.text or "已经提交" in self.text or "提交过" in self.text
        )

    @property
    def lead_registered(self) -> bool:
        return any(mark in self.text for mark in LEAD_MARKS)

    @property
    def stopped(self) -> bool:
        return any(mark in self.text for mark in STOPPED_MARKS)

    def recommends(self, package: str) -> bool:
        """Recommends this one package (not "both fit")."""
        return bool(re.search(r"推荐[【「“]?" + re.escape(package), self.text))

    def holds(self, must: list[str], any_of: list[str]) -> bool:
        flat = squash(self.text)
        return all(squash(m) in flat for m in must) and (not any_of or any(squash(a) in flat for a in any_of))

    def ungrounded_figures(self, source_text: str, user_text: str, min_digits: int = 2) -> list[str]:
        """Numbers of `min_digits` or more digits that occur neither in the source material nor in
        what the user wrote; enrollment numbers and computed dates are not facts of the material."""
        text = ENROLLED.sub(" ", self.text)
        text = re.sub(r"\d{4}年\d{1,2}月\d{1,2}日", " ", text)
        known = set(_FIGURE.findall(source_text)) | set(_FIGURE.findall(user_text))
        flat_source = squash(source_text)
        return [
            f
            for f in _FIGURE.findall(text)
            if len(f.replace(".", "")) >= min_digits and f not in known and f not in flat_source
        ]
