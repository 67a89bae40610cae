"""`make purge`: delete or anonymise personal data older than the retention (RETENTION_DAYS, 180 days).

What it does, and what it keeps:

- Rasa's tracker store (TRACKER_DB_URL, the SQL store of endpoints.yml): a conversation whose last
  event is older than the retention is deleted with all its events (its raw messages and slots, the
  mobile number among them); in a conversation still in use, the events of sessions that ended
  before the retention are deleted, the current session stays whole. Staff transcripts are read from
  these trackers, so they go with them.
- bot/'s database (DATABASE_URL): unanswered questions last asked before the retention, leads (call-back
  requests) not updated since, feedback and hand-offs older than it are deleted.
- Enrollments are business records and are never deleted: open and paid ones stay as they are (the
  company still serves them); a cancelled one not updated since the retention keeps its number,
  package, price and dates, with name, mobile, sender and keys anonymised.

Run it daily (cron or the orchestrator's job) with the same environment as bot/. `--dry-run`
counts without changing anything. Prints what it did, with counts.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine, and_, delete, func, inspect, or_, select, text, update
from sqlalchemy.engine import make_url

from bot import unanswered_store
from bot.db import Database, create_db_engine
from bot.models import Enrollment, Feedback, Handoff, Lead, StaffNote, StaffSession
from bot.settings import get_settings

ANONYMISED_NAME = "（已匿名）"
ANONYMISED_MOBILE = "*" * 11


@dataclass
class Report:
    cutoff: datetime
    counts: dict[str, int] = field(default_factory=dict)  # "leads deleted" -> 3
    notes: list[str] = field(default_factory=list)

    def add(self, what: str, count: int) -> None:
        self.counts[what] = count

    def lines(self, dry_run: bool) -> list[str]:
        state = "dry run, nothing changed" if dry_run else "done"
        return (
            [f"[purge] data older than {self.cutoff:%Y-%m-%d %H:%M} UTC ({state}):"]
            + [f"  {what}: {count}" for what, count in self.counts.items()]
            + [f"  {n}" for n in self.notes]
        )


class _DryRun(Exception):
    """Raised inside a transaction to roll it back after counting."""


def purge_backend(db: Database, cutoff: datetime, report: Report, dry_run: bool = False) -> None:
    """bot/'s tables, in one transaction (rolled back on a dry run)."""
    try:
        with db.transaction() as session:
            _purge_backend(session, cutoff, report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass


def _purge_backend(session, cutoff: datetime, report: Report) -> None:
    report.add("unanswered questions deleted", unanswered_store.forget_before(session, cutoff))
    report.add("leads deleted", session.execute(delete(Lead).where(Lead.updated_at < cutoff)).rowcount)
    report.add(
        "feedback entries deleted", session.execute(delete(Feedback).where(Feedback.created_at < cutoff)).rowcount
    )
    report.add("hand-offs deleted", session.execute(delete(Handoff).where(Handoff.created_at < cutoff)).rowcount)
    old = Enrollment.updated_at < cutoff
    anonymised = session.execute(
        update(Enrollment)
        .where(old, Enrollment.status == "cancelled", Enrollment.name != ANONYMISED_NAME)
        .values(name=ANONYMISED_NAME, mobile=ANONYMISED_MOBILE, sender=None, idempotency_key=None, dedup_key=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    report.add("cancelled enrollments anonymised", anonymised)
    kept = session.scalar(select(func.count()).select_from(Enrollment).where(old, Enrollment.status != "cancelled"))
    report.add("old open or paid enrollments kept as they are (still served)", kept)
    # What consultants noted about a person goes with the person: notes of deleted leads and of
    # anonymised enrollments (the audit log keeps who did what, without the notes' text).
    gone = or_(
        and_(StaffNote.subject_kind == "lead", StaffNote.subject_id.not_in(select(Lead.id))),
        and_(
            StaffNote.subject_kind == "enrollment",
            StaffNote.subject_id.in_(select(Enrollment.id).where(Enrollment.name == ANONYMISED_NAME)),
        ),
    )
    report.add(
        "staff notes of deleted or anonymised people deleted",
        session.execute(delete(StaffNote).where(gone).execution_options(synchronize_session=False)).rowcount,
    )
    report.add(
        "expired staff sessions deleted",
        session.execute(delete(StaffSession).where(StaffSession.expires_at < datetime.now(timezone.utc))).rowcount,
    )


def purge_trackers(engine: Engine, cutoff: datetime, report: Report, dry_run: bool = False) -> None:
    """Rasa's SQL tracker store (table `events`: sender_id, type_name, timestamp as epoch seconds)."""
    if "events" not in inspect(engine).get_table_names():
        report.notes.append(f"Rasa's tracker store at {_shown(engine)} holds no conversation yet")
        return
    ts = cutoff.timestamp()
    stale = "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :ts"
    with engine.connect() as connection:
        with connection.begin() as transaction:
            conversations = connection.execute(text(f"SELECT COUNT(*) FROM ({stale}) AS stale"), {"ts": ts}).scalar()
            whole = connection.execute(text(f"DELETE FROM events WHERE sender_id IN ({stale})"), {"ts": ts}).rowcount
            # Earlier sessions of conversations still in use: before the latest session start, which
            # is where Rasa itself starts reading a tracker.
            earlier = connection.execute(
                text(
                    "DELETE FROM events WHERE timestamp < :ts AND timestamp < ("
                    " SELECT MAX(e2.timestamp) FROM events AS e2"
                    " WHERE e2.sender_id = events.sender_id AND e2.type_name = 'session_started')"
                ),
                {"ts": ts},
            ).rowcount
            if dry_run:
                transaction.rollback()
    report.add("conversations deleted (Rasa trackers and their staff transcripts)", conversations)
    report.add("events of those conversations deleted", whole)
    report.add("events of ended sessions of conversations still in use deleted", earlier)


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _missing_sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        return None if path.exists() else path
    return None


def run(
    database_url: str, tracker_db_url: str, days: int, dry_run: bool = False, now: datetime | None = None
) -> Report:
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    report = Report(cutoff)
    db = Database(database_url)
    try:
        db.migrate()  # the columns purge reads exist even if bot/ has not started since an upgrade
        purge_backend(db, cutoff, report, dry_run)
    finally:
        db.close()
    missing = _missing_sqlite_file(tracker_db_url)
    if missing is not None:  # Rasa has not run here yet; do not create the file
        report.notes.append(f"no Rasa tracker store at {missing} (nothing stored yet)")
        return report
    engine = create_db_engine(tracker_db_url)
    try:
        purge_trackers(engine, cutoff, report, dry_run)
    finally:
        engine.dispose()
    return report


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days",
        type=int,
        default=settings.retention_days,
        help=f"retention in days (default: RETENTION_DAYS = {settings.retention_days})",
    )
    parser.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    report = run(settings.database_url, settings.tracker_db_url, args.days, args.dry_run)
    print("\n".join(report.lines(args.dry_run)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
