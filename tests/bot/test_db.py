"""bot/db.py: the schema comes from the Alembic migrations, and SQLite runs with FKs and WAL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.db import Database, alembic_config, normalize_url, open_database
from bot.models import Base

CHANNEL_TABLES = {"feedback", "handoffs", "unanswered"}


def test_migrations_create_exactly_what_the_models_describe(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            tables = set(inspect(connection).get_table_names())
        assert {"enrollments", "leads", "alembic_version"} | CHANNEL_TABLES <= tables
    finally:
        db.close()


def test_upgrade_is_idempotent_and_creates_the_file_and_its_folder(tmp_path):
    path = tmp_path / "nested" / "var" / "bot.db"
    db = Database(f"sqlite:///{path}")
    try:
        db.migrate()
        db.migrate()  # a second start-up changes nothing
        assert path.exists()
        with db.engine.connect() as connection:
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head
    finally:
        db.close()


def test_sqlite_runs_with_foreign_keys_and_wal(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        with db.transaction(write=False) as session:
            assert session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        db.close()


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        try:
            with db.transaction() as session:
                session.connection().exec_driver_sql(
                    "INSERT INTO unanswered (question, created_at) VALUES ('有效期多久', CURRENT_TIMESTAMP)"
                )
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        with db.transaction(write=False) as session:
            assert session.connection().exec_driver_sql("SELECT COUNT(*) FROM unanswered").scalar() == 0
    finally:
        db.close()


def test_downgrade_removes_the_tables(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        config = alembic_config()
        with db.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            connection.commit()
            assert not ({"enrollments", "leads"} | CHANNEL_TABLES) & set(inspect(connection).get_table_names())
    finally:
        db.close()


def test_a_plain_postgresql_url_uses_the_installed_driver():
    url = normalize_url("postgresql://jzs:secret@db.example:5432/bot")
    assert url.get_backend_name() == "postgresql"
    assert url.get_driver_name() in ("psycopg2", "psycopg")
    __import__(url.get_driver_name())  # the driver the URL names can be imported here
    assert normalize_url("postgresql+psycopg2://x@h/db").get_driver_name() == "psycopg2"
    assert normalize_url("sqlite:///var/bot.db").get_backend_name() == "sqlite"
