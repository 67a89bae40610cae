"""One knowledge index per test session, built from the real data into a temporary folder.

Both tests/knowledge and tests/bot/test_knowledge_api.py use it (always imported as
`tests.knowledge.index_builder`, so the cache below is shared and the build runs once).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

_lock = threading.Lock()
_built: dict[str, Path] = {}


def built_index() -> Path:
    """The parent folder (with `current`) of an index built from the project's data files."""
    with _lock:
        if "index" not in _built:
            from knowledge.build import Builder
            from knowledge.dense import PROJECT_MODEL

            out = Path(tempfile.mkdtemp(prefix="knowledge-index-"))
            atexit.register(shutil.rmtree, out, True)
            Builder(model=PROJECT_MODEL).build(out)
            _built["index"] = out
        return _built["index"]
