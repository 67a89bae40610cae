"""Where a message's CPU time goes, for `make bench --profile`: py-spy samples each process during the
load phase, and each sample is charged to the first part of the message path its stack is in.

The process's CPU milliseconds per message (from the bench's own CPU accounting) are then split in
the proportions of its samples, so the parts add up to what the process costs per message. py-spy
cannot always tell a waiting thread from a running one, so samples that end in a wait (an idle
thread-pool worker, a timer thread, the event loop's select) are left out of the proportions.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# (part, frames that put a sample there): the first frame of a stack, from the outermost, that
# matches decides. Frames are py-spy's "function (file:line)".
RASA_PARTS = [
    ("NLU (jieba, featurizers, DIET, request guard)", ("parse_message (rasa/core/processor.py",)),
    ("tracker store", ("get_or_create_tracker (", "fetch_tracker_and_update_session (", "save_tracker (")),
    ("dialogue policies", ("_predict_next_with_tracker (rasa/core/processor.py",)),
    ("custom actions and forms (calls to the action server)", ("_run_action (rasa/core/processor.py",)),
]
BOT_PARTS = [
    ("Rasa client (httpx)", ("RasaClient.send (",)),
    ("knowledge engine", ("Engine.answer (",)),
    ("database (SQLAlchemy)", ("sqlalchemy/",)),
]
ACTIONS_PARTS = [
    ("calls to bot/ (aiohttp)", ("AsyncBotApi.",)),
    ("the actions' own code", ("actions/",)),
]
REST = "HTTP server, JSON, event loop, other"
# Innermost frames of a thread that is waiting, not working: (function name ends with, file ends with).
WAITING = (
    ("wait", "threading.py"),
    ("get", "queue.py"),
    ("select", "selectors.py"),
    ("serve", "sanic/server/runners.py"),
)


def waiting(stack: list[str]) -> bool:
    function, _, where = stack[-1].partition(" (")
    file = where.rsplit(":", 1)[0]
    return any(function.endswith(name) and file.endswith(path) for name, path in WAITING)


def parts_for(process: str) -> list[tuple[str, tuple[str, ...]]]:
    if process.startswith("rasa"):
        return RASA_PARTS
    return {"bot": BOT_PARTS, "actions": ACTIONS_PARTS}.get(process, [])


def charge(stack: list[str], parts: list[tuple[str, tuple[str, ...]]]) -> str:
    """The part a sampled stack (outermost frame first) belongs to."""
    for frame in stack:
        for part, needles in parts:
            if any(needle in frame for needle in needles):
                return part
    return REST


def shares(collapsed: str, parts: list[tuple[str, tuple[str, ...]]]) -> Counter:
    """Samples per part from py-spy's raw (collapsed) output: 'frame;frame;... count' per line."""
    counted: Counter = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if stack and count.isdigit() and not waiting(frames):
            counted[charge(frames, parts)] += int(count)
    return counted


def split_ms(counted: Counter, cpu_ms: float) -> dict[str, float]:
    total = sum(counted.values())
    return {part: cpu_ms * n / total for part, n in counted.most_common()} if total else {}


def py_spy() -> str | None:
    """py-spy from the venv the bench runs in (service-test.lock), else from PATH."""
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


@dataclass
class Sampler:
    """py-spy attached to each process for a fixed time, in the background."""

    pids: dict[str, int]
    seconds: float
    out_dir: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self) -> str | None:
        """None when sampling started, else why it could not."""
        binary = py_spy()
        if binary is None:
            return "py-spy is not installed (make setup installs it from requirements/service-test.lock)"
        for name, pid in self.pids.items():
            self.running[name] = subprocess.Popen(
                [binary, "record", "--pid", str(pid), "--duration", str(max(1, int(self.seconds))), "--rate", "200"]
                + ["--format", "raw", "--nonblocking", "--output", str(self.out_dir / f"profile-{name}.txt")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        return None

    def finish(self, cpu_ms_per_message: dict[str, float]) -> dict[str, dict[str, float] | str]:
        """Per process: the part -> CPU ms per message split, or the reason py-spy gave none."""
        result: dict[str, dict[str, float] | str] = {}
        for name, proc in self.running.items():
            try:
                _, err = proc.communicate(timeout=self.seconds + 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                result[name] = "py-spy did not finish"
                continue
            path = self.out_dir / f"profile-{name}.txt"
            if proc.returncode != 0 or not path.exists():
                # Attaching needs ptrace rights: root, or kernel.yama.ptrace_scope = 0.
                lines = (err or "").strip().splitlines()
                result[name] = lines[-1] if lines else f"py-spy exited with {proc.returncode}"
                continue
            counted = shares(path.read_text(encoding="utf-8"), parts_for(name))
            result[name] = split_ms(counted, cpu_ms_per_message.get(name, 0.0))
        return result
