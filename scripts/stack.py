"""Start, watch and stop the assistant's processes: Rasa (one or more instances), the action server and bot/.

Used by `make run` (foreground, logs streamed with a prefix) and by the end-to-end tests
(`Stack` as a context manager on free ports, logs to files). Stopping is always complete: every
process is terminated, then killed if it does not exit in time, also when start-up fails.

A crash is not an outage: under `make run` (`Stack.supervise()`), a process that exits is started
again after a backoff (1 s, 2 s, 4 s, ... at most 30 s) while the others keep serving; bot/ answers
politely meanwhile and its /healthz names what is down. A process that crashes more than
`RestartPolicy.max_crashes` times within `window_seconds` is left down and reported loudly: a crash
loop restarted forever would hide the fault and take the CPU the others need.

Rasa runs as RASA_INSTANCES processes (default 2: one per core of the 2-core machines this is built
for). Each Rasa process spends most of a message on one core, so a second one nearly doubles what the
assistant can answer per second. They share the tracker store; bot/ sends a conversation's messages
one at a time, each to the least busy instance (bot/rasa_client.py), so Rasa's in-memory lock store
stays correct.

Rasa's HTTP API and its REST channel want a token (RASA_TOKEN; rasa_runtime passes it to
`--auth-token`): taken from the environment, or generated for this run outside production, and
given to Rasa and bot/ alike. bot/ counts as started when its /readyz says Rasa and the actions serve.

STAFF_TOKEN and ACTION_SERVER_TOKEN come from the environment or .env, as bot/ reads them, or are
generated for this run: bot/ itself has no default credential. `make run` says how to log in to the
staff console (a staff account: `make admin` creates the first admin). bot/ listens on BOT_HOST,
127.0.0.1 unless set.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin"
SERVICE_PYTHON = ROOT / ".venv" / "bin" / "python"
DEFAULT_RASA_INSTANCES = 2
# One Rasa process per core: TensorFlow's own thread pools in each would fight over the cores (make
# bench: 13.3 -> 10.7 ms of Rasa CPU per message with one thread each). Rasa servers only: with these
# set, Rasa's CLI imports TensorFlow even for `rasa run actions` (action server 118 -> 520 MB).
RASA_SERVER_ENV = {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}


def rasa_instances_from_env() -> int:
    value = os.environ.get("RASA_INSTANCES", "").strip()
    count = int(value) if value.isdigit() else DEFAULT_RASA_INSTANCES
    return max(1, min(count, 8))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@dataclass
class Ports:
    bot: int = 8000
    rasa: int = 5005
    actions: int = 5055
    rasa_more: tuple[int, ...] = ()  # ports of Rasa instances 2, 3, ...

    @classmethod
    def free(cls, rasa_instances: int | None = None) -> Ports:
        count = rasa_instances_from_env() if rasa_instances is None else rasa_instances
        return cls(free_port(), free_port(), free_port(), tuple(free_port() for _ in range(count - 1)))

    @property
    def rasa_ports(self) -> list[int]:
        return [self.rasa, *self.rasa_more]

    def named(self) -> dict[str, int]:
        """Each process's port, by process name."""
        rasa = {rasa_name(i): port for i, port in enumerate(self.rasa_ports)}
        return {"bot": self.bot, **rasa, "actions": self.actions}


def rasa_name(index: int) -> str:
    """Process names: "rasa" for the first instance, "rasa-2", "rasa-3", ... for the others."""
    return "rasa" if index == 0 else f"rasa-{index + 1}"


@dataclass
class Stack:
    ports: Ports = field(default_factory=Ports)
    var_dir: Path = ROOT / "var"
    model_dir: Path = ROOT / "models"
    endpoints: Path = ROOT / "endpoints.yml"
    bot_host: str = "127.0.0.1"
    env: dict[str, str] = field(default_factory=dict)  # extra environment (DATABASE_URL, ...)
    log_to_files: bool = True  # False: stream to this terminal with a prefix
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _supervisor: Supervisor | None = field(default=None, repr=False)
    _generated_token: str = field(default="", repr=False)
    _generated: dict[str, str] = field(default_factory=dict, repr=False)  # secrets made for this run

    # -- configuration -------------------------------------------------------------------------
    @property
    def bot_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.bot}"

    @property
    def rasa_url(self) -> str:
        """The first Rasa instance."""
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports.rasa_ports]

    @property
    def rasa_names(self) -> list[str]:
        return [rasa_name(i) for i in range(len(self.ports.rasa_ports))]

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.actions}"

    @property
    def rasa_token(self) -> str:
        """The token of Rasa's API for this stack: RASA_TOKEN, or one generated once per Stack
        (restarts keep it) outside production; StartupFailed in production without one."""
        env = {**os.environ, **self.env}
        token = env.get("RASA_TOKEN", "").strip()
        if token:
            return token
        if env.get("ENVIRONMENT", "development") not in ("development", "test"):
            raise StartupFailed("RASA_TOKEN must be set outside development (it guards Rasa's API)")
        if not self._generated_token:
            self._generated_token = secrets.token_urlsafe(32)
        return self._generated_token

    def secret(self, name: str) -> str:
        """NAME from this stack's env, the environment or .env (what bot/ would read), else a random
        value generated once per Stack (restarts keep it)."""
        value = (self.env.get(name) or os.environ.get(name) or dotenv_value(name)).strip()
        return value or self._generated.setdefault(name, secrets.token_urlsafe(32))

    @property
    def staff_token(self) -> str:
        return self.secret("STAFF_TOKEN")

    @property
    def action_server_token(self) -> str:
        return self.secret("ACTION_SERVER_TOKEN")

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        (self.var_dir / "rasa").mkdir(parents=True, exist_ok=True)
        env.setdefault("TRACKER_DIALECT", "sqlite")
        env.setdefault("TRACKER_DB_URL", f"sqlite:///{self.var_dir / 'rasa' / 'tracker.db'}")
        env.setdefault("DATABASE_URL", f"sqlite:///{self.var_dir / 'bot.db'}")
        env.update(self.env)
        env.update(
            RASA_TOKEN=self.rasa_token,
            ACTION_ENDPOINT_URL=f"{self.actions_url}/webhook",
            BOT_API_URL=self.bot_url,
            RASA_URL=",".join(self.rasa_urls),
            ACTION_SERVER_URL=self.actions_url,
            BOT_HOST=self.bot_host,
            # The same secrets for bot/ and the action server (which does not read .env).
            STAFF_TOKEN=self.staff_token,
            ACTION_SERVER_TOKEN=self.action_server_token,
            BOT_PORT=str(self.ports.bot),
            # rasa-sdk reads its listen address from SANIC_HOST; keep the action server private.
            SANIC_HOST="127.0.0.1",
            PYTHONUNBUFFERED="1",
            # Rasa's telemetry would try to reach the internet; this machine has no route out.
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        return env

    def _commands(self) -> dict[str, list[str]]:
        # `rasa run` with the measured speed-ups of rasa_runtime/speedups.py applied first; it adds
        # `--auth-token` from RASA_TOKEN itself, so the token is not in the command line.
        rasa = {
            name: [
                str(RASA_BIN / "python"),
                "-m",
                "rasa_runtime",
                "run",
                "--enable-api",
                "-i",
                "127.0.0.1",
                "--port",
                str(port),
                "--model",
                str(self.model_dir),
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                str(ROOT / "credentials.yml"),
            ]
            for name, port in zip(self.rasa_names, self.ports.rasa_ports)
        }
        return {
            "actions": [
                str(RASA_BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(self.ports.actions),
            ],
            **rasa,
            "bot": [str(SERVICE_PYTHON), "-m", "bot"],
        }

    def _health_checks(self) -> dict[str, str]:
        # Rasa's /status needs the token and answers 200 once the model is loaded.
        rasa = {name: f"{url}/status?token={self.rasa_token}" for name, url in zip(self.rasa_names, self.rasa_urls)}
        return {"actions": f"{self.actions_url}/health", **rasa, "bot": f"{self.bot_url}/readyz"}

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, timeout: float = 180.0) -> None:
        start_together([self], timeout)

    def launch(self) -> None:
        """Spawn every process without waiting for them to serve (start() and start_together() wait);
        AlreadyRunning, and nothing spawned, when one of the ports is taken."""
        busy = [name for name, port in self.ports.named().items() if port_in_use(port)]
        if busy:
            raise AlreadyRunning(busy, self.ports)
        env = self._environment()
        _share_sqlite_tracker_store(env["TRACKER_DB_URL"])
        log_dir = self.var_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        for name, command in self._commands().items():
            self.processes[name] = self._spawn(name, command, env, log_dir)

    def _spawn(self, name: str, command: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen:
        if name in self.rasa_names:
            env = {**RASA_SERVER_ENV, **env}
        if self.log_to_files:
            out = open(log_dir / f"{name}.log", "ab")
            return subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        threading.Thread(target=_stream, args=(name, proc), daemon=True).start()
        return proc

    def wait_healthy(self, timeout: float) -> None:
        pending = self._health_checks()
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        while pending:
            for name in list(pending):
                proc = self.processes.get(name)
                if proc is not None and proc.poll() is not None:
                    raise StartupFailed(
                        f"{name} exited with code {proc.returncode}; see {self.var_dir / 'logs' / (name + '.log')}"
                    )
                try:
                    if httpx.get(pending[name], timeout=1.0).is_success:
                        del pending[name]
                        print(f"[stack] {name} is up ({time.monotonic() - started:.1f}s)", flush=True)
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                raise StartupFailed(f"not healthy after {timeout:.0f}s: {', '.join(pending)}")
            if pending:
                time.sleep(0.5)

    def respawn(self, name: str) -> None:
        """Start this process again without waiting for it (the supervisor watches its health)."""
        old = self.processes.get(name)
        if old is not None:
            _signal_group(old, signal.SIGKILL)  # what is left of its process group must not hold the port
        log_dir = self.var_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.processes[name] = self._spawn(name, self._commands()[name], self._environment(), log_dir)

    def supervise(self, policy: RestartPolicy | None = None, say=None) -> Supervisor:
        """Restart crashed processes from now on, in a background thread, until stop()."""
        if self._supervisor is None:
            self._supervisor = Supervisor(self, policy or RestartPolicy(), say=say or _say)
            self._supervisor.start()
        return self._supervisor

    def stop(self, grace: float = 15.0) -> None:
        if self._supervisor is not None:  # first, so that nothing stopped here is started again
            self._supervisor.stop()
            self._supervisor = None
        for proc in self.processes.values():
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=5)
        self.processes.clear()

    def restart(self, *names: str, timeout: float = 120.0) -> None:
        """Stop these processes and start them again (fault tests)."""
        for name in names:
            proc = self.processes.pop(name)
            _signal_group(proc, signal.SIGTERM)
            proc.wait(timeout=20)
        for name in names:
            self.processes[name] = self._spawn(name, self._commands()[name], self._environment(), self.var_dir / "logs")
        self.wait_healthy(timeout)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass(frozen=True)
class RestartPolicy:
    """When a crashed process is started again: after first_delay, doubled with each crash within the
    window, at most max_delay; after more than max_crashes crashes within window_seconds, never."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    max_crashes: int = 5
    window_seconds: float = 300.0

    def delay(self, crashes_in_window: int) -> float | None:
        """Seconds to wait before the restart after this many crashes in the window; None: give up."""
        if crashes_in_window > self.max_crashes:
            return None
        return min(self.max_delay, self.first_delay * 2 ** max(0, crashes_in_window - 1))


class Supervisor:
    """Watches a Stack's processes: a process that exited is restarted after the policy's backoff,
    the others untouched; one that keeps crashing is left down and reported. check() is one pass
    (tests call it directly); start() runs it every half second in a daemon thread."""

    def __init__(self, stack: Stack, policy: RestartPolicy, say=None, interval: float = 0.5):
        self.stack = stack
        self.policy = policy
        self.say = say or _say
        self.interval = interval
        self.crashes: dict[str, list[float]] = {}  # name -> monotonic times of its crashes in the window
        self.restart_at: dict[str, float] = {}  # name -> when its restart is due
        self.recovering: dict[str, float] = {}  # restarted, health check not passed yet -> since when
        self.restarts: dict[str, int] = {}
        self.given_up: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def down(self) -> list[str]:
        """Processes not serving now: waiting for a restart, restarting, or given up."""
        return sorted({*self.restart_at, *self.recovering, *self.given_up})

    def check(self, now: float | None = None) -> None:
        with self._lock:
            now = time.monotonic() if now is None else now
            for name, proc in list(self.stack.processes.items()):
                if name in self.restart_at or name in self.given_up:
                    continue
                code = proc.poll()
                if code is not None:
                    self._crashed(name, code, now)
            for name, due in list(self.restart_at.items()):
                if now >= due:
                    del self.restart_at[name]
                    self.stack.respawn(name)
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self.recovering[name] = now
            self._watch_recovery()

    def _crashed(self, name: str, code: int, now: float) -> None:
        self.recovering.pop(name, None)
        window = self.policy.window_seconds
        times = [t for t in self.crashes.get(name, []) if now - t < window] + [now]
        self.crashes[name] = times
        delay = self.policy.delay(len(times))
        log = self.stack.var_dir / "logs" / f"{name}.log" if self.stack.log_to_files else "its lines above"
        how = f"was ended by signal {-code}" if code < 0 else f"exited with code {code}"
        if delay is None:
            self.given_up.add(name)
            _signal_group(self.stack.processes[name], signal.SIGKILL)
            self.say(
                f"[stack] ERROR: {name} crashed {len(times)} times within {window:g} s (last time it {how}); "
                f"it is NOT restarted again. The other processes keep serving; see {log}, fix the cause "
                "and restart make run."
            )
            return
        self.restart_at[name] = now + delay
        self.say(
            f"[stack] {name} {how} (crash {len(times)} of at most {self.policy.max_crashes} within "
            f"{window:g} s); restarting it in {delay:g} s, the others keep serving. See {log}."
        )

    def _watch_recovery(self) -> None:
        checks = self.stack._health_checks()
        for name, since in list(self.recovering.items()):
            url = checks.get(name)
            try:  # a process without a health check serves while it runs
                healthy = httpx.get(url, timeout=0.5).is_success if url else self.stack.processes[name].poll() is None
            except httpx.HTTPError:
                healthy = False
            if healthy:
                del self.recovering[name]
                self.say(f"[stack] {name} is serving again ({time.monotonic() - since:.1f} s after its restart).")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stack-supervisor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # a failed pass must not end the supervision
                self.say(f"[stack] supervisor: {exc.__class__.__name__}: {exc}")

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:  # a pass under way has finished: nothing is restarted after this
            pass


def start_together(stacks: list[Stack], timeout: float = 180.0) -> None:
    """Start these stacks side by side and wait until every process of each serves: their Rasa
    instances load their models at the same time instead of one stack after the other (the
    scale-out test's two stacks). When one fails to start, all of them are stopped."""
    try:
        for stack in stacks:
            stack.launch()
        deadline = time.monotonic() + timeout
        for stack in stacks:
            stack.wait_healthy(max(1.0, deadline - time.monotonic()))
    except BaseException:
        for stack in stacks:
            stack.stop()
        raise


def _say(line: str) -> None:
    print(line, flush=True)


class AlreadyRunning(RuntimeError):
    def __init__(self, busy: list[str], ports: Ports):
        super().__init__(
            "the assistant (or another program) is already running on port(s) "
            + ", ".join(f"{name}={ports.named()[name]}" for name in busy)
        )


class StartupFailed(RuntimeError):
    pass


def dotenv_value(name: str) -> str:
    """NAME as written in the project's .env (bot/ reads that file too), or ""."""
    path = ROOT / ".env"
    if not path.is_file():
        return ""
    from dotenv import dotenv_values  # python-dotenv comes with pydantic-settings

    return dotenv_values(path).get(name) or ""


def staff_console_note(stack: Stack) -> str:
    """How to get into the staff console, for `make run`'s start-up message: accounts, not the token."""
    token = (
        "an integration STAFF_TOKEN was generated for this run"
        if "STAFF_TOKEN" in stack._generated
        else "STAFF_TOKEN from the environment or .env is for integrations"
    )
    return (
        "log in with your staff account; none yet? `make admin` (in another terminal) creates the first admin "
        f"and prints its one-time password ({token}; the console takes accounts only)"
    )


def _share_sqlite_tracker_store(url: str) -> None:
    """Put a SQLite tracker store in WAL mode before several Rasa instances open it: their reads then
    never wait for another instance's write. The mode is stored in the file; PostgreSQL needs nothing."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix:
        return
    path = Path(url[len(prefix) :])
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stream(name: str, proc: subprocess.Popen) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        sys.stdout.write(f"{name:>7} | {raw.decode('utf-8', 'replace')}")
        sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the assistant: Rasa, action server and bot/.")
    parser.add_argument("--bot-port", type=int, default=int(os.environ.get("BOT_PORT", 8000)))
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument(
        "--rasa-instances",
        type=int,
        default=rasa_instances_from_env(),
        help="Rasa processes, on the Rasa port and the ports after it (default: RASA_INSTANCES or 2)",
    )
    parser.add_argument(
        "--var-dir",
        type=Path,
        default=ROOT / "var",
        help="databases and logs (default: var/; the crash test uses its own)",
    )
    args = parser.parse_args()
    more = tuple(args.rasa_port + i for i in range(1, max(1, args.rasa_instances)))
    stack = Stack(
        ports=Ports(args.bot_port, args.rasa_port, args.actions_port, more),
        log_to_files=False,
        var_dir=args.var_dir,
        bot_host=(os.environ.get("BOT_HOST") or dotenv_value("BOT_HOST") or "127.0.0.1").strip(),
    )

    stopping = threading.Event()

    def _on_signal(signum, frame):
        stopping.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(
        f"[stack] starting the action server, {len(stack.rasa_names)} Rasa instance(s) and bot/ "
        "(Rasa takes 30-60 s to load its model) ...",
        flush=True,
    )
    try:
        stack.start()
    except AlreadyRunning as exc:
        print(
            f"[stack] {exc}. Stop it first (Ctrl-C in its terminal), or choose other ports, "
            "e.g. BOT_PORT=8001 RASA_PORT=5105 ACTIONS_PORT=5155 make run",
            flush=True,
        )
        return 1
    except StartupFailed as exc:
        print(f"[stack] start-up failed: {exc}", flush=True)
        return 1
    print(
        f"\n[stack] ready: open http://localhost:{args.bot_port}/ to chat "
        f"(API docs: http://localhost:{args.bot_port}/docs). Ctrl-C stops everything.",
        flush=True,
    )
    print(f"[stack] staff console http://localhost:{args.bot_port}/staff: {staff_console_note(stack)}\n", flush=True)
    supervisor = stack.supervise()
    code = 0
    try:
        while not stopping.is_set():
            if "bot" in supervisor.given_up:
                # bot/ is the only way in: without it nothing is served, so say so and let whoever
                # runs make run (or systemd) see the failure.
                print("[stack] bot/ keeps crashing, so nothing can be served; stopping.", flush=True)
                code = 1
                break
            stopping.wait(1.0)
    finally:
        print("[stack] stopping ...", flush=True)
        stack.stop()
        print("[stack] stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
