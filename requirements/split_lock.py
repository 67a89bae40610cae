"""Split one venv's `pip freeze` into its runtime lock and its test lock (used by `make lock`).

    python requirements/split_lock.py RUNTIME.in RUNTIME.lock TEST.lock < freeze.txt

A package goes to the runtime lock when RUNTIME.in needs it, directly or through its dependencies
(read from the installed packages' metadata); everything else frozen goes to the test lock, except
packages nothing in either .in needs: those stay in the runtime lock, as before the split, and are
named on stderr so they can be removed by hand. Each lock keeps the header comment it already has.
Runs with either venv's Python (only importlib.metadata and packaging, which pip needs anyway).
"""

import sys
from importlib.metadata import distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def read_requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def installed_requirements() -> dict[str, list[Requirement]]:
    return {canonicalize_name(d.metadata["Name"]): [Requirement(r) for r in d.requires or []] for d in distributions()}


def needed_by(roots: list[Requirement], installed: dict[str, list[Requirement]]) -> set[str]:
    """Names of the installed packages that `roots` pull in, honouring extras (pwdlib[argon2])."""
    extras_seen: dict[str, set[str]] = {}
    todo = [(canonicalize_name(r.name), set(r.extras)) for r in roots]
    while todo:
        name, extras = todo.pop()
        if name not in installed or (name in extras_seen and extras <= extras_seen[name]):
            continue
        extras_seen[name] = extras_seen.get(name, set()) | extras
        for req in installed[name]:
            active = req.marker is None or any(req.marker.evaluate({"extra": e}) for e in {""} | extras)
            if active:
                todo.append((canonicalize_name(req.name), set(req.extras)))
    return set(extras_seen)


def header(lock: Path) -> list[str]:
    if not lock.exists():
        return []
    return [line for line in lock.read_text(encoding="utf-8").splitlines() if line.startswith("#")]


def main(runtime_in: str, runtime_lock: str, test_lock: str) -> None:
    runtime_in_path = Path(runtime_in)
    test_in_path = runtime_in_path.with_name(runtime_in_path.stem + "-test.in")
    installed = installed_requirements()
    runtime_roots = read_requirements(runtime_in_path)
    runtime = needed_by(runtime_roots, installed)
    everything = needed_by(runtime_roots + read_requirements(test_in_path), installed)
    runtime_pins, test_pins, orphans = [], [], []
    for pin in (line.strip() for line in sys.stdin):
        if not pin or pin.startswith("#"):
            continue
        name = canonicalize_name(pin.split("==", 1)[0].split(" @ ", 1)[0])
        if name in runtime:
            runtime_pins.append(pin)
        elif name in everything:
            test_pins.append(pin)
        else:
            orphans.append(pin)
            runtime_pins.append(pin)
    for path, pins in ((Path(runtime_lock), runtime_pins), (Path(test_lock), test_pins)):
        path.write_text("\n".join(header(path) + pins) + "\n", encoding="utf-8")
    if orphans:
        print(
            f"[lock] needed by neither {runtime_in_path.name} nor {test_in_path.name} (kept in {runtime_lock}): "
            + " ".join(orphans),
            file=sys.stderr,
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
