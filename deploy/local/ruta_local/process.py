"""A server process with its own folder (start, readiness, stop, kill) and port helpers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ruta_local.build import InfraError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


@dataclass
class Server:
    """A server process with its own folder: data/, a log file and a pid file."""

    name: str
    workdir: Path
    ready_timeout: float = 60.0
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def log_path(self) -> Path:
        """Where the server's output goes."""
        return self.workdir / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        """Where the running server's process id is kept."""
        return self.workdir / f"{self.name}.pid"

    def command(self) -> list[str]:
        """The command line that runs the server in the foreground."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Build or fetch what the server needs and write its configuration."""

    def ready(self) -> bool:
        """True when the server answers a real request."""
        raise NotImplementedError

    def ports(self) -> list[int]:
        """Ports the server listens on."""
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        """The process's environment (None: this one's)."""
        return None

    def pid(self) -> int | None:
        """The recorded process id, if that process still runs."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def start(self) -> bool:
        """Start unless already running; wait until ready. True when it was started now."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.pid() is not None:
            self.wait_ready()
            return False
        busy = [port for port in self.ports() if port_open(port)]
        if busy:
            msg = f"ruta-local: cannot start {self.name}: port(s) {busy} in use by another process"
            raise InfraError(msg)
        self.prepare()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.environment(),
            start_new_session=True,
        )
        log.close()
        self.pid_path.write_text(str(self.process.pid))
        self.wait_ready()
        return True

    def wait_ready(self) -> None:
        """Block until the server is ready, or fail with the end of its log."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.ready():
                return
            if self.pid() is None:
                msg = (
                    f"ruta-local: {self.name} exited during start; "
                    f"end of {self.log_path}:\n{self.log_tail()}"
                )
                raise InfraError(msg)
            time.sleep(0.25)
        msg = (
            f"ruta-local: {self.name} not ready after {self.ready_timeout:.0f}s; "
            f"end of {self.log_path}:\n{self.log_tail()}"
        )
        raise InfraError(msg)

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop the server (SIGTERM, then SIGKILL). True when one was running."""
        pid = self.pid()
        if pid is None:
            self.pid_path.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.1)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self._reap(wait=True)
        self.pid_path.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """Kill the server at once, as a crash would."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            self._reap(wait=True)
        self.pid_path.unlink(missing_ok=True)

    def _reap(self, wait: bool = False) -> None:
        if self.process is not None:
            if wait:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=10)
            else:
                self.process.poll()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
