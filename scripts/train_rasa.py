"""`make train`'s Rasa training step with its progress shown: `python -m scripts.train_rasa -- <rasa train args>`.

Runs `python -m rasa_runtime train <args>` in the Rasa runtime with its full log going to
var/logs/train-rasa.log, and reads that log as it comes: on a terminal, a bar of the training
epochs of the components that have them (DIET, TED: their `epochs` in config.yml) named after the
component being trained; without a terminal (CI), one line per component trained. On failure the
end of the log is printed, and the exit code is Rasa's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import yaml

from scripts.progress import bar, interactive
from scripts.stack import RASA_BIN, ROOT

STARTED = re.compile(r"Starting to train component '([^']+)'")
FINISHED = re.compile(r"(?:Finished training|Restored) component '([^']+)'(?: from cache)?")
EPOCH = re.compile(r"Epochs:\s+\d+%\|.*?\|\s*(\d+)/(\d+)")
RASA_DEFAULT_EPOCHS = 300  # DIETClassifier's and TEDPolicy's default


@dataclass
class Event:
    kind: str  # "started", "finished", "epoch"
    component: str = ""
    epoch: int = 0
    epochs: int = 0


def parse(chunk: str) -> Event | None:
    """What one line (or one redraw of a tqdm bar) of Rasa's training output says, if anything."""
    if m := STARTED.search(chunk):
        return Event("started", m.group(1))
    if m := FINISHED.search(chunk):
        return Event("finished", m.group(1))
    if m := EPOCH.search(chunk):
        return Event("epoch", epoch=int(m.group(1)), epochs=int(m.group(2)))
    return None


def configured_epochs(config: Path) -> int:
    """Epochs of every component of config.yml that trains in epochs (the long part of training)."""
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    total = 0
    for item in [*(data.get("pipeline") or []), *(data.get("policies") or [])]:
        if item.get("name") in ("DIETClassifier", "TEDPolicy", "ResponseSelector", "UnexpecTEDIntentPolicy"):
            total += int(item.get("epochs", RASA_DEFAULT_EPOCHS))
    return total


def chunks(stream):
    """Lines of a byte stream, also split at the carriage returns of tqdm's redraws."""
    pending = b""
    while True:
        data = stream.read1(4096) if hasattr(stream, "read1") else stream.read(4096)
        if not data:
            break
        pending += data
        *complete, pending = re.split(rb"[\r\n]", pending)
        for piece in complete:
            if piece.strip():
                yield piece.decode("utf-8", "replace")
    if pending.strip():
        yield pending.decode("utf-8", "replace")


def train(command: list[str], log_path: Path, total_epochs: int, say=print) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tail: deque[str] = deque(maxlen=40)
    started_at = time.monotonic()
    component_started = started_at
    done_epochs = 0  # epochs of the components finished so far
    with open(log_path, "w", encoding="utf-8") as log, bar(total_epochs or None, "Rasa", unit="epoch") as progress:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        current_epochs = 0
        for chunk in chunks(proc.stdout):
            log.write(chunk + "\n")
            tail.append(chunk)
            event = parse(chunk)
            if event is None:
                continue
            if event.kind == "started":
                component_started = time.monotonic()
                current_epochs = 0
                progress.set_description(f"Rasa: {event.component}")
            elif event.kind == "epoch":
                current_epochs = event.epoch
                if total_epochs:
                    progress.n = min(total_epochs, done_epochs + event.epoch)
                    progress.refresh()
            elif event.kind == "finished":
                done_epochs += current_epochs
                current_epochs = 0
                if not interactive():
                    say(f"[train] Rasa: {event.component} done ({time.monotonic() - component_started:.0f} s)")
        code = proc.wait()
    if code != 0:
        say(f"[train] Rasa training failed (exit code {code}); the end of {log_path}:")
        for line in tail:
            say("    " + line)
    else:
        say(f"[train] Rasa model trained in {time.monotonic() - started_at:.0f} s (log: {log_path})")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=ROOT / "var" / "logs" / "train-rasa.log")
    parser.add_argument("rasa_args", nargs=argparse.REMAINDER, help="arguments of `rasa train` (after --)")
    args = parser.parse_args(argv)
    rasa_args = [a for a in args.rasa_args if a != "--"]
    config = Path(rasa_args[rasa_args.index("--config") + 1]) if "--config" in rasa_args else ROOT / "config.yml"
    command = [str(RASA_BIN / "python"), "-m", "rasa_runtime", "train", *rasa_args]
    return train(command, args.log, configured_epochs(ROOT / config))


if __name__ == "__main__":
    sys.exit(main())
