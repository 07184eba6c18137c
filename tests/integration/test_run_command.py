"""The README's run command brings up the whole stack: four /healthz answer 200, then it stops."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def ruta_local(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruta_local", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# The stack's ports before the offset (Kafka's controller included).
BASE_PORTS = (6066, 8001, 8002, 8003, 8004, 8005, 9092, 9093, 27017)


def free_offset() -> int:
    """An offset that puts every port of the stack on a free port below the kernel's
    ephemeral range (32768 and up), where outgoing connections could already hold it."""
    offsets = list(range(1_000, 5_700, 100))
    random.shuffle(offsets)
    for offset in offsets:
        if all(_bindable(port + offset) for port in BASE_PORTS):
            return offset
    pytest.fail("no free set of ports for a second stack")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_run_command_starts_every_part_and_stops_them(tmp_path: Path) -> None:
    # A second stack on shifted ports in its own folder: a developer's running stack is untouched.
    offset = free_offset()
    env = {**os.environ, "RUTA_LOCAL_DIR": str(tmp_path), "RUTA_LOCAL_PORT_OFFSET": str(offset)}
    try:
        up = ruta_local("up", env=env)
        assert up.returncode == 0, up.stderr + up.stdout
        for port in (8001, 8002, 8003, 8004, 8005):
            url = f"http://127.0.0.1:{port + offset}/healthz"
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
        assert f"127.0.0.1:{9092 + offset}" in up.stdout
        assert "analytics-consumer" in up.stdout
        again = ruta_local("up", env=env)
        assert again.returncode == 0
        assert again.stdout.count("already running") == 8
        status = ruta_local("status", env=env)
        assert status.returncode == 0, status.stdout
    finally:
        down = ruta_local("down", env=env)
    assert down.returncode == 0
    assert down.stdout.count("stopped") == 8
