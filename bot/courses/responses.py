"""What the course endpoints answer: quotes, enrollments and leads as JSON, in China time.

Phone numbers are masked (masking.mask_phone) in everything a user or a staff member without the
right to see them reads; staff views (`staff=True`) carry the full number and the sender.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.courses.catalogue import Catalogue
from bot.courses.pricing import Quote
from bot.courses.sales import CHINA, STATUS_LABELS, quote_record
from bot.models import Enrollment, Lead
from masking import mask_phone


def subject_refs(cat: Catalogue, subject_ids) -> list[dict[str, str]]:
    out = []
    for sid in subject_ids or []:
        try:
            s = cat.subject(sid)
            out.append({"id": s.id, "name": s.name, "kind": s.kind})
        except KeyError:  # a subject since removed from the catalogue: keep the record readable
            out.append({"id": sid, "name": sid, "kind": ""})
    return out


def package_ref(cat: Catalogue, package_id: str | None) -> dict[str, str] | None:
    if not package_id:
        return None
    try:
        return {"id": package_id, "name": cat.package(package_id).name}
    except KeyError:
        return {"id": package_id, "name": package_id}


def quote_out(q: Quote) -> dict[str, Any]:
    return {
        "package": {"id": q.package.id, "name": q.package.name},
        "subjects": [{"id": s.id, "name": s.name, "kind": s.kind} for s in q.subjects],
        **quote_record(q),
        "currency": "CNY",
        "full_price": q.package.prices.full,
        "full_alternative_total": q.full_alternative_total,
    }


def _iso(value: datetime) -> str:
    return value.astimezone(CHINA).isoformat(timespec="seconds")


def enrollment_out(cat: Catalogue, e: Enrollment, staff: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": e.number,
        "status": e.status,
        "status_label": STATUS_LABELS[e.status],
        "package": package_ref(cat, e.package_id),
        "subjects": subject_refs(cat, e.subject_ids),
        "price": e.price,
        "currency": "CNY",
        "quote": e.quote,
        "name": e.name,
        "mobile": e.mobile if staff else mask_phone(e.mobile),
        "created_at": _iso(e.created_at),
    }
    if staff:
        out.update(sender=e.sender, channel=e.channel, updated_at=_iso(e.updated_at))
    return out


def lead_out(cat: Catalogue, lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "status": lead.status,
        "status_label": STATUS_LABELS[lead.status],
        "name": lead.name,
        "mobile": lead.mobile,
        "preferred_time": lead.preferred_time,
        "question": lead.question,
        "package": package_ref(cat, lead.package_id),
        "subjects": subject_refs(cat, lead.subject_ids),
        "sender": lead.sender,
        "channel": lead.channel,
        "created_at": _iso(lead.created_at),
        "updated_at": _iso(lead.updated_at),
    }


def lead_receipt(cat: Catalogue, lead: Lead) -> dict[str, Any]:
    """The public answer to a call-back request: what this request stored, never the full number,
    the sender, or the times of a request made earlier."""
    out = lead_out(cat, lead)
    for staff_only in ("sender", "channel", "created_at", "updated_at"):
        out.pop(staff_only)
    out["mobile"] = mask_phone(lead.mobile)
    return out
