"""Rasa's SQL tracker store without reading a whole conversation back on every message.

Rasa 3.6's `SQLTrackerStore.retrieve` loads every event of the conversation's session for each
message (ORM rows, `json.loads`, replay into a new tracker), and `save` counts them again to find
what is new: measured with `make bench-long`, a 40-turn conversation cost Rasa 14 ms more per
message at its end than at its start for this alone (py-spy), and more the longer it got.

`CachingSQLTrackerStore` (endpoints.yml: `type: rasa_runtime.tracker_store.CachingSQLTrackerStore`)
keeps the tracker each instance last saved, per conversation, and on the next message asks the
database only whether the conversation changed: `count(*)` and `max(id)` of its rows. Unchanged, the
saved tracker is handed out again; grown by another instance (several instances share the store),
only the new rows are read and applied; anything else (rows deleted by `make purge`, a new session,
a tracker changed in memory but not saved, another model's domain) is read in full as Rasa does.
What is stored, and what every instance reads, is exactly what Rasa's own store stores.

Each message asks its questions with one prepared statement, and the size after a save is worked out
from the rows it inserted rather than asked again. A SQLite file keeps one open connection (SQLAlchemy
1.4 opens and closes the file for every session otherwise, and the last close of a WAL database
checkpoints it), with `synchronous=NORMAL` when the file is in WAL mode (scripts/stack.py puts it
there): a commit then costs no fsync, and a crash of the process loses nothing; a power cut may
lose the last commits but never corrupts the file.

The cache holds at most `cache_size` conversations, each for at most `cache_seconds` after its last
use, so memory stays bounded however many people talk to the assistant.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerEventDiffEngine
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

log = logging.getLogger(__name__)


@dataclass
class _Saved:
    """A conversation as this instance last saved (or read) it."""

    tracker: DialogueStateTracker
    events: int  # len(tracker.events) when saved: more means changed in memory since
    rows: int  # the conversation's rows in the database then (every session)
    last_id: int  # and the highest row id
    domain: Any  # the domain its slots came from
    used: float  # monotonic time of the last use


class CachingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = 256, cache_seconds: float = 900.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = max(1, int(cache_size))
        self.cache_seconds = float(cache_seconds)
        self._saved: OrderedDict[str, _Saved] = OrderedDict()
        self._size_query = sa.select(sa.func.count(self.SQLEvent.id), sa.func.max(self.SQLEvent.id)).where(
            self.SQLEvent.sender_id == sa.bindparam("sender_id")
        )
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            self._keep_sqlite_connection_open()

    def _keep_sqlite_connection_open(self) -> None:
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=sa.pool.QueuePool, pool_size=1, max_overflow=2, connect_args={"check_same_thread": False}
        )
        sa.event.listen(self.engine, "connect", _sqlite_without_fsync_per_commit)
        self.sessionmaker = sessionmaker(bind=self.engine)

    # -- reading --------------------------------------------------------------------------------
    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the conversation's latest session, as SQLTrackerStore.retrieve returns it."""
        saved = self._fresh(sender_id)
        if saved is not None:
            with self.session_scope() as session:
                rows, last_id = self._size(session, sender_id)
                if (rows, last_id) == (saved.rows, saved.last_id):
                    return self._use(sender_id, saved)
                if last_id > saved.last_id and self._apply_new_rows(session, sender_id, saved, rows):
                    return self._use(sender_id, saved)
            self._saved.pop(sender_id, None)
        return self._load(sender_id)

    def _fresh(self, sender_id: str) -> _Saved | None:
        saved = self._saved.get(sender_id)
        if saved is None:
            return None
        if (
            saved.domain is not self.domain
            or len(saved.tracker.events) != saved.events
            or time.monotonic() - saved.used > self.cache_seconds
        ):
            del self._saved[sender_id]  # another model, changed without being saved, or idle too long
            return None
        return saved

    def _apply_new_rows(self, session, sender_id: str, saved: _Saved, rows: int) -> bool:
        """Apply the rows another instance added after ours; False when that is not all that changed."""
        new = (
            session.query(self.SQLEvent.id, self.SQLEvent.type_name, self.SQLEvent.data)
            .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id > saved.last_id)
            .order_by(self.SQLEvent.id)
            .all()
        )
        if saved.rows + len(new) != rows or any(type_name == SessionStarted.type_name for _, type_name, _ in new):
            return False  # rows deleted too, or a new session: read in full
        for event in deserialise_events([json.loads(data) for _, _, data in new]):
            saved.tracker.update(event)  # as DialogueStateTracker.from_dict replays them
        saved.events, saved.rows, saved.last_id = len(saved.tracker.events), rows, new[-1][0]
        return True

    def _load(self, sender_id: str) -> DialogueStateTracker | None:
        """Read the latest session in full, as SQLTrackerStore does, and remember it."""
        with self.session_scope() as session:
            rows, last_id = self._size(session, sender_id)
            data = (
                self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                .with_entities(self.SQLEvent.data)
                .all()
            )
        if not (self.domain and data):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(d) for (d,) in data], self.domain.slots)
        self._remember(sender_id, tracker, rows, last_id)
        return tracker

    def _size(self, session, sender_id: str) -> tuple[int, int]:
        rows, last_id = session.execute(self._size_query, {"sender_id": sender_id}).one()
        return int(rows or 0), int(last_id or 0)

    # -- writing --------------------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, as SQLTrackerStore.save does."""
        sender_id = tracker.sender_id
        if self.event_broker is not None:
            await self._stream_from_database(tracker)
        saved = self._saved.get(sender_id)
        with self.session_scope() as session:
            if (
                saved is not None
                and saved.tracker is tracker
                and self._size(session, sender_id) == (saved.rows, saved.last_id)
            ):
                new_events = list(itertools.islice(tracker.events, saved.events, None))
                before = (saved.rows, saved.last_id)
            else:  # not the tracker this instance handed out: find what is new the way Rasa does
                self._saved.pop(sender_id, None)
                new_events = list(self._additional_events(session, tracker))
                before = None
            added = [self._row(sender_id, event) for event in new_events]
            session.add_all(added)
            session.flush()  # gives the new rows their ids
            ids = [row.id for row in added]
            session.commit()
            if before is not None:
                rows, last_id = before[0] + len(ids), max([before[1], *ids])
            else:
                rows, last_id = self._size(session, sender_id)
        if any(
            isinstance(e, SessionStarted) or getattr(e, "action_name", None) == ACTION_SESSION_START_NAME
            for e in new_events
        ):
            # Read back from the database next time: the latest session then starts at this event,
            # while this tracker still holds the previous ones.
            self._saved.pop(sender_id, None)
        else:
            self._remember(sender_id, tracker, rows, last_id)

    def _row(self, sender_id: str, event) -> SQLTrackerStore.SQLEvent:
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    async def _stream_from_database(self, tracker: DialogueStateTracker) -> None:
        """What TrackerStore.stream_events does, with the old tracker read from the database (the
        remembered one may be this very tracker, which would make every event look old)."""
        old = await super().retrieve(tracker.sender_id)
        await self._stream_new_events(
            self.event_broker, TrackerEventDiffEngine.event_difference(old, tracker), tracker.sender_id
        )

    # -- the cache ------------------------------------------------------------------------------
    def _remember(self, sender_id: str, tracker: DialogueStateTracker, rows: int, last_id: int) -> None:
        self._saved[sender_id] = _Saved(tracker, len(tracker.events), rows, last_id, self.domain, time.monotonic())
        self._saved.move_to_end(sender_id)
        while len(self._saved) > self.cache_size:
            self._saved.popitem(last=False)

    def _use(self, sender_id: str, saved: _Saved) -> DialogueStateTracker:
        saved.used = time.monotonic()
        self._saved.move_to_end(sender_id)
        return saved.tracker


def _sqlite_without_fsync_per_commit(connection, _record) -> None:
    """synchronous=NORMAL on a WAL file (safe there: see the module's docstring); other modes keep FULL."""
    (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    if str(mode).lower() == "wal":
        connection.execute("PRAGMA synchronous=NORMAL")
