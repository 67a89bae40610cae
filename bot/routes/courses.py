"""The catalogue and the advice around it: what a user can buy, at what price, and what fits them.

Public (the chat actions and the web widget call these):
  GET  /api/courses               classes, subjects, study stages, question bank, VIP lists
  GET  /api/packages              the packages with who they suit, validity, guarantee and prices, and
                                  `fields`: those as labelled texts (bot/courses/catalogue.py package_fields)
  POST /api/courses/match         which packages / subjects a user's words name ("无优班", "全科+建筑")
  POST /api/quotes                price of a package for a set of subjects (rule: bot/courses/pricing.py)
  POST /api/recommendations       which package fits a profile, with the catalogue's reasons
Enrollments are bot/routes/enrollments.py, call-back requests and the contact check bot/routes/leads.py,
the staff side of both bot/routes/pipeline.py. Bad input is a 422 whose `detail` says, in Chinese,
what to fix.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from bot.courses.catalogue import package_fields
from bot.courses.pricing import quote
from bot.courses.recommend import recommend
from bot.courses.responses import quote_out, subject_refs
from bot.courses.schemas import MatchRequest, QuoteRequest, RecommendationRequest
from bot.routes.course_deps import CatalogueDep, priced_choice, subject_ids_named
from bot.senders import refuse_wechat_senders

router = APIRouter(tags=["courses"], dependencies=[Depends(refuse_wechat_senders)])  # wx: is WeChat's


@router.get("/api/courses")
def list_courses(cat: CatalogueDep) -> dict[str, Any]:
    """Classes (with hours as the page states them), subjects with teachers, and the study plan."""
    return cat.model_dump(exclude={"packages"}, exclude_none=True)


@router.get("/api/packages")
def list_packages(cat: CatalogueDep) -> dict[str, Any]:
    return {
        "packages": [{**p.model_dump(exclude_none=True), "fields": package_fields(p)} for p in cat.packages],
        "subjects": [s.model_dump() for s in cat.subjects],
        "source_notes": cat.source_notes,
    }


@router.post("/api/courses/match")
def match_words(body: MatchRequest, cat: CatalogueDep) -> dict[str, Any]:
    m = cat.match(body.text)
    subject_ids = list(m.subjects)
    if m.full_course:
        subject_ids += [s.id for s in cat.public_subjects]
    subject_ids = cat.ordered_subject_ids(subject_ids)
    has_practice = any(cat.subject(sid).kind == "实务" for sid in subject_ids)
    return {
        "packages": [{"id": pid, "name": cat.package(pid).name} for pid in m.packages],
        "subjects": subject_refs(cat, subject_ids),
        "full_course": m.full_course,
        "needs_practice": m.full_course and not has_practice,
    }


@router.post("/api/quotes")
def create_quote(body: QuoteRequest, cat: CatalogueDep) -> dict[str, Any]:
    return quote_out(priced_choice(cat, body.package, body.subjects))


@router.post("/api/recommendations")
def create_recommendation(body: RecommendationRequest, cat: CatalogueDep) -> dict[str, Any]:
    subject_ids = subject_ids_named(cat, body.subjects) or None
    all_subjects: bool | None = None
    if subject_ids:
        chosen = set(subject_ids)
        all_subjects = {s.id for s in cat.public_subjects} <= chosen and any(
            s.id in chosen for s in cat.practice_subjects
        )
    result = recommend(
        cat,
        {
            "zero_basis": body.zero_basis,
            "failed_before": body.failed_before,
            "busy": body.busy,
            "site_experience": body.site_experience,
            "all_subjects": all_subjects,
        },
    )
    return {
        "recommended": list(result.recommended),
        "decided": result.decided,
        "open_questions": list(result.open_questions),
        "packages": [
            {
                "id": fit.package.id,
                "name": fit.package.name,
                "score": fit.score,
                "reasons": list(fit.reasons),
                "quote": quote_out(quote(cat, fit.package.id, subject_ids)) if subject_ids else None,
            }
            for fit in result.fits
        ],
    }
