"""Fixtures for the knowledge tests: the session's index (built once) and an engine over it."""

from __future__ import annotations

import pytest

from tests.knowledge.index_builder import built_index


@pytest.fixture(scope="session")
def index_dir():
    return built_index()


@pytest.fixture(scope="session")
def engine(index_dir):
    from knowledge.engine import Engine

    return Engine.load(index_dir)
