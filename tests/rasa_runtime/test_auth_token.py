"""`python -m rasa_runtime run` passes RASA_TOKEN to Rasa's --auth-token, and refuses to serve without it."""
from __future__ import annotations

import pytest

from rasa_runtime.__main__ import with_auth_token


def test_run_gets_the_token_from_the_environment():
    argv = ["rasa_runtime", "run", "--enable-api", "--port", "5005"]
    assert with_auth_token(argv, {"RASA_TOKEN": "s3cret"}) == [*argv, "--auth-token", "s3cret"]


def test_run_without_a_token_is_refused():
    with pytest.raises(SystemExit, match="RASA_TOKEN"):
        with_auth_token(["rasa_runtime", "run", "--enable-api"], {"RASA_TOKEN": " "})


@pytest.mark.parametrize("argv", [["rasa_runtime", "train", "--domain", "domain"],
                                  ["rasa_runtime", "run", "actions"],
                                  ["rasa_runtime", "run", "--auth-token", "given"]])
def test_other_commands_and_an_explicit_token_are_left_alone(argv):
    assert with_auth_token(argv, {}) == argv
