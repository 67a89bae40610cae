"""The process supervisor behind `make run`: refuses politely when the ports are taken."""
import socket

import pytest

from scripts import stack as stack_module
from scripts.stack import AlreadyRunning, Ports, Stack


@pytest.fixture
def busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_start_refuses_when_a_port_is_taken_and_starts_nothing(busy_port, tmp_path):
    stack = Stack(ports=Ports(bot=busy_port, rasa=stack_module.free_port(), actions=stack_module.free_port()),
                  var_dir=tmp_path)
    with pytest.raises(AlreadyRunning, match=f"already running on port.*bot={busy_port}"):
        stack.start()
    assert stack.processes == {}


def test_make_run_says_it_is_already_running_instead_of_a_port_error(busy_port, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["stack", "--bot-port", str(busy_port)])
    assert stack_module.main() == 1
    out = capsys.readouterr().out
    assert "already running" in out and "make run" in out


def test_a_busy_second_rasa_port_is_named(busy_port, tmp_path):
    ports = Ports(bot=stack_module.free_port(), rasa=stack_module.free_port(), actions=stack_module.free_port(),
                  rasa_more=(busy_port,))
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
