"""retention (issue #13, finding 7): `make purge` (scripts/purge.py) deletes or anonymises personal data older than
RETENTION_DAYS, and keeps what is newer and the enrollments the company still has to serve.

bot/'s database is the real one (migrations applied; SQLite, or PostgreSQL with TEST_POSTGRES_URL).
Rasa's tracker store is a SQLite file with the table Rasa 3.6's SQLTrackerStore creates (`events`:
sender_id, type_name, timestamp in epoch seconds, intent_name, action_name, data), as under
var/rasa/tracker.db; the rows are what Rasa writes for a conversation (raw text, the mobile slot).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.db import open_database
from bot.models import Enrollment, Feedback, Handoff, Lead, Unanswered
from scripts import purge
from tests.dbutil import fresh_database

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=200)
RECENT = NOW - timedelta(days=10)
EVENTS = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,"
    " timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
)


def conversation(db: sqlite3.Connection, sender: str, start: datetime, mobile: str = "13812345678") -> None:
    """One session as Rasa stores it: session start, the user's message, the mobile slot, a reply."""
    t = start.timestamp()
    for offset, (kind, data) in enumerate(
        [
            ("action", {"name": "action_session_start"}),
            ("session_started", {}),
            ("user", {"text": f"我的手机 {mobile}，想报名"}),
            ("slot", {"name": "student_mobile", "value": mobile}),
            ("bot", {"text": "好的，已记下。"}),
        ]
    ):
        db.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            (sender, kind, t + offset, json.dumps({"event": kind, **data}, ensure_ascii=False)),
        )


def enrollment(number: str, status: str, when: datetime) -> Enrollment:
    return Enrollment(
        number=number,
        name="张三",
        mobile="13812345678",
        package_id="wuyou",
        subject_ids=["glgl"],
        price=1000,
        quote={},
        sender=f"web-{number}",
        channel="web",
        status=status,
        idempotency_key=f"key-{number}",
        fingerprint="f" * 64,
        dedup_key=f"d-{number}",
        created_at=when,
        updated_at=when,
    )


def test_retention_purge_deletes_or_anonymises_what_is_older(tmp_path, capsys):
    tracker_path = tmp_path / "tracker.db"
    with sqlite3.connect(tracker_path) as tracker:
        tracker.execute(EVENTS)
        conversation(tracker, "web-gone", OLD)  # over: deleted whole
        conversation(tracker, "web-back", OLD, mobile="13900000001")  # came back recently: the old session goes
        conversation(tracker, "web-back", RECENT)
        conversation(tracker, "web-new", RECENT)

    with fresh_database(tmp_path) as url:
        db = open_database(url)
        try:
            with db.transaction() as session:
                for i, when in enumerate((OLD, RECENT)):
                    session.add(
                        Unanswered(
                            question=f"问题{i}",
                            question_key=f"{i:064d}",
                            sender="web-1",
                            added_by="web-1",
                            asks=1,
                            created_at=when,
                            last_seen=when,
                        )
                    )
                    session.add(
                        Lead(
                            name="李四",
                            mobile="13912345678",
                            sender=f"web-lead-{i}",
                            status="new",
                            created_at=when,
                            updated_at=when,
                        )
                    )
                    session.add(Feedback(sender="web-1", rating=-1, question="身份证 350102900101123", created_at=when))
                    session.add(Handoff(sender="web-1", reason="转人工", created_at=when))
                for number, status, when in (
                    ("EN-OLD-CANCELLED", "cancelled", OLD),
                    ("EN-OLD-PAID", "paid", OLD),
                    ("EN-OLD-NEW", "new", OLD),
                    ("EN-RECENT-CANCELLED", "cancelled", RECENT),
                ):
                    session.add(enrollment(number, status, when))

            dry = purge.run(url, f"sqlite:///{tracker_path}", days=180, dry_run=True, now=NOW)
            assert dry.counts["leads deleted"] == 1
            with db.transaction(write=False) as session:
                assert len(session.scalars(select(Lead)).all()) == 2, "a dry run changes nothing"

            report = purge.run(url, f"sqlite:///{tracker_path}", days=180, now=NOW)
            assert report.counts == {
                "unanswered questions deleted": 1,
                "leads deleted": 1,
                "feedback entries deleted": 1,
                "hand-offs deleted": 1,
                "cancelled enrollments anonymised": 1,
                "old open or paid enrollments kept as they are (still served)": 2,
                "staff notes of deleted or anonymised people deleted": 0,
                "expired staff sessions deleted": 0,
                "conversations deleted (Rasa trackers and their staff transcripts)": 1,
                "events of those conversations deleted": 5,
                "events of ended sessions of conversations still in use deleted": 5,
            }
            with db.transaction(write=False) as session:
                assert [u.question for u in session.scalars(select(Unanswered))] == ["问题1"]
                assert [lead.sender for lead in session.scalars(select(Lead))] == ["web-lead-1"]
                assert len(session.scalars(select(Feedback)).all()) == len(session.scalars(select(Handoff)).all()) == 1
                kept = {e.number: e for e in session.scalars(select(Enrollment))}
            assert set(kept) == {"EN-OLD-CANCELLED", "EN-OLD-PAID", "EN-OLD-NEW", "EN-RECENT-CANCELLED"}
            gone = kept["EN-OLD-CANCELLED"]  # the business record stays, the person is gone from it
            assert (gone.name, gone.mobile, gone.sender, gone.idempotency_key, gone.dedup_key) == (
                purge.ANONYMISED_NAME,
                purge.ANONYMISED_MOBILE,
                None,
                None,
                None,
            )
            assert (gone.status, gone.price, gone.package_id) == ("cancelled", 1000, "wuyou")
            for number in ("EN-OLD-PAID", "EN-OLD-NEW", "EN-RECENT-CANCELLED"):
                assert (kept[number].name, kept[number].mobile) == ("张三", "13812345678"), number

            again = purge.run(url, f"sqlite:///{tracker_path}", days=180, now=NOW)
            assert set(again.counts.values()) <= {0, 2}, "a second run finds nothing more (2: the kept enrollments)"
        finally:
            db.close()

    with sqlite3.connect(tracker_path) as tracker:
        rows = tracker.execute("SELECT sender_id, type_name, data FROM events ORDER BY id").fetchall()
    assert {sender for sender, *_ in rows} == {"web-back", "web-new"}
    assert not [r for r in rows if "13900000001" in r[2]], "the old session's mobile number is gone"
    back = [kind for sender, kind, _ in rows if sender == "web-back"]
    assert back[:2] == ["action", "session_started"] and len(back) == 5, "the current session stays whole"
    assert "13812345678" in " ".join(r[2] for r in rows if r[0] == "web-new")


def test_retention_make_purge_prints_what_it_did(tmp_path, monkeypatch, capsys):
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path / 'absent' / 'tracker.db'}")
    monkeypatch.setenv("RETENTION_DAYS", "30")
    get_settings.cache_clear()
    try:
        assert get_settings().retention_days == 30
        assert purge.main([]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "leads deleted: 0" in out and "no Rasa tracker store" in out
    cutoff = datetime.now(timezone.utc) - timedelta(days=30)
    assert f"{cutoff:%Y-%m-%d}" in out
    assert not (tmp_path / "absent").exists(), "purge never creates a tracker store"
