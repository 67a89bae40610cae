"""Real PostgreSQL and Redis servers on 127.0.0.1 for the scale-out and fault tests.

Installed from Debian's packages by `make services`; each test session starts its own throw-away
instances on free ports under a temporary directory and stops them afterwards.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from scripts.stack import free_port


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def available() -> str | None:
    """None when both servers can be started here, else the reason."""
    if not _pg_bin("initdb") or not _pg_bin("pg_ctl"):
        return "PostgreSQL is not installed (make services)"
    if not shutil.which("redis-server"):
        return "Redis is not installed (make services)"
    return None


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: run it as the 'postgres' user the package creates.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


@contextmanager
def postgres():
    # Its own directory straight under /tmp: the 'postgres' user must be able to reach it.
    tmp = Path(tempfile.mkdtemp(prefix="jzs-pg-"))
    data = tmp / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(tmp, user.pw_uid, user.pw_gid)
        os.chown(data, user.pw_uid, user.pw_gid)
    port = free_port()
    subprocess.run(
        _as_postgres([_pg_bin("initdb"), "-D", str(data), "-U", "jzs", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{tmp}'\n"
            "fsync = off\nmax_connections = 200\n"
        )
    pg_ctl(data, "start")
    try:
        for db in ("bot", "rasa"):
            subprocess.run(
                _as_postgres([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "jzs", db]),
                check=True,
                capture_output=True,
            )
        yield f"postgresql://jzs@127.0.0.1:{port}", port, data
    finally:
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def pg_ctl(data: Path, action: str) -> None:
    """Stop or start a running test PostgreSQL (fault tests)."""
    args = {"stop": ["-m", "immediate", "stop"], "start": ["-w", "-l", str(data.parent / "pg.log"), "start"]}[action]
    subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(data)] + args), check=True, capture_output=True)


@contextmanager
def redis(tmp: Path):
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis did not start")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
