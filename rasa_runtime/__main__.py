"""`python -m rasa_runtime run ...`: exactly `rasa run ...`, with the speed-ups applied first.

`run` (the server, not `run actions`) also gets `--auth-token` from RASA_TOKEN: the token guards
Rasa's HTTP API (and the REST channel, rasa_runtime/channels.py) and stays out of the command line
that every local user can read in `ps`. Without RASA_TOKEN the server is not started.
"""

import os
import sys

from rasa_runtime import speedups


def with_auth_token(argv: list[str], environ) -> list[str]:
    """argv for Rasa: `run` gets `--auth-token` from RASA_TOKEN; SystemExit if it is unset."""
    if (
        argv[1:2] != ["run"]
        or argv[2:3] == ["actions"]
        or any(a == "--auth-token" or a.startswith("--auth-token=") for a in argv)
    ):
        return argv
    token = environ.get("RASA_TOKEN", "").strip()
    if not token:
        raise SystemExit(
            "RASA_TOKEN is not set: Rasa's HTTP API would be open to anyone who can reach it. "
            "scripts/stack.py (make run) generates one; in production set it like any secret."
        )
    # One argument: a token that starts with "-" (token_urlsafe makes one in 64) is not read as an option.
    return [*argv, f"--auth-token={token}"]


def main() -> None:
    sys.argv = with_auth_token(sys.argv, os.environ)
    speedups.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
