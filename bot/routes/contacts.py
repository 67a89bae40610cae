"""POST /api/contact/check: a name and/or a mobile number read by the enrollment's own rule.

The chat's forms ask here as soon as the user types a number or a name, so that the chat accepts
exactly what POST /api/enrollments and /api/leads accept (bot/courses/contact.py). 200 with the
values as they would be stored; 422 naming the refused field with what to type instead.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from bot.courses.schemas import ContactCheck
from bot.senders import refuse_wechat_senders

router = APIRouter(tags=["enrollments"], dependencies=[Depends(refuse_wechat_senders)])  # wx: is WeChat's


@router.post("/api/contact/check")
def check_contact(body: ContactCheck) -> dict[str, str | None]:
    return {"name": body.name, "mobile": body.mobile}
