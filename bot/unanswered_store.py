"""The unanswered-questions store: deduplicated and bounded, whatever callers send.

- One row per normalised question: asking it again (in any spelling that normalises the same)
  adds to its count and moves its last-seen time; the same sender repeating it in a row counts once.
- Per-sender cap: one sender adds at most `max_per_sender` rows (their other new questions are not
  stored; repeats of stored ones still count), so one client cannot fill the store.
- Row cap: beyond `max_rows` the least asked, longest unseen rows go first.
- Phone and ID numbers are masked before a question is stored: staff need the gap, not the number.
- The normalised question's tokens are stored with it, and the knowledge engine's reading (its best
  entries with their scores), so the staff console groups rows by meaning (bot/unanswered.py)
  without normalising or searching them again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from bot.chat_cleaning import clean_message
from bot.db import Database
from bot.logging_setup import mask_pii
from bot.models import Unanswered, utcnow
from bot.search_lexicon import search_lexicon
from bot.unanswered import Row
from knowledge.characters import basic_normalize
from knowledge.engine import bounded
from knowledge.lexicon import Lexicon
from knowledge.tokenize import tokens as retrieval_tokens

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bounds:
    max_rows: int = 5000
    max_per_sender: int = 20


def question_key(question: str, lexicon: Lexicon | None = None) -> tuple[str, str]:
    """(key, tokens): sha256 of the normalised question, and its retrieval tokens space-separated.
    Normalised as the search reads it, with the engine's lexicon (by default the configured index's),
    and bounded as the engine bounds it, so a 1000-character paste costs no more here than there."""
    normalized = (lexicon or search_lexicon()).normalize_query(bounded(clean_message(question)))
    key_text = " ".join(normalized.split()) or question.strip()
    return hashlib.sha256(key_text.encode("utf-8")).hexdigest(), " ".join(dict.fromkeys(retrieval_tokens(normalized)))


def _legacy_tokens(question: str, lexicon: Lexicon | None) -> list[str]:
    """Tokens of a row stored without them; without a knowledge index (no lexicon to read it with),
    of its characters alone, so the console still groups it by words."""
    if lexicon is None:
        return retrieval_tokens(basic_normalize(clean_message(question)))
    return question_key(question, lexicon)[1].split()


def record(
    db: Database,
    bounds: Bounds,
    *,
    question: str,
    sender: str,
    channel: str | None,
    decision: str,
    reading: dict[str, float] | None = None,
    lexicon: Lexicon | None = None,
) -> str:
    """Store one declined question with the engine's reading of it ({entry id: fused score}) and
    normalised with its lexicon; returns what happened: "added", "counted" or "refused" (sender cap)."""
    question = mask_pii(question.strip())
    key, toks = question_key(question, lexicon)
    stored_reading = _dump(reading) if reading else None
    for attempt in (1, 2):
        try:
            return _record(db, bounds, key, toks, question, sender, channel, decision, stored_reading)
        except IntegrityError:
            # Another worker added the same question between our look-up and insert: count it instead.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def _record(
    db: Database,
    bounds: Bounds,
    key: str,
    toks: str,
    question: str,
    sender: str,
    channel: str | None,
    decision: str,
    reading: str | None,
) -> str:
    now = utcnow()
    with db.transaction() as session:
        row = session.scalars(select(Unanswered).where(Unanswered.question_key == key)).first()
        if row is not None:
            if row.sender != sender:
                row.asks += 1
            row.sender, row.channel, row.last_seen = sender, channel, now
            row.reading = row.reading or reading
            return "counted"
        added = session.scalar(select(func.count()).select_from(Unanswered).where(Unanswered.added_by == sender))
        if added >= bounds.max_per_sender:
            log.info("unanswered: sender already added %d questions; not storing another", added)
            return "refused"
        session.add(
            Unanswered(
                question_key=key,
                tokens=toks,
                question=question,
                sender=sender,
                added_by=sender,
                channel=channel,
                decision=decision,
                asks=1,
                created_at=now,
                last_seen=now,
                reading=reading,
            )
        )
        session.flush()
        _evict(session, bounds.max_rows)
        return "added"


def _evict(session, max_rows: int) -> None:
    total = session.scalar(select(func.count()).select_from(Unanswered))
    if total <= max_rows:
        return
    victims = (
        select(Unanswered.id).order_by(Unanswered.asks, Unanswered.last_seen, Unanswered.id).limit(total - max_rows)
    )
    ids = list(session.scalars(victims))
    session.execute(delete(Unanswered).where(Unanswered.id.in_(ids)))


def forget_before(session, cutoff) -> int:
    """Delete questions last asked before `cutoff` (retention, scripts/purge.py); returns how many."""
    return session.execute(delete(Unanswered).where(Unanswered.last_seen < cutoff)).rowcount


def _dump(reading: dict[str, float]) -> str:
    return json.dumps({entry: round(float(score), 4) for entry, score in reading.items()}, sort_keys=True)


def _load(text: str | None) -> dict[str, float] | None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None  # written by hand or damaged: read again
    return {str(k): float(v) for k, v in value.items()} if isinstance(value, dict) else None


def recent_rows(db: Database, limit: int, lexicon: Lexicon | None = None) -> list[Row]:
    """The `limit` most recently asked questions, as the grouping reads them (rows stored without
    tokens are read with `lexicon`, the engine's; None: no index, by their characters)."""
    with db.transaction(write=False) as session:
        found = session.execute(
            select(
                Unanswered.id,
                Unanswered.question_key,
                Unanswered.question,
                Unanswered.asks,
                Unanswered.created_at,
                Unanswered.last_seen,
                Unanswered.sender,
                Unanswered.tokens,
                Unanswered.reading,
            )
            .order_by(Unanswered.last_seen.desc(), Unanswered.id.desc())
            .limit(limit)
        ).all()
    rows = []
    for id_, key, question, asks, created_at, last_seen, sender, toks, reading in found:
        # Rows stored before migration 0003 have no tokens: they are tokenised here, once per call.
        tokens = toks.split() if toks else _legacy_tokens(question, lexicon)
        rows.append(
            Row(
                id_,
                key,
                question,
                asks or 1,
                created_at or last_seen,
                last_seen or created_at,
                sender,
                tokens,
                _load(reading),
            )
        )
    return rows


def save_readings(db: Database, readings: dict[int, dict[str, float]]) -> None:
    """Store readings made for rows that had none (stored before migration 0005, or while the
    index was unavailable), so each row is read once."""
    with db.transaction() as session:
        for row_id, reading in readings.items():
            session.execute(update(Unanswered).where(Unanswered.id == row_id).values(reading=_dump(reading)))
