"""`python -m rasa_runtime run` passes RASA_TOKEN to Rasa's --auth-token, and refuses to serve without it."""

from __future__ import annotations

import pytest

from rasa_runtime.__main__ import with_auth_token


def test_run_gets_the_token_from_the_environment():
    argv = ["rasa_runtime", "run", "--enable-api", "--port", "5005"]
    assert with_auth_token(argv, {"RASA_TOKEN": "s3cret"}) == [*argv, "--auth-token=s3cret"]


def test_rasa_reads_a_token_that_starts_with_a_dash():
    # secrets.token_urlsafe starts one token in 64 with "-"; as a separate argument Rasa refused to start.
    from rasa.__main__ import create_argument_parser

    argv = with_auth_token(["rasa_runtime", "run", "--enable-api"], {"RASA_TOKEN": "-Xy_z9"})
    assert create_argument_parser().parse_args(argv[1:]).auth_token == "-Xy_z9"


def test_run_without_a_token_is_refused():
    with pytest.raises(SystemExit, match="RASA_TOKEN"):
        with_auth_token(["rasa_runtime", "run", "--enable-api"], {"RASA_TOKEN": " "})


@pytest.mark.parametrize(
    "argv",
    [
        ["rasa_runtime", "train", "--domain", "domain.yml"],
        ["rasa_runtime", "run", "actions"],
        ["rasa_runtime", "run", "--auth-token", "given"],
        ["rasa_runtime", "run", "--auth-token=given"],
    ],
)
def test_other_commands_and_an_explicit_token_are_left_alone(argv):
    assert with_auth_token(argv, {}) == argv
