"""CPU time spent by each part of the benchmark set-up, read from /proc (Linux).

Throughput on a CPU-bound machine is set by CPU time per request, so splitting it
by process (service, PostgreSQL, Redis, wrk) shows where a gap between
two endpoints comes from. Processes are told apart by command line and name.
"""

import os
from collections import Counter
from pathlib import Path

SERVICE, POSTGRES, REDIS, LOADGEN = "service", "PostgreSQL", "Redis", "wrk"
GROUPS = (SERVICE, POSTGRES, REDIS, LOADGEN)
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _group_of(pid: str, comm: str) -> str | None:
    if comm == "wrk":
        return LOADGEN
    if comm.startswith("postgres"):
        return POSTGRES
    if comm.startswith("redis-server"):
        return REDIS
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return SERVICE if b"bench.wsgi" in command else None


def snapshot() -> Counter:
    """CPU seconds (user + system) used so far by each group's live processes."""
    used: Counter = Counter()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # the process ended between listing and reading
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        group = _group_of(pid, comm)
        if group is None:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        used[group] += (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND
    return used


def spent(before: Counter, after: Counter) -> dict[str, float]:
    """CPU seconds per group between two snapshots (never negative: an ended process
    takes its time with it, which only happens if a server process restarts)."""
    return {group: max(0.0, after[group] - before[group]) for group in GROUPS}
