"""The registration backend: a user's own path through the Fujian 二级建造师 registration.

POST /api/registration/plan   eligibility, continuing education, approval, steps, what to ask next
POST /api/registration/match  which business / employer / role / information kind a user's words name
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError

from bot.registration import Planner, SituationError, check_situation
from bot.registration.reading import read_choices
from bot.registration.schemas import Choice, MatchRequest, MatchResponse, PlanRequest, PlanResponse

router = APIRouter(tags=["registration"])
CHINA = ZoneInfo("Asia/Shanghai")


def today_in_china() -> date:
    """Today's date in Beijing time (the default submission date). Tests override this dependency."""
    return datetime.now(CHINA).date()


@lru_cache(maxsize=1)
def get_planner() -> Planner:
    """Rules and calendar loaded once, on first use."""
    return Planner()


@router.post(
    "/api/registration/plan",
    response_model=PlanResponse,
    summary="个人注册办理方案",
    responses={422: {"description": "输入不合理或互相矛盾；detail 是给用户看的中文说明"}},
)
def registration_plan(
    body: PlanRequest, today: date = Depends(today_in_china), planner: Planner = Depends(get_planner)
) -> PlanResponse:
    """Eligibility and why, continuing-education hours and why, approver and expected decision date,
    the ordered steps, the materials, and which facts are still missing (`questions`)."""
    try:
        situation, ignored = check_situation(body.to_situation(), today, planner.book, body.drop_irrelevant)
    except SituationError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "registration_input",
                    "loc": ("body", field),
                    "msg": reason,
                    "input": None,
                    "ctx": {"reason": reason},
                }
                for field, reason in exc.problems
            ]
        ) from None
    return planner.plan(situation, ignored)


@router.post(
    "/api/registration/match", response_model=MatchResponse, summary="读用户的话：业务、单位、主项/增项、信息类别"
)
def registration_match(body: MatchRequest, planner: Planner = Depends(get_planner)) -> MatchResponse:
    """The choices the words of rules.yml find in `text`: codes for the plan API, names for the reply."""
    found = read_choices(planner.book, body.text, body.answer_to)
    return MatchResponse(
        **{
            field: Choice(code=item.code, name=item.name, said_as=(item.words or (item.name,))[0]) if item else None
            for field, item in found.items()
        }
    )
