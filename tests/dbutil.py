"""A fresh backend database for a test: a SQLite file by default, or a new PostgreSQL database
(dropped afterwards) when TEST_POSTGRES_URL points at a server, e.g. postgresql://jzs@127.0.0.1:5433."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.db import normalize_url


@contextmanager
def fresh_database(directory: Path):
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        yield f"sqlite:///{directory / 'bot.db'}"
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
