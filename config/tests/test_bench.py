"""The benchmark harness's pieces work: wrk with bench/wrk.lua against a tiny live
server gives the figures the report needs, the profile summary charges samples where
the report says, and the report renders a row for every scenario and target.

No figure is judged here (speed is `make bench`'s business): only shapes and counts.
"""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import cpu, wrk
from bench.profile import summarise
from bench.report import (
    HTTP_SCENARIOS,
    KEPT_HEADING,
    BatchTiming,
    BenchSettings,
    HashTiming,
    MemorySoak,
    Report,
    kept_sections,
    render,
)

BUSY = "CPU busy just before the run (other processes)"
ODD_BODY = {"text": 'a "quoted" line\nand more: é €'}


class _Handler(BaseHTTPRequestHandler):
    """GET /ok answers 200, anything else 404; POST /echo checks its body; POST
    /rotate answers the next token and records the one it was sent."""

    protocol_version = "HTTP/1.1"
    seen_tokens: list[str]
    bodies_ok: list[bool]

    def log_message(self, *args) -> None:
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(200 if self.path == "/ok" else 404, {"path": self.path})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/echo":
            self.bodies_ok.append(body == ODD_BODY)
            self._answer(200, {"ok": True})
            return
        self.seen_tokens.append(body["refresh_token"])
        self._answer(200, {"refresh_token": f"token-{len(self.seen_tokens)}"})


@pytest.fixture
def server() -> Iterator[tuple[int, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"seen_tokens": [], "bodies_ok": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_wrk_script_counts_answers_errors_and_percentiles(server):
    port, handler = server
    requests = [
        wrk.Request("GET", "/ok"),
        wrk.Request("GET", "/missing"),
        wrk.Request("POST", "/echo", {"Content-Type": "application/json"}, json.dumps(ODD_BODY)),
    ]
    result = wrk.run(port, requests, connections=2, seconds=1)
    assert result.requests > 3
    assert result.non2xx > 0
    assert result.successes == result.requests - result.non2xx
    assert result.first_bad_status == 404
    assert result.socket_errors == 0
    assert 0 < result.p50_ms <= result.p90_ms <= result.p99_ms <= result.max_ms
    assert result.throughput > 0
    # Bodies with quotes, newlines and non-ASCII text arrive intact.
    assert handler.bodies_ok and all(handler.bodies_ok)


def test_wrk_chain_sends_each_answers_value_with_the_next_request(server):
    port, handler = server
    body = json.dumps({"refresh_token": "{{chain}}"})
    rotate = wrk.Request("POST", "/rotate", {"Content-Type": "application/json"}, body, "first")
    result = wrk.run(port, [rotate], connections=1, seconds=1, chain="refresh_token")
    seen = handler.seen_tokens
    assert seen[0] == "first"
    assert seen[1:] == [f"token-{n}" for n in range(1, len(seen))]
    assert result.chain == [f"token-{result.requests}"]


_BUSY_CHILD = """
import time
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
"""


def test_the_harness_children_time_counts_as_the_load_generator():
    # wrk runs, ends and is reaped between the two snapshots of a measured run.
    before = cpu.snapshot()
    subprocess.run([sys.executable, "-c", _BUSY_CHILD], check=True)
    assert cpu.spent(before, cpu.snapshot())["wrk"] >= 0.25


# Stands for a PostgreSQL backend closed mid-run (CONN_MAX_AGE): a child of a counted
# process ends, is reaped, and its parent stays.
_PARENT_OF_A_BUSY_CHILD = (
    "import subprocess, sys, time  # bench.wsgi\n"
    f"subprocess.run([sys.executable, '-c', {_BUSY_CHILD!r}])\n"
    "print('reaped', flush=True)\n"
    "time.sleep(30)\n"
)


def test_a_child_that_ends_mid_run_keeps_its_time_in_its_parents_group():
    before = cpu.snapshot()
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT_OF_A_BUSY_CHILD], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout.readline().strip() == "reaped"
        used = cpu.spent(before, cpu.snapshot())
    finally:
        parent.kill()
        parent.wait()
    assert used["service"] >= 0.25


def test_wrk_output_parses_into_a_result_with_cpu_per_request():
    line = (
        'WRK_JSON {"requests":10,"duration_us":2000000,"non2xx":2,"first_bad_status":302,'
        '"errors":{"connect":0,"read":1,"write":0,"timeout":0},'
        '"latency_us":{"p50":1500,"p90":2000,"p99":3000,"max":4000,"mean":1600.0},"chain":[""]}'
    )
    result = wrk.parse_output(f"Running 2s test\n{line}\n", {"service": 0.08, "wrk": 0.0})
    assert (result.successes, result.errors, result.throughput) == (8, 3, 4.0)
    assert (result.p50_ms, result.p99_ms) == (1.5, 3.0)
    assert result.cpu_per_request_ms() == {"service": 10.0, "wrk": 0.0, "total": 10.0}


def test_profile_charges_the_innermost_service_frame_not_a_middleware():
    stacks = [
        "main (x.py:1);ThreadWorker.handle_request (gunicorn/workers/gthread.py:9);"
        "AccessLogMiddleware.__call__ (core/middleware.py:5);"
        "users_list (accounts/selectors.py:7);Connection.wait (psycopg/connection.py:3) 6",
        "main (x.py:1);ThreadWorker.handle_request (gunicorn/workers/gthread.py:9);"
        "AccessLogMiddleware.__call__ (core/middleware.py:5);"
        "render (django/template/base.py:2) 4",
        "main (x.py:1);EpollSelector.select (selectors.py:468) 90",
    ]
    profile = summarise(stacks, focus=("ThreadWorker.handle_request",))
    assert profile.samples == 10
    assert profile.top("service") == [
        ("users_list (accounts/selectors.py)", 0.6),
        ("(Django and libraries, under the middleware)", 0.4),
    ]
    assert profile.top("packages") == [("psycopg", 0.6), ("django/template", 0.4)]


def _run(p50: float, throughput: float = 100.0) -> wrk.WrkResult:
    requests = int(throughput * 2)
    return wrk.WrkResult(
        requests=requests,
        seconds=2.0,
        non2xx=0,
        first_bad_status=0,
        socket_errors=0,
        p50_ms=p50,
        p90_ms=p50 * 2,
        p99_ms=p50 * 3,
        max_ms=p50 * 4,
        cpu={"service": 0.5, "PostgreSQL": 0.2, "Redis": 0.01, "wrk": 0.05},
    )


def _report() -> Report:
    profile = summarise(
        ["ThreadWorker.handle_request (g.py:1);users_list (accounts/selectors.py:7) 5"],
        focus=("ThreadWorker.handle_request",),
    )
    return Report(
        command="make bench",
        started=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        elapsed_seconds=600,
        machine={"CPU": "test"},
        versions={"wrk": "wrk 4"},
        settings=BenchSettings(
            quick=False,
            users=100_000,
            messages=1_000_000,
            busiest_messages=900,
            workers=2,
            threads=4,
            cores=2,
            concurrency=8,
            warmup=2,
            duration=8,
            repeats=2,
            profile_seconds=5,
            database="um_bench_demo_100000_1000000",
            service_env={"MESSAGE_RELAY_GATHER_MS": "0"},
        ),
        hashing=HashTiming(hasher="argon2 (time_cost=5)", seconds=[0.05, 0.06]),
        batch=BatchTiming(
            accounts=100_000,
            service=[1.2, 1.1],
            bare=[1.0, 1.0],
            flush_rows=1000,
            flush_batch_size=50,
            flush_flush=[0.1, 0.1],
            flush_insert_each=[3.0, 3.0],
            flush_copy=[0.03, 0.03],
        ),
        results={key: [_run(5.0), _run(7.0)] for key in HTTP_SCENARIOS},
        profiles={key: profile for key in (*HTTP_SCENARIOS, "reset", "flush") if key != "bare"},
        soak=MemorySoak(
            seconds=300,
            requests=50_000,
            errors=0,
            times=[0, 60, 120, 180, 240, 300],
            rss_mib=[[100, 100], [120, 120], [120, 121], [121, 120], [120, 121], [121, 121]],
            workers=2,
        ),
    )


def test_report_renders_every_scenario_and_target_row():
    report = _report()
    text = render(report)
    targets = report.targets()
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(targets) + 1  # and the header
    for target in targets:
        assert f"| {target.label} | {target.measured} |" in summary
    results = text.split("## HTTP results", 1)[1].split("\n## ", 1)[0]
    for scenario in HTTP_SCENARIOS.values():
        assert f"| {scenario.label} |" in results
    profiles = text.split("## Where the time goes", 1)[1].split("\n## ", 1)[0]
    # Each profiled scenario's row names the frame as its service code and innermost frame.
    assert profiles.count("`users_list (accounts/selectors.py)` 100%") == 2 * len(report.profiles)
    assert "100,000 users and 1,000,000 conversations" in text
    assert {t.key for t in targets} >= {"reset", "refresh", "login", "flush", "metered", "memory"}
    assert next(t for t in targets if t.key == "memory").met  # flat after the first fifth
    assert "busy just before this run" not in text
    busy = Report(**{**report.__dict__, "machine": {BUSY: "100%"}})
    assert "CPUs 100% busy just before this run" in render(busy)


def test_the_hand_written_sections_survive_a_rewrite():
    previous = f"# Benchmarks\n\nold figures\n\n{KEPT_HEADING}\n\nby hand\n\n## Scale\n\nmore\n"
    written = render(_report()) + kept_sections(previous)
    assert written.count(KEPT_HEADING) == 1
    assert written.endswith(f"{KEPT_HEADING}\n\nby hand\n\n## Scale\n\nmore\n")
    assert "old figures" not in written
