"""Fixtures for the bad-input tests: the real knowledge index (built once per session) and a fresh
database per module.

Nothing leaves the process: requests go through Starlette's TestClient (or schemathesis' ASGI
client), Rasa and WeChat's API are httpx.MockTransports (helpers.py). The database is a SQLite file
by default, or a new PostgreSQL database when TEST_POSTGRES_URL points at a server (as in
tests/bot): some inputs (a NUL character in text) only break on PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.dbutil import fresh_database


@pytest.fixture(scope="session")
def knowledge_index():
    """The real index, built once per test session (shared with tests/knowledge when run together)."""
    from tests.knowledge.index_builder import built_index

    return built_index()


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory):
    with fresh_database(tmp_path_factory.mktemp("badinput-db")) as url:
        yield url
