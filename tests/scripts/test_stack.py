"""The process supervisor behind `make run`: refuses politely when the ports are taken."""

import socket
import sys
import time

import pytest

from scripts import stack as stack_module
from scripts.stack import AlreadyRunning, Ports, RestartPolicy, Stack, Supervisor


@pytest.fixture
def busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_start_refuses_when_a_port_is_taken_and_starts_nothing(busy_port, tmp_path):
    stack = Stack(
        ports=Ports(bot=busy_port, rasa=stack_module.free_port(), actions=stack_module.free_port()), var_dir=tmp_path
    )
    with pytest.raises(AlreadyRunning, match=f"already running on port.*bot={busy_port}"):
        stack.start()
    assert stack.processes == {}


def test_make_run_says_it_is_already_running_instead_of_a_port_error(busy_port, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["stack", "--bot-port", str(busy_port)])
    assert stack_module.main() == 1
    out = capsys.readouterr().out
    assert "already running" in out and "make run" in out


def test_a_busy_second_rasa_port_is_named(busy_port, tmp_path):
    ports = Ports(
        bot=stack_module.free_port(),
        rasa=stack_module.free_port(),
        actions=stack_module.free_port(),
        rasa_more=(busy_port,),
    )
    with pytest.raises(AlreadyRunning, match=f"rasa-2={busy_port}"):
        Stack(ports=ports, var_dir=tmp_path).start()


def test_every_rasa_instance_runs_with_the_speedups_and_bot_knows_them_all(tmp_path):
    stack = Stack(ports=Ports.free(rasa_instances=3), var_dir=tmp_path)
    commands = stack._commands()
    assert stack.rasa_names == ["rasa", "rasa-2", "rasa-3"]
    assert len(set(stack.ports.rasa_ports)) == 3
    for name, port in zip(stack.rasa_names, stack.ports.rasa_ports):
        assert commands[name][1:4] == ["-m", "rasa_runtime", "run"]
        assert commands[name][commands[name].index("--port") + 1] == str(port)
    assert stack._environment()["RASA_URL"].split(",") == stack.rasa_urls
    assert set(stack._health_checks()) == {"actions", "bot", "rasa", "rasa-2", "rasa-3"}


def test_only_the_rasa_servers_run_tensorflow_single_threaded(tmp_path, monkeypatch):
    """One TensorFlow thread per pool in each Rasa server; the action server gets no TF settings,
    with which Rasa's CLI would load TensorFlow into it (400 MB more)."""
    envs = []
    monkeypatch.setattr(stack_module.subprocess, "Popen", lambda command, env, **_: envs.append(env))
    monkeypatch.delenv("TF_INTRA_OP_PARALLELISM_THREADS", raising=False)
    stack = Stack(ports=Ports.free(rasa_instances=2), var_dir=tmp_path, log_to_files=True)
    started = {}
    for name in ("actions", "rasa", "rasa-2", "bot"):
        stack._spawn(name, stack._commands()[name], stack._environment(), tmp_path)
        started[name] = envs[-1]
    for name in ("rasa", "rasa-2"):
        assert started[name]["TF_INTRA_OP_PARALLELISM_THREADS"] == "1"
    assert "TF_INTRA_OP_PARALLELISM_THREADS" not in started["actions"]


@pytest.mark.parametrize("value, expected", [("", 2), ("1", 1), ("4", 4), ("0", 1), ("many", 2), ("99", 8)])
def test_rasa_instances_come_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("RASA_INSTANCES", value)
    assert stack_module.rasa_instances_from_env() == expected
    assert len(Ports.free().rasa_ports) == expected


def test_the_shared_sqlite_tracker_store_is_in_wal_mode(tmp_path):
    import sqlite3

    path = tmp_path / "rasa" / "tracker.db"
    stack_module._share_sqlite_tracker_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    stack_module._share_sqlite_tracker_store("postgresql://jzs@127.0.0.1:5432/rasa")  # nothing to do, no error


def test_bot_and_the_action_server_share_secrets_generated_for_the_run(tmp_path, monkeypatch):
    """bot/ has no default credential: the stack gives bot/ and the action server the same random
    tokens (long enough for bot/'s settings), unless the environment names them, and a loopback host."""
    from bot.settings import Settings

    for name in ("STAFF_TOKEN", "ACTION_SERVER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(stack_module, "dotenv_value", lambda name: "")
    env = Stack(ports=Ports.free(), var_dir=tmp_path)._environment()
    Settings(_env_file=None, staff_token=env["STAFF_TOKEN"], action_server_token=env["ACTION_SERVER_TOKEN"])
    assert env["BOT_HOST"] == "127.0.0.1"
    other = Stack(ports=Ports.free(), var_dir=tmp_path)._environment()
    assert other["STAFF_TOKEN"] != env["STAFF_TOKEN"] and other["ACTION_SERVER_TOKEN"] != env["ACTION_SERVER_TOKEN"]

    chosen = "a-staff-token-the-operator-chose"
    monkeypatch.setenv("STAFF_TOKEN", chosen)
    assert Stack(ports=Ports.free(), var_dir=tmp_path)._environment()["STAFF_TOKEN"] == chosen


# -- the supervisor of `make run`: a crash is not an outage ---------------------------------------


def test_restarts_back_off_and_stop_after_too_many_crashes():
    policy = RestartPolicy(first_delay=1, max_delay=10, max_crashes=5, window_seconds=300)
    assert [policy.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, None]


class FakeStack(Stack):
    """Two stand-in processes: one that serves until killed, one that exits at once (a crash loop)."""

    def _commands(self):
        return {
            "steady": [sys.executable, "-c", "import time; time.sleep(120)"],
            "flaky": [sys.executable, "-c", "import sys; sys.exit(3)"],
        }

    def _health_checks(self):
        return {}


@pytest.fixture
def fake_stack(tmp_path):
    stack = FakeStack(ports=Ports.free(rasa_instances=1), var_dir=tmp_path)
    for name in stack._commands():
        stack.respawn(name)
    yield stack
    stack.stop(grace=2)


def supervise_until(supervisor: Supervisor, done, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        supervisor.check()
        time.sleep(0.02)
    assert done(), f"supervisor state: restarts {supervisor.restarts}, down {supervisor.down()}"


def test_a_crash_loop_is_reported_and_left_down_while_the_others_keep_running(fake_stack):
    said = []
    supervisor = Supervisor(
        fake_stack, RestartPolicy(first_delay=0.05, max_delay=0.2, max_crashes=3, window_seconds=60), say=said.append
    )
    steady_pid = fake_stack.processes["steady"].pid
    supervise_until(supervisor, lambda: "flaky" in supervisor.given_up)

    assert supervisor.restarts == {"flaky": 3}
    assert supervisor.down() == ["flaky"]
    assert fake_stack.processes["steady"].pid == steady_pid and fake_stack.processes["steady"].poll() is None
    assert [line for line in said if "restarting it in" in line] == [
        f"[stack] flaky exited with code 3 (crash {n} of at most 3 within 60 s); restarting it in {delay} s, "
        f"the others keep serving. See {fake_stack.var_dir / 'logs' / 'flaky.log'}."
        for n, delay in ((1, "0.05"), (2, "0.1"), (3, "0.2"))
    ]
    assert "ERROR: flaky crashed 4 times within 60 s" in said[-1] and "NOT restarted" in said[-1]
    for _ in range(20):  # and it stays down: no loop
        supervisor.check()
    assert supervisor.restarts == {"flaky": 3}


def test_a_killed_process_is_started_again_and_counts_as_serving(fake_stack):
    said = []
    supervisor = Supervisor(fake_stack, RestartPolicy(first_delay=0.05, max_crashes=3), say=said.append)
    fake_stack.processes["flaky"] = fake_stack._spawn(
        "flaky", fake_stack._commands()["steady"], {}, fake_stack.var_dir / "logs"
    )  # not flaky in this test
    old = fake_stack.processes["steady"]
    old.kill()
    supervise_until(supervisor, lambda: supervisor.restarts.get("steady") == 1 and not supervisor.down())

    new = fake_stack.processes["steady"]
    assert new.pid != old.pid and new.poll() is None
    assert said[0].startswith("[stack] steady was ended by signal 9 (crash 1 of at most 3")
    assert said[-1].startswith("[stack] steady is serving again")


def test_stopping_the_stack_stops_its_supervisor_first(fake_stack):
    supervisor = fake_stack.supervise(RestartPolicy(first_delay=0.01), say=lambda line: None)
    fake_stack.stop(grace=2)
    assert fake_stack.processes == {}
    time.sleep(0.2)
    assert fake_stack.processes == {}, "nothing is started again once the stack stopped"
    assert not supervisor._thread.is_alive()


class CrashingStack(FakeStack):
    """A stack whose "flaky" process must serve before the stack counts as started: it never does."""

    def _health_checks(self):
        return {"flaky": f"http://127.0.0.1:{self.ports.bot}/readyz"}


def test_stacks_started_together_are_all_stopped_when_one_fails_to_start(tmp_path):
    steady = FakeStack(ports=Ports.free(rasa_instances=1), var_dir=tmp_path / "a")
    failing = CrashingStack(ports=Ports.free(rasa_instances=1), var_dir=tmp_path / "b")
    with pytest.raises(stack_module.StartupFailed, match="flaky exited with code 3"):
        stack_module.start_together([steady, failing], timeout=30)
    assert steady.processes == {} and failing.processes == {}, "nothing is left running"
