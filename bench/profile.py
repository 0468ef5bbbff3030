"""Where a scenario's time goes: py-spy samples of the serving processes, summarised.

py-spy attaches to running processes (ptrace) and samples their Python stacks
without changing them. Idle stacks are kept (`--idle`) so that time waiting on
PostgreSQL or Redis shows up under the call that waits; only stacks holding
`focus` (the request handler, or the job being timed) are counted. Each counted
sample is charged to its innermost frame in the service's own code (what it
spends, with everything it calls; the middleware that wraps every request does
not count as such), to the package of its
innermost frame (where the time finally goes: psycopg waiting on a query, Django's
templates, a hash) and to that innermost frame itself.
"""

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SERVICE_PACKAGES = frozenset(
    {
        "accounts",
        "apikeys",
        "config",
        "core",
        "credits",
        "gateway",
        "messagelog",
        "security",
        "support",
        "tenants",
    }
)
# What a sample with no service frame but a middleware's (Django's own work that the
# middleware chain called: rendering a template response, ...) or none at all
# (gunicorn reading or writing) is charged to.
UNDER_MIDDLEWARE = "(Django and libraries, under the middleware)"
OUTSIDE_APP = "(gunicorn, outside the app)"
SAMPLE_RATE = 200
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True)
class Profile:
    """Counted samples and the frames they were charged to, most first."""

    samples: int
    service: list[tuple[str, int]]
    packages: list[tuple[str, int]]
    leaves: list[tuple[str, int]]

    def top(self, which: str, count: int = 3) -> list[tuple[str, float]]:
        """The `count` heaviest of `which` ("service", "packages", "leaves") with their share."""
        frames = getattr(self, which)[:count]
        return [(frame, n / self.samples) for frame, n in frames] if self.samples else []


def py_spy() -> str | None:
    """The py-spy beside this Python (the virtualenv's), else on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _frame_name(frame: str) -> tuple[str, str]:
    """("function (file)", file) of one collapsed-stack frame, line number dropped."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    return f"{match['function']} ({match['file']})", match["file"]


def _is_service(file: str) -> bool:
    return file.split("/", 1)[0] in SERVICE_PACKAGES and "site-packages" not in file


def _is_middleware(name: str) -> bool:
    return name.split(" (")[0].endswith("Middleware.__call__")


def package_of(file: str) -> str:
    """`django/db`, `django/template`, ... for Django; the top package otherwise."""
    parts = file.split("/")
    if parts[0] == "django" and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0].removesuffix(".py") if parts[0] else file


def summarise(collapsed: Iterable[str], focus: Sequence[str]) -> Profile:
    """A Profile of py-spy raw (collapsed) lines: `frame;frame;... count`.

    A stack counts if some frame's function is named in `focus`; only the part of the
    stack under the outermost such frame is looked at.
    """
    service, packages, leaves, samples = Counter(), Counter(), Counter(), 0
    for line in collapsed:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        start = next(
            (i for i, f in enumerate(frames) if _frame_name(f)[0].split(" (")[0] in focus), None
        )
        if start is None:
            continue
        frames = frames[start:]
        count = int(count_text)
        samples += count
        named = [_frame_name(frame) for frame in frames]
        ours = [name for name, file in named if _is_service(file)]
        inner = [name for name in ours if not _is_middleware(name)]
        service[inner[-1] if inner else UNDER_MIDDLEWARE if ours else OUTSIDE_APP] += count
        packages[package_of(named[-1][1])] += count
        leaves[named[-1][0]] += count
    return Profile(samples, service.most_common(), packages.most_common(), leaves.most_common())


def record(pids: Sequence[int], seconds: float, out_dir: Path) -> list[Path]:
    """Start py-spy on each pid for `seconds`; wait; the raw files written."""
    binary = py_spy()
    if binary is None:
        return []
    outputs, processes = [], []
    for pid in pids:
        output = out_dir / f"profile-{pid}.txt"
        outputs.append(output)
        processes.append(
            subprocess.Popen(
                [
                    binary,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(max(1, round(seconds))),
                    "--rate",
                    str(SAMPLE_RATE),
                    "--idle",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--output",
                    str(output),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    for process in processes:
        process.wait(timeout=seconds + 60)
    return [output for output in outputs if output.exists()]


def read(paths: Iterable[Path]) -> list[str]:
    return [line for path in paths for line in path.read_text().splitlines()]


def command(output: Path, child: Sequence[str]) -> list[str] | None:
    """py-spy launching `child` and recording it whole (for the in-process jobs)."""
    binary = py_spy()
    if binary is None:
        return None
    return [
        binary,
        "record",
        "--rate",
        str(SAMPLE_RATE),
        "--idle",
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(output),
        "--",
        *child,
    ]
