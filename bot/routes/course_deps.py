"""What the course, enrollment, lead and pipeline routes share: the services they are given
(FastAPI dependencies, so a route names what it uses instead of reaching into `app.state`),
the reading of a package and subjects into catalogue ids, and the messages staff and owners read.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status

from bot.courses.catalogue import Catalogue, CatalogueError, Package, get_catalogue
from bot.courses.pricing import Quote, quote
from bot.courses.schemas import IDEMPOTENCY_KEY_PATTERN, reject
from bot.db import Database
from bot.lookup_throttle import LookupThrottle
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.transcripts import transcript
from masking import mask_pii

log = logging.getLogger(__name__)

NOT_FOUND = "没有找到这条报名记录，请核对报名号和报名时填写的手机号。"
LEAD_NOT_FOUND = "没有找到这条回电请求。"
LOOKUP_MOVED = (
    "查询报名记录请改用 POST /api/enrollments/lookup，在请求体中提供报名号 number 和报名时填写的手机号 phone"
    "（手机号不要放在网址里）。"
)
CATALOGUE_DOWN = "课程信息暂时无法读取，请稍后再试。"
NO_CONVERSATION = "这条记录没有关联的会话（不是在对话中提交的）。"
RASA_DOWN = "暂时无法读取会话记录（对话服务不可用），请稍后再试。"

# Query bounds that keep arithmetic on dates and row numbers inside what the databases hold.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


# -- the services -----------------------------------------------------------------------------------


def catalogue() -> Catalogue:
    try:
        return get_catalogue()
    except CatalogueError:
        log.exception("course catalogue unavailable")
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=CATALOGUE_DOWN) from None


def database(request: Request) -> Database:
    return request.app.state.db


def lookup_throttle(request: Request) -> LookupThrottle:
    return request.app.state.lookup_throttle


def rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


CatalogueDep = Annotated[Catalogue, Depends(catalogue)]
DatabaseDep = Annotated[Database, Depends(database)]
LookupThrottleDep = Annotated[LookupThrottle, Depends(lookup_throttle)]
RasaDep = Annotated[RasaClient, Depends(rasa)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN, description="同一个 key 重试不会重复创建"),
]


# -- a user's choice in catalogue ids -----------------------------------------------------------------


def package_named(cat: Catalogue, value: str) -> Package:
    """The package an id or a user's wording names, or a 422 listing the packages."""
    found = cat.resolve_package(value)
    if found is None:
        raise reject("package", f"没有找到套餐“{value}”，可选：{'、'.join(p.name for p in cat.packages)}。")
    return found


def subject_ids_named(cat: Catalogue, values: list[str] | None) -> list[str]:
    """The subject ids that ids or a user's wordings name, in the given order, or a 422 listing them."""
    ids: list[str] = []
    for value in values or []:
        subject = cat.resolve_subject(value)
        if subject is None:
            raise reject("subjects", f"没有找到科目“{value}”，可选：{'、'.join(s.name for s in cat.subjects)}。")
        ids.append(subject.id)
    return ids


def priced_choice(cat: Catalogue, package: str, subjects: list[str]) -> Quote:
    return quote(cat, package_named(cat, package).id, subject_ids_named(cat, subjects))


# -- staff views ---------------------------------------------------------------------------------------


async def _conversation(request: Request, sender: str | None, masked: bool = False) -> dict[str, Any]:
    """The chat that produced a record (from Rasa's tracker store); `masked`: phone and ID numbers hidden."""
    if not sender:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NO_CONVERSATION)
    try:
        turns = await transcript(rasa(request), sender)
    except RasaUnavailable as exc:
        log.warning("conversation lookup: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=RASA_DOWN) from None
    messages = [
        {"role": t["who"], "text": mask_pii(t["text"]) if masked else t["text"], "timestamp": t["timestamp"]}
        for t in turns
    ]
    return {"sender": sender, "messages": messages}


def _bounded_dates(*days: date | None) -> None:
    for day in days:
        if day is not None and not EARLIEST <= day <= LATEST:
            raise reject("date", f"日期需在 {EARLIEST} 到 {LATEST} 之间。")
