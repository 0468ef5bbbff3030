"""Drive `wrk` (with bench/wrk.lua) and read its one JSON line.

wrk is a C load generator: it costs the shared CPU far less than any Python client,
and its latency histogram is exact. The Lua script rotates through the prepared
requests, counts non-2xx answers (wrk itself counts only 4xx/5xx, and a redirect to
a login page is a failure here) and prints the figures the report needs.
"""

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk.lua")
HOST = "127.0.0.1"
MARKER = "WRK_JSON "
TIMEOUT_SECONDS = 30


class WrkMissing(RuntimeError):
    """The wrk binary is not installed (Debian/Ubuntu: apt-get install wrk)."""


class WrkFailed(RuntimeError):
    """wrk exited with an error or printed no result line."""


@dataclass(frozen=True)
class Request:
    """One HTTP request; `chain` is the first value of "{{chain}}" in its body (WRK_CHAIN)."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    chain: str | None = None


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: counts, latency percentiles (ms) and, if probed, CPU seconds by part."""

    requests: int
    seconds: float
    non2xx: int
    first_bad_status: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    chain: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors

    @property
    def successes(self) -> int:
        return max(0, self.requests - self.non2xx)

    @property
    def throughput(self) -> float:
        """2xx answers per second."""
        return self.successes / self.seconds if self.seconds else 0.0

    def cpu_per_request_ms(self) -> dict[str, float]:
        """CPU milliseconds per 2xx answer by part, and their total (empty if unprobed)."""
        if not self.cpu or not self.successes:
            return {}
        parts = {part: seconds * 1000 / self.successes for part, seconds in self.cpu.items()}
        return {**parts, "total": sum(parts.values())}


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed (apt-get install wrk)")
    return path


def lua_value(value: object) -> str:
    """A Python str/int/bool/None/list/dict as a Lua literal (strings byte-escaped)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = "".join(
            chr(byte) if 32 <= byte < 127 and byte not in b'"\\' else f"\\{byte:03d}"
            for byte in value.encode()
        )
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_value(item) for item in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_value(k)}] = {lua_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def requests_file(requests: Sequence[Request]) -> str:
    """The Lua file WRK_REQUESTS names."""
    rows = [
        {
            "method": r.method,
            "path": r.path,
            "headers": {"Host": HOST, "Accept": "application/json", **r.headers},
            "body": r.body,
            "chain": r.chain,
        }
        for r in requests
    ]
    return "return " + lua_value(rows) + "\n"


def parse_output(stdout: str, cpu: dict[str, float] | None = None) -> WrkResult:
    """The WrkResult of wrk's output (its last WRK_JSON line)."""
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    if not lines:
        raise WrkFailed(f"wrk printed no result:\n{stdout[-2000:]}")
    data = json.loads(lines[-1][len(MARKER) :])
    latency = data["latency_us"]
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        non2xx=data["non2xx"],
        first_bad_status=data["first_bad_status"],
        socket_errors=sum(data["errors"].values()),
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        chain=list(data["chain"]),
        cpu=dict(cpu or {}),
    )


def run(
    port: int,
    requests: Sequence[Request],
    *,
    connections: int,
    seconds: float,
    chain: str | None = None,
    cpu_probe: tuple[Callable[[], object], Callable[[object, object], dict[str, float]]]
    | None = None,
) -> WrkResult:
    """Closed-loop load: `connections` keep-alive connections for `seconds`.

    wrk threads: one per connection in chain mode (each keeps its own request), else
    at most two (wrk's threads are cheap; these machines have two cores).
    """
    threads = connections if chain else min(connections, 2)
    with tempfile.TemporaryDirectory(prefix="um-wrk-") as tmp:
        path = Path(tmp) / "requests.lua"
        path.write_text(requests_file(requests))
        env = {"WRK_REQUESTS": str(path), "PATH": "/usr/bin:/bin"}
        if chain:
            env["WRK_CHAIN"] = chain
        command = [
            wrk_binary(),
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            f"--timeout={TIMEOUT_SECONDS}s",
            f"--script={SCRIPT}",
            f"http://{HOST}:{port}",
        ]
        before = cpu_probe[0]() if cpu_probe else None
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=seconds + 60
        )
        cpu = cpu_probe[1](before, cpu_probe[0]()) if cpu_probe else None
    if result.returncode:
        raise WrkFailed(f"wrk exited {result.returncode}: {result.stderr[-2000:]}")
    return parse_output(result.stdout, cpu)
