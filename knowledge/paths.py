"""Where the project's data lies: the repository root and the dictionary folder."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DICTIONARY_DIR = ROOT / "data" / "dictionary"
