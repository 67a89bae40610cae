"""Progress bars of the long steps of `make train` and `make bench` (tqdm).

On a terminal a bar redraws at most twice a second; in CI (no terminal) there is no bar at all, so
the log holds only the lines the scripts print themselves at the end of each step.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


def interactive() -> bool:
    return sys.stderr.isatty()


def bar(total: int | None, desc: str, unit: str = "msg") -> tqdm:
    """A bar on stderr, disabled when stderr is not a terminal."""
    return tqdm(
        total=total, desc=desc, unit=unit, disable=not interactive(), mininterval=0.5, leave=False, dynamic_ncols=True
    )
