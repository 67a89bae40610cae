"""The backend database: engine, one transaction per request, and migrations.

`settings.database_url` picks the database: a SQLite file under var/ by default, PostgreSQL when
`DATABASE_URL=postgresql+psycopg2://...`. The schema is created and upgraded only by Alembic
(bot/migrations); `open_database` applies pending migrations, and bot/ calls it at start-up.

SQLite specifics: foreign keys on, WAL journal (readers never block the writer), a busy timeout,
and transactions that really begin with BEGIN (pysqlite otherwise defers it, which breaks
SAVEPOINTs and lets a read-then-write race). A write transaction takes the write lock up front
(BEGIN IMMEDIATE), so two requests that check-then-insert never deadlock on a lock upgrade.

Command line: `python -m bot.db upgrade` (or `current`, `history`), with the same settings.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalize_url(database_url: str):
    """`postgresql://...` means the driver that is installed: SQLAlchemy 2.1 would pick psycopg 3,
    the project ships psycopg2 (requirements/service.in)."""
    url = make_url(database_url)
    if url.drivername == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            url = url.set(drivername="postgresql+psycopg2")
    return url


def create_db_engine(database_url: str) -> Engine:
    url = normalize_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


class Database:
    """An engine plus sessions: `with db.transaction() as session:` commits or rolls back as a whole."""

    def __init__(self, database_url: str):
        self.url = database_url
        self.engine = create_db_engine(database_url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine
        if self.engine.dialect.name == "sqlite":
            writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = sessionmaker(writer, expire_on_commit=False)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        factory = self._write if write else self._read
        with factory.begin() as session:
            yield session

    def migrate(self) -> None:
        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        # '%' is Alembic's interpolation character; a password may contain it.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


# Any fixed number: the key of the PostgreSQL advisory lock that serialises migrations.
MIGRATION_LOCK_KEY = 7_203_114_021


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on `engine` (its SQLite settings included).

    On PostgreSQL, bot/ workers starting at the same moment take turns: each holds an advisory lock
    while it migrates, so the second one finds the schema at head instead of creating the same tables.
    (SQLite serialises writers on its file lock already.)
    """
    config = alembic_config()
    with engine.connect() as connection:
        locked = connection.dialect.name == "postgresql"
        if locked:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
        finally:
            if locked:
                connection.rollback()
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                connection.commit()


def open_database(database_url: str) -> Database:
    """Connect and bring the schema up to date. Called once at bot/ start-up."""
    db = Database(database_url)
    db.migrate()
    log.info("database ready (%s)", make_url(database_url).render_as_string(hide_password=True))
    return db


def main(argv: list[str] | None = None) -> int:
    from bot.settings import get_settings

    args = argv if argv is not None else sys.argv[1:]
    action = args[0] if args else "upgrade"
    url = get_settings().database_url
    if action == "upgrade":
        engine = create_db_engine(url)
        upgrade(engine, args[1] if len(args) > 1 else "head")
        engine.dispose()
    elif action in ("current", "history"):
        getattr(command, action)(alembic_config(url))
    else:
        print("usage: python -m bot.db [upgrade [revision] | current | history]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
