"""Call-back requests for a course consultant.

  POST /api/leads    a call-back request; Idempotency-Key header; 201 new, 200 a retry or the same
                     sender's open request replaced by this one
The staff side (lists, statuses, assignees, notes, conversations, exports) is bot/routes/pipeline.py.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Response, status

from bot.courses import sales
from bot.courses.responses import lead_receipt
from bot.courses.schemas import LeadRequest
from bot.routes.course_deps import CatalogueDep, DatabaseDep, IdempotencyKey, package_named, subject_ids_named
from bot.senders import refuse_wechat_senders

log = logging.getLogger(__name__)
router = APIRouter(tags=["leads"], dependencies=[Depends(refuse_wechat_senders)])  # wx: is WeChat's

LEAD_KEY_CONFLICT = (
    "这个 Idempotency-Key 已用于另一条回电请求（内容或提交者不同）；新的请求请使用新的 Idempotency-Key。"
)


@router.post(
    "/api/leads",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "a retry, or the same sender's open request replaced by this one"},
        409: {"description": "Idempotency-Key reused for another request"},
    },
)
def create_lead(
    body: LeadRequest, response: Response, cat: CatalogueDep, db: DatabaseDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    data = sales.LeadInput(
        name=body.name,
        mobile=body.mobile,
        preferred_time=(body.preferred_time or "").strip() or None,
        question=(body.question or "").strip() or None,
        package_id=package_named(cat, body.package).id if body.package else None,
        subject_ids=tuple(cat.ordered_subject_ids(subject_ids_named(cat, body.subjects))) or None,
        sender=body.sender,
        channel=body.channel,
    )
    with db.transaction() as session:
        try:
            lead, created = sales.create_lead(session, data, idempotency_key)
        except sales.IdempotencyConflict:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=LEAD_KEY_CONFLICT) from None
        session.flush()
        out = lead_receipt(cat, lead)
    out["created"] = created
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    log.info("lead %s %s (channel %s)", lead.id, "created" if created else "updated", lead.channel or "-")
    return out
