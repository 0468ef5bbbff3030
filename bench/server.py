"""Run the service under a real gunicorn on a free loopback port, and always stop it."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx

ROOT = Path(__file__).resolve().parent.parent
HEALTH_PATH = "/api/v1/health/live"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15


class ServerFailed(RuntimeError):
    """gunicorn exited or did not answer its health check in time."""


def free_port() -> int:
    """A loopback port free right now (gunicorn binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(*, port: int, workers: int, threads: int) -> list[str]:
    """gunicorn serving `bench.wsgi`; threads > 1 selects the gthread worker (keep-alive)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        "60",
    ]


def _is_healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers of `master` (its child processes), from /proc."""
    children = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == master:
            children.append(int(pid))
    return sorted(children)


def _wait_healthy(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _is_healthy(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise ServerFailed(f"gunicorn did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM lets the master stop its workers; its own process group is killed if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


class Server(NamedTuple):
    port: int
    master: int


@contextmanager
def gunicorn(
    *, env: dict[str, str], workers: int, threads: int, log_path: Path
) -> Iterator[Server]:
    """Serve the benchmark app and yield its port and master pid; stopped on any exit."""
    port = free_port()
    command = gunicorn_command(port=port, workers=workers, threads=threads)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_healthy(process, port, log_path)
        yield Server(port, process.pid)
    finally:
        _stop(process)
