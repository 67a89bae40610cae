"""The spelling lexicon bot/ reads course names with: the knowledge engine's own.

Course names in free text (bot/courses/catalogue.py) are normalised as the search normalises a
question, with the lexicon the engine built from the configured index (INDEX_DIR), so the process
holds one lexicon. Without a usable index, IndexUnavailable (bot/errors.py answers 503).
"""

from __future__ import annotations

from bot.settings import get_settings
from knowledge.lexicon import Lexicon


def search_lexicon() -> Lexicon:
    from knowledge.engine import shared_engine  # loads the index on first use

    return shared_engine(get_settings().index_dir).retriever.lexicon
