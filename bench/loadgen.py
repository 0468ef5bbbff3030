"""A small closed-loop HTTP/1.1 load generator for loopback benchmarks.

The load generator shares the machine's CPU with the server, so it is kept cheap:
requests are pre-encoded bytes sent over raw keep-alive sockets and only the
status line and the framing headers of an answer are parsed (http.client and
httpx spend several times more CPU per request). Each of `concurrency` threads
sends its next request as soon as the previous answer arrived; only answers that
complete inside the measuring window (after a warm-up) are counted.
"""

import json
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

HOST = "127.0.0.1"
SOCKET_TIMEOUT_SECONDS = 30.0
RETRY_PAUSE_SECONDS = 0.01  # after a transport error, so a dead server is not hammered
MAX_REQUESTS_PER_RUN = 500_000  # a hard bound whatever the duration


class ProtocolError(OSError):
    """The server's answer could not be framed (or the connection closed mid-answer)."""


def encode_request(
    method: str, path: str, *, port: int, headers: dict[str, str] | None = None, body: object = None
) -> bytes:
    """One complete HTTP/1.1 request, encoded once so sending it costs no Python work."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Accept: application/json",
        "Connection: keep-alive",
        f"Content-Length: {len(payload)}",
    ]
    if body is not None:
        lines.append("Content-Type: application/json")
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class Connection:
    """One keep-alive connection to the server, reopened when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._sock: socket.socket | None = None
        self._buffer = b""

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._buffer = b""

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send a request and return (status, body).

        A reused connection the server already closed (keep-alive timeout) is
        reopened and the request sent once more, as every HTTP client does.
        """
        reused = self._sock is not None
        try:
            return self._exchange_once(request)
        except OSError:
            self.close()
            if not reused:
                raise
        return self._exchange_once(request)

    def _exchange_once(self, request: bytes) -> tuple[int, bytes]:
        if self._sock is None:
            self._sock = socket.create_connection((HOST, self.port), SOCKET_TIMEOUT_SECONDS)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.sendall(request)
        head = self._read_until(b"\r\n\r\n")
        status, headers = _parse_head(head)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self._read_exactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def _fill(self) -> None:
        assert self._sock is not None
        data = self._sock.recv(65536)
        if not data:
            raise ProtocolError("connection closed by the server")
        self._buffer += data

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            self._fill()
        found, self._buffer = self._buffer[:end], self._buffer[end + len(marker) :]
        return found

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        found, self._buffer = self._buffer[:size], self._buffer[size:]
        return found

    def _read_chunked(self) -> bytes:
        parts = []
        while size := int(self._read_until(b"\r\n").split(b";")[0], 16):
            parts.append(self._read_exactly(size))
            self._read_until(b"\r\n")
        self._read_until(b"\r\n")  # no trailers are expected: just the final CRLF
        return b"".join(parts)


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status code and lower-cased headers of a response head."""
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ProtocolError(f"bad status line: {status_line!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def request_once(port: int, request: bytes) -> tuple[int, dict]:
    """One request on a fresh connection, for set-up calls (register, login)."""
    connection = Connection(port)
    try:
        status, body = connection.exchange(request)
    finally:
        connection.close()
    return status, json.loads(body) if body else {}


@dataclass
class Tally:
    """What one thread (or, merged, one run) saw inside the measuring window."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    transport_errors: int = 0

    @property
    def successes(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        """Non-2xx answers plus requests that got no answer at all."""
        non_2xx = sum(n for status, n in self.statuses.items() if not 200 <= status < 300)
        return non_2xx + self.transport_errors

    def record(self, status: int | None, latency: float) -> None:
        """Count one answer (None: no answer); only 2xx latencies are kept."""
        if status is None:
            self.transport_errors += 1
            return
        self.statuses[status] += 1
        if 200 <= status < 300:
            self.latencies.append(latency)

    def merge(self, other: "Tally") -> None:
        self.latencies.extend(other.latencies)
        self.statuses.update(other.statuses)
        self.transport_errors += other.transport_errors


@dataclass(frozen=True)
class RunResult:
    """One timed run of one endpoint.

    `client_cpu` is the load generator's own CPU use over the whole run (warm-up
    included) in cores, to show how much of the shared machine it took.
    `window_cpu` is what `cpu_probe` measured over the measuring window only.
    """

    name: str
    concurrency: int
    duration: float
    tally: Tally
    client_cpu: float
    window_cpu: dict[str, float] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        """Successful answers per second of the measuring window."""
        return self.tally.successes / self.duration


class CpuProbe(NamedTuple):
    """How to read CPU use: `spent(snapshot_before, snapshot_after)` -> seconds by part."""

    snapshot: Callable[[], Any]
    spent: Callable[[Any, Any], dict[str, float]]


@dataclass(frozen=True)
class Window:
    """The measuring window on the perf_counter clock."""

    start: float
    end: float

    def holds(self, instant: float) -> bool:
        return self.start <= instant < self.end


def _drive(port: int, request: bytes, window: Window, max_requests: int, tally: Tally) -> None:
    """Send `request` back to back until the window closes, recording what completes in it."""
    connection = Connection(port)
    try:
        for _ in range(max_requests):
            started = time.perf_counter()
            if started >= window.end:
                break
            try:
                status, _ = connection.exchange(request)
            except OSError:
                status = None
            finished = time.perf_counter()
            if window.holds(finished):
                tally.record(status, finished - started)
            if status is None:
                time.sleep(RETRY_PAUSE_SECONDS)
    finally:
        connection.close()


def run_load(
    name: str,
    *,
    port: int,
    requests: Sequence[bytes],
    concurrency: int,
    warmup: float,
    duration: float,
    cpu_probe: CpuProbe | None = None,
) -> RunResult:
    """Closed-loop load at fixed concurrency; thread i sends requests[i % len(requests)].

    Warm-up and measurement are one continuous run, so the window opens on a
    server that is already busy (connections open, caches warm) and never idles.
    `cpu_probe` (a snapshot function and a difference function) is read when the
    window opens and when it closes.
    """
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    opens = wall_started + warmup
    window = Window(start=opens, end=opens + duration)
    per_thread_cap = max(1, MAX_REQUESTS_PER_RUN // concurrency)
    tallies = [Tally() for _ in range(concurrency)]
    threads = [
        threading.Thread(
            target=_drive,
            args=(port, requests[i % len(requests)], window, per_thread_cap, tallies[i]),
            daemon=True,
        )
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    window_cpu = _probe_window(cpu_probe, window) if cpu_probe else {}
    for thread in threads:
        thread.join(timeout=warmup + duration + SOCKET_TIMEOUT_SECONDS + 5)
    client_cpu = (time.process_time() - cpu_started) / (time.perf_counter() - wall_started)
    merged = Tally()
    for tally in tallies:
        merged.merge(tally)
    return RunResult(
        name=name,
        concurrency=concurrency,
        duration=duration,
        tally=merged,
        client_cpu=client_cpu,
        window_cpu=window_cpu,
    )


def _probe_window(probe: "CpuProbe", window: Window) -> dict[str, float]:
    time.sleep(max(0.0, window.start - time.perf_counter()))
    before = probe.snapshot()
    time.sleep(max(0.0, window.end - time.perf_counter()))
    return probe.spent(before, probe.snapshot())


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (NaN for no values): no interpolation between samples."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
