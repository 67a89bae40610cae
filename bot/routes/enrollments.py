"""Signing up for a course, and the owner's look-up of their enrollment.

  POST /api/enrollments           sign up; Idempotency-Key header; 201 new, 200 existing
  POST /api/enrollments/lookup    the owner: {"number", "phone"} in the body (never in the URL),
                                  throttled per number and per phone (bot/lookup_throttle.py)
The staff side (lists, statuses, assignees, notes, conversations, exports) is bot/routes/pipeline.py.
A request that writes runs in one transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Response, status

from bot.courses import sales
from bot.courses.responses import enrollment_out
from bot.courses.schemas import EnrollmentRequest, LookupRequest
from bot.routes.course_deps import (
    NOT_FOUND,
    CatalogueDep,
    DatabaseDep,
    IdempotencyKey,
    LookupThrottleDep,
    priced_choice,
)
from bot.senders import refuse_wechat_senders

log = logging.getLogger(__name__)
router = APIRouter(tags=["enrollments"], dependencies=[Depends(refuse_wechat_senders)])  # wx: is WeChat's

KEY_CONFLICT = "这个 Idempotency-Key 已用于另一份报名（内容或提交者不同）；新的报名请使用新的 Idempotency-Key。"
LOOKUP_THROTTLED = "查询失败的次数太多，请{minutes}分钟后再试；如需帮助请联系客服。"


@router.post(
    "/api/enrollments",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the same enrollment already existed; nothing new was created"},
        409: {"description": "Idempotency-Key reused for a different enrollment"},
    },
)
def create_enrollment(
    body: EnrollmentRequest,
    response: Response,
    cat: CatalogueDep,
    db: DatabaseDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    q = priced_choice(cat, body.package, body.subjects)
    data = sales.EnrollmentInput(name=body.name, mobile=body.mobile, quote=q, sender=body.sender, channel=body.channel)
    with db.transaction() as session:
        try:
            enrollment, created = sales.create_enrollment(session, data, idempotency_key)
        except sales.IdempotencyConflict:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=KEY_CONFLICT) from None
        out = enrollment_out(cat, enrollment, staff=False)
    out["created"] = created
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/api/enrollments/{enrollment.number}"
    log.info(
        "enrollment %s %s (package %s, %d subjects, channel %s)",
        enrollment.number,
        "created" if created else "returned again",
        enrollment.package_id,
        len(enrollment.subject_ids),
        enrollment.channel or "-",
    )
    return out


@router.post(
    "/api/enrollments/lookup",
    responses={
        404: {"description": "no enrollment with this number and phone (one answer for both)"},
        429: {"description": "too many failed lookups of this number or with this phone"},
    },
)
def lookup_enrollment(
    body: LookupRequest, cat: CatalogueDep, db: DatabaseDep, throttle: LookupThrottleDep
) -> dict[str, Any]:
    """The owner's view of an enrollment, by its number and the phone given when enrolling."""
    counted = throttle.attempt(body.number, body.phone)
    if counted is None:
        log.info("enrollment lookup throttled (too many failures for this number or phone)")
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=LOOKUP_THROTTLED.format(minutes=max(1, round(throttle.window_seconds / 60))),
            headers={"Retry-After": str(throttle.window_seconds)},
        )
    with db.transaction(write=False) as session:
        enrollment = sales.get_enrollment(session, body.number)
        if enrollment is None or enrollment.mobile != body.phone:  # one answer for both: nothing leaks
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
        throttle.succeeded(counted)
        return enrollment_out(cat, enrollment, staff=False)
