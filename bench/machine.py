"""Describe the machine a benchmark ran on, so its figures can be compared honestly."""

import os
import platform
import time
from pathlib import Path


def _first_value(path: str, key: str, separator: str = ":") -> str | None:
    """The value of the first `key<separator>value` line of a /proc or /etc file, if any."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, sep, value = line.partition(separator)
        if sep and name.strip() == key:
            return value.strip().strip('"')
    return None


def cpu_model() -> str:
    return _first_value("/proc/cpuinfo", "model name") or platform.processor() or "unknown"


def cpu_cores() -> int:
    """CPUs this process may run on (what the server and load generator share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def memory() -> str:
    total_kb = _first_value("/proc/meminfo", "MemTotal")
    if not total_kb:
        return "unknown"
    return f"{int(total_kb.split()[0]) / 1024 / 1024:.1f} GiB"


def operating_system() -> str:
    name = _first_value("/etc/os-release", "PRETTY_NAME", "=") or platform.system()
    return f"{name} (kernel {platform.release()})"


def load_average() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot; idle and iowait count as not busy."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def cpu_busy(seconds: float = 1.0) -> str:
    """Share of all CPUs busy over a short sample: other work that competes with the bench."""
    before = _cpu_jiffies()
    time.sleep(seconds)
    after = _cpu_jiffies()
    if before is None or after is None or after[1] == before[1]:
        return "unknown"
    return f"{(after[0] - before[0]) / (after[1] - before[1]):.0%}"


def describe() -> dict[str, str]:
    """Machine facts for the report, in display order."""
    return {
        "CPU": cpu_model(),
        "CPU cores": str(cpu_cores()),
        "Memory": memory(),
        "OS": operating_system(),
        "Python": platform.python_version(),
        "Load average before the run (1, 5, 15 min)": load_average(),
        "CPU busy just before the run (other processes)": cpu_busy(),
    }
