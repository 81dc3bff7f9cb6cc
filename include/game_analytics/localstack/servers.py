"""Start, health-check and stop the processes of the local stack.

Each server runs in its own process group with its log in the state folder, so stopping the stack can kill
everything a server spawned (Airflow's executor workers, uvicorn workers) and nothing else.
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class StackError(RuntimeError):
    """A local server could not start; the message says which and why."""


def ensure_port_free(port: int, what: str, setting: str) -> None:
    """Fail early, naming the port and the variable that moves it, when something already listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise StackError(
                f"port {port} for {what} is already in use; stop whatever holds it "
                f"or choose another port with {setting}=<port>"
            ) from exc


def free_port() -> int:
    """A port nothing listens on now (for tests that run a private stack)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One long-running process of the stack."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None  # run as this user (when we are root: e.g. PostgreSQL, which refuses root)
    stop_signal: int = signal.SIGTERM  # what ``terminate`` sends the process group
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it open
        self.process = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
            start_new_session=True,  # own process group: Ctrl-C reaches the launcher, which stops us
            **({"user": self.user, "group": pwd.getpwnam(self.user).pw_gid, "extra_groups": []} if self.user else {}),
        )
        log.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_healthy(self, check: Callable[[], bool], timeout: float) -> None:
        """Poll ``check`` until it passes; fail naming the server and its log if it dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise StackError(f"{self.name} exited during start-up; see {self.log_path}\n{self.log_tail()}")
            try:
                if check():
                    return
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.25)
        raise StackError(f"{self.name} not healthy after {timeout:.0f} s; see {self.log_path}\n{self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def terminate(self) -> None:
        """Signal the whole process group (the server and whatever it started): SIGTERM or ``stop_signal``."""
        if self.process is not None:
            _signal_group(self.process.pid, self.stop_signal)

    def kill(self) -> None:
        """SIGKILL what is left of the process group and reap the leader."""
        if self.process is None:
            return
        _signal_group(self.process.pid, signal.SIGKILL)  # children of a dead leader may still run
        if self.process.poll() is None:
            self.process.wait(timeout=5)


def stop_all(servers: list[Server], grace: float = 10.0) -> None:
    """Stop servers together: SIGTERM them all, give them ``grace`` seconds in total, then SIGKILL the rest.

    One at a time, an Airflow scheduler waiting for its running tasks could use its whole grace period, and the
    next server its own: Ctrl-C then took over a minute. Together it takes at most ``grace`` plus the reaping.
    """
    for server in servers:
        server.terminate()
    deadline = time.monotonic() + grace
    for server in servers:
        if server.process is not None:
            try:
                server.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
    for server in servers:
        server.kill()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def http_ok(url: str, timeout: float = 2.0) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return 200 <= resp.status < 300
