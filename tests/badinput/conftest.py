"""Fixtures for the bad-input tests: the real knowledge index (built once per session) and a fresh
database per module.

Nothing leaves the process: requests go through Starlette's TestClient (or schemathesis' ASGI
client), Rasa and WeChat's API are httpx.MockTransports (helpers.py). The database is a SQLite file
by default, or a new PostgreSQL database when TEST_POSTGRES_URL points at a server (as in
tests/bot): some inputs (a NUL character in text) only break on PostgreSQL.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from bot.db import normalize_url


@pytest.fixture(scope="session")
def knowledge_index():
    """The real index, built once per test session (shared with tests/knowledge when run together)."""
    from tests.knowledge.index_builder import built_index

    return built_index()


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory):
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        yield f"sqlite:///{tmp_path_factory.mktemp('badinput-db') / 'bot.db'}"
        return
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(f"{server.rstrip('/')}/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rstrip('/')}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
