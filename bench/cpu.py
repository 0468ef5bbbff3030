"""CPU time spent by each part of the benchmark set-up, read from /proc (Linux).

Throughput on a CPU-bound machine is set by CPU time per request, so splitting it
by process (service, PostgreSQL, Redis, wrk) shows where a gap between
two endpoints comes from. Processes are told apart by command line and name.

A process that ends takes its own time with it, but the kernel adds it to its
parent's "children" time once the parent reaps it. So each group counts its live
processes' own time plus the time of the children they reaped: a PostgreSQL backend
closed mid-run (Django's CONN_MAX_AGE) stays in the postmaster's, a restarted
gunicorn worker in the master's. wrk is the harness's own child: its time is the
harness's children time once `subprocess.run` has reaped it.
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
    """CPU seconds (user + system) used so far by each group: its live processes and
    the children they reaped; wrk's, as this process's reaped children."""
    harness = os.times()
    used: Counter = Counter({LOADGEN: harness.children_user + harness.children_system})
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # the process ended between listing and reading
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        group = _group_of(pid, comm)
        if group is None or group == LOADGEN:
            continue
        # utime, stime, cutime, cstime: fields 14 to 17 of proc(5), counted from 1.
        fields = stat[stat.rindex(")") + 2 :].split()
        used[group] += sum(int(ticks) for ticks in fields[11:15]) / _TICKS_PER_SECOND
    return used


def spent(before: Counter, after: Counter) -> dict[str, float]:
    """CPU seconds per group between two snapshots (never negative: a process that
    ended unreaped, or whose parent is outside the group, takes its time with it)."""
    return {group: max(0.0, after[group] - before[group]) for group in GROUPS}
