"""CPU of a metered completion and of its own steps, timed in one process.

Run as `python -m bench.steps` in the benchmark's child environment, on the migrated
bench database. It loads the benchmark app (`bench.wsgi`, the service's middleware
and settings) and calls it directly, with no HTTP server and no other client, so the
figures are the work of the path itself: the bare view and the metered call through
the whole Django stack, then the metered call's own steps alone (the warm key
check, the committed credit `UPDATE`, and the message log: enqueue, relay push and
the flush that runs inline without a broker). Served under load the same work costs
more; the report sets the two side by side. Prints one JSON object: microseconds of
CPU (this process's user + system, all its threads) per call, median of the rounds,
and how many calls and rounds that took.
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable

import django

from bench import BARE_PATH, COMPLETION_BODY, COMPLETIONS_PATH, PASSWORD, REGISTER_PATH

# Entries per relay push when timed alone: what the relay gathers in its 20 ms under
# the benchmark's load (about 1000 metered requests a second over two workers), not
# the one push a tight loop of enqueues would make.
ENTRIES_PER_PUSH = 10


def _wsgi_call(application, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    """One request straight into the WSGI handler, as gunicorn would hand it over."""
    payload = b"" if body is None else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "application/json",
        "CONTENT_LENGTH": str(len(payload)),
        "wsgi.input": io.BytesIO(payload),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body is not None:
        environ["CONTENT_TYPE"] = "application/json"
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    statuses: list[str] = []

    def start_response(status: str, _headers, _exc_info=None) -> None:
        statuses.append(status)

    response = application(environ, start_response)
    try:
        content = b"".join(response)
    finally:
        response.close()  # as a server does: ends the request (request_finished)
    return int(statuses[0][:3]), content


def _cpu_per_call(
    call: Callable[[], object], calls: int, rounds: int, settle: Callable[[], object] = lambda: None
) -> float:
    """Median over rounds of this process's CPU per call, in microseconds; `settle`
    finishes, inside the timing, the work the calls left to a background thread."""
    for _ in range(max(calls // 10, 10)):
        call()
    settle()
    per_round = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            call()
        settle()
        per_round.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(per_round)


def measure(calls: int, rounds: int) -> dict[str, float]:
    from django.conf import settings

    from accounts.models import User
    from apikeys.services import apikey_authenticate
    from bench.wsgi import application
    from credits.services import consume
    from messagelog.services import Conversation, drain_relay, enqueue, flush

    name = f"steps{uuid.uuid4().hex[:10]}"
    account = {"username": name, "name": "Bench Steps", "email": f"{name}@example.com"}
    status, answer = _wsgi_call(
        application, "POST", REGISTER_PATH, {**account, "password": PASSWORD}
    )
    if status != 201:
        raise SystemExit(f"register answered {status}: {answer[:300]!r}")
    api_key = json.loads(answer)["api_key"]
    user = User.objects.get(username=name)
    # What the metered call logs for this body with the echo backend.
    conversation = Conversation(
        user_id=user.pk,
        username=user.username,
        email=user.email,
        model=settings.LLM_DEFAULT_MODEL,
        request_messages=COMPLETION_BODY["messages"],
        response_message={"role": "assistant", "content": "Echo: Hello"},
        research_enabled=False,
        r_type=COMPLETION_BODY["r_type"],
        tokens_used=3,
        processing_time_ms=0,
        ip_address="127.0.0.1",
    )

    def metered() -> None:
        status, answer = _wsgi_call(
            application,
            "POST",
            COMPLETIONS_PATH,
            COMPLETION_BODY,
            {"Authorization": f"Bearer {api_key}"},
        )
        if status != 200:
            raise SystemExit(f"completion answered {status}: {answer[:300]!r}")

    logged = 0

    def log_entry() -> None:
        nonlocal logged
        enqueue(conversation)
        logged += 1
        if logged % ENTRIES_PER_PUSH == 0:
            drain_relay()

    figures = {
        "bare": _cpu_per_call(lambda: _wsgi_call(application, "GET", BARE_PATH), calls, rounds),
        "metered": _cpu_per_call(metered, calls, rounds, drain_relay),
        "key_check": _cpu_per_call(lambda: apikey_authenticate(api_key), calls, rounds),
        "consume": _cpu_per_call(lambda: consume(user=user, amount=1), calls, rounds),
        # The pushes (and the flushes they ask for) are the entries' cost.
        "message_log": _cpu_per_call(log_entry, calls, rounds, drain_relay),
    }
    flush(actor=None)
    return {**figures, "calls": calls, "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    print(json.dumps(measure(args.calls, args.rounds)))


if __name__ == "__main__":
    main()
