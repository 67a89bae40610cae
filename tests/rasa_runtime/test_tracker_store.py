"""rasa_runtime.tracker_store.CachingSQLTrackerStore reads what Rasa's SQLTrackerStore reads, from the
same database, in every case where the remembered tracker could be out of date; and a warm
conversation is not read back. Runs in the Rasa runtime (.venv-rasa)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import EventVerbosity
from rasa.utils.endpoints import read_endpoint_config

from rasa_runtime.tracker_store import CachingSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "tracker.db"


def store(cls, domain, db, **kwargs):
    return cls(domain=domain, host=f"sqlite:///{db}", dialect="sqlite", db="rasa", **kwargs)


def run(coroutine):
    return asyncio.run(coroutine)


def state(tracker) -> tuple:
    if tracker is None:
        return None
    current = tracker.current_state(EventVerbosity.ALL)
    return current["events"], current["slots"], current["active_loop"], current["latest_action_name"]


def start_session(tracker) -> None:
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)


def one_turn(tracker, n: int) -> None:
    """What one message adds: the user's words, an action with its reply and a slot, then listening."""
    tracker.update(
        UserUttered(
            f"问题{n}",
            {"name": "ask_knowledge", "confidence": 0.9},
            parse_data={"intent": {"name": "ask_knowledge", "confidence": 0.9}, "entities": [], "text": f"问题{n}"},
        )
    )
    tracker.update(ActionExecuted("action_answer_knowledge"))
    tracker.update(BotUttered(f"回答{n}", {"buttons": [{"title": "转人工", "payload": "/human_handoff"}]}))
    tracker.update(SlotSet("last_question", f"问题{n}"))
    tracker.update(ActionExecuted("action_listen"))


def converse(cached, sender: str, turns: range) -> None:
    """Messages as Rasa's processor handles them: fetch the tracker, add the turn, save."""
    for n in turns:
        tracker = run(cached.get_or_create_tracker(sender, append_action_listen=False))
        if not tracker.events:
            start_session(tracker)
        one_turn(tracker, n)
        run(cached.save(tracker))


def test_every_message_reads_what_rasas_own_store_reads(domain, db):
    cached, rasa = store(CachingSQLTrackerStore, domain, db), store(SQLTrackerStore, domain, db)
    for n in range(1, 8):
        converse(cached, "u1", range(n, n + 1))
        assert state(run(cached.retrieve("u1"))) == state(run(rasa.retrieve("u1")))
    assert run(cached.retrieve("u1")).get_slot("last_question") == "问题7"


def test_a_warm_conversation_is_not_read_back_from_the_database(domain, db):
    cached, rasa = store(CachingSQLTrackerStore, domain, db), store(SQLTrackerStore, domain, db)
    converse(cached, "u1", range(1, 40))
    expected = state(run(rasa.retrieve("u1")))
    statements = []
    sa.event.listen(
        cached.engine, "before_cursor_execute", lambda conn, cursor, statement, *args: statements.append(statement)
    )
    tracker = run(cached.retrieve("u1"))
    assert state(tracker) == expected and tracker.get_slot("last_question") == "问题39"
    assert statements and not any("events.data" in s for s in statements), statements


def test_messages_another_instance_handled_are_seen(domain, db):
    a, b = store(CachingSQLTrackerStore, domain, db), store(CachingSQLTrackerStore, domain, db)
    rasa = store(SQLTrackerStore, domain, db)
    converse(a, "u1", range(1, 4))
    converse(b, "u1", range(4, 6))  # the conversation's next messages went to the other instance
    assert state(run(a.retrieve("u1"))) == state(run(rasa.retrieve("u1")))
    assert run(a.retrieve("u1")).get_slot("last_question") == "问题5"
    converse(a, "u1", range(6, 7))  # and back: nothing is stored twice
    assert state(run(b.retrieve("u1"))) == state(run(rasa.retrieve("u1")))
    # The session's events from SessionStarted on (Rasa finds it by timestamp), each turn's once.
    assert len(run(rasa.retrieve("u1")).events) == 2 + 6 * 5


def test_a_purged_conversation_is_not_served_from_memory(domain, db):
    cached = store(CachingSQLTrackerStore, domain, db)
    converse(cached, "u1", range(1, 4))
    with sqlite3.connect(db) as conn:  # what `make purge` does to an old conversation
        conn.execute("DELETE FROM events WHERE sender_id = 'u1'")
    assert run(cached.retrieve("u1")) is None


def test_a_tracker_changed_but_not_saved_is_read_again(domain, db):
    cached, rasa = store(CachingSQLTrackerStore, domain, db), store(SQLTrackerStore, domain, db)
    converse(cached, "u1", range(1, 3))
    tracker = run(cached.retrieve("u1"))
    one_turn(tracker, 99)  # a message whose handling failed before Rasa saved it
    again = run(cached.retrieve("u1"))
    assert state(again) == state(run(rasa.retrieve("u1")))
    assert again.get_slot("last_question") == "问题2"


def test_a_new_session_is_read_from_its_start_as_rasa_does(domain, db):
    cached, rasa = store(CachingSQLTrackerStore, domain, db), store(SQLTrackerStore, domain, db)
    converse(cached, "u1", range(1, 3))
    time.sleep(0.01)  # the new session's events come later (Rasa finds the session by timestamp)
    tracker = run(cached.retrieve("u1"))
    start_session(tracker)
    tracker.update(SlotSet("last_question", "问题2"))  # slots carried over
    run(cached.save(tracker))
    converse(cached, "u1", range(3, 4))
    new_session = run(cached.retrieve("u1"))
    assert state(new_session) == state(run(rasa.retrieve("u1")))
    events = new_session.current_state(EventVerbosity.ALL)["events"]
    assert events[0]["event"] == "session_started"
    assert [e.get("text") for e in events if e["event"] == "user"] == ["问题3"], "only the latest session"


def test_another_models_domain_is_not_mixed_with_remembered_trackers(domain, db):
    cached = store(CachingSQLTrackerStore, domain, db)
    converse(cached, "u1", range(1, 3))
    before = run(cached.retrieve("u1"))
    cached.domain = Domain.load(str(ROOT / "domain.yml"))  # PUT /model: a new model, a new domain object
    assert run(cached.retrieve("u1")) is not before


def test_memory_is_bounded_and_a_forgotten_conversation_is_read_in_full(domain, db):
    cached, rasa = store(CachingSQLTrackerStore, domain, db, cache_size=2), store(SQLTrackerStore, domain, db)
    for sender in ("u1", "u2", "u3"):
        converse(cached, sender, range(1, 3))
    assert len(cached._saved) <= 2
    assert state(run(cached.retrieve("u1"))) == state(run(rasa.retrieve("u1")))


def test_the_endpoints_files_configure_this_store(tmp_path, monkeypatch, domain):
    """Rasa quietly falls back to an in-memory store when a custom type cannot be imported."""
    monkeypatch.setenv("TRACKER_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:1/webhook")
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    created = create_tracker_store(config, domain)
    assert isinstance(created, CachingSQLTrackerStore)
    deploy = yaml.safe_load((ROOT / "deploy" / "endpoints.yml").read_text(encoding="utf-8"))["tracker_store"]
    assert deploy["type"] == config.type == "rasa_runtime.tracker_store.CachingSQLTrackerStore"


def test_instances_taking_turns_on_every_message_store_each_event_once(domain, db):
    a, b = store(CachingSQLTrackerStore, domain, db), store(CachingSQLTrackerStore, domain, db)
    rasa = store(SQLTrackerStore, domain, db)
    for n in range(1, 11):
        converse(a if n % 2 else b, "u1", range(n, n + 1))
        assert state(run((b if n % 2 else a).retrieve("u1"))) == state(run(rasa.retrieve("u1")))
    assert len(run(rasa.retrieve("u1")).events) == 2 + 10 * 5


def test_a_wal_file_commits_without_fsync_and_other_files_keep_full_sync(domain, tmp_path):
    wal, plain = tmp_path / "wal.db", tmp_path / "plain.db"
    with sqlite3.connect(wal) as conn:  # what scripts/stack.py does before Rasa starts
        conn.execute("PRAGMA journal_mode=WAL")
    for path, expected in ((wal, 1), (plain, 2)):  # 1 = NORMAL, 2 = FULL
        cached = store(CachingSQLTrackerStore, domain, path)
        converse(cached, "u1", range(1, 3))
        with cached.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == expected
        # What was committed is in the file for any other reader, this store's connection still open.
        assert state(run(store(SQLTrackerStore, domain, path).retrieve("u1"))) == state(run(cached.retrieve("u1")))
