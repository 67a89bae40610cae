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
