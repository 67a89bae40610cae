"""Shared fixtures for bot/ tests: settings on a fresh database per test, and a client.

`client` runs the app's lifespan, so the database is created by the real Alembic migrations
(upgrade head), exactly as at start-up: a SQLite file `tmp_path / "bot.db"` by default, or a new
PostgreSQL database per test when TEST_POSTGRES_URL points at a server
(e.g. `TEST_POSTGRES_URL=postgresql://jzs@127.0.0.1:5433`; the database is dropped afterwards).
Rasa is not running: tests that need it pass their own transport to `create_app`.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings
from tests.dbutil import fresh_database

STAFF_TOKEN = "test-staff-token-for-unit-tests"


@pytest.fixture
def database_url(tmp_path):
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def app_settings(database_url) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        staff_token=STAFF_TOKEN,
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9",
    )


@pytest.fixture
def client(app_settings):
    with TestClient(create_app(app_settings)) as test_client:
        yield test_client


@pytest.fixture
def staff_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {STAFF_TOKEN}"}
