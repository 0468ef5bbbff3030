#!/usr/bin/env bash
# The production install works on its own: a virtualenv holding requirements.txt
# and nothing else migrates the database, serves the API with gunicorn, and runs a
# Celery worker and beat on a Redis broker. A registration through gunicorn must
# reach the worker as an email task, a task sent by hand must run, and beat must
# send its schedule.
#
# Needs DATABASE_URL (PostgreSQL) and REDIS_URL; the broker is REDIS_URL unless
# CELERY_BROKER_URL says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to use}"
: "${REDIS_URL:?REDIS_URL must name the Redis database to use}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-$REDIS_URL}"
export CACHE_KEY_PREFIX="${CACHE_KEY_PREFIX:-um-runtime-check}"
# Beat sends the message-log flush every second, so its schedule shows within the check;
# a registration queues its verification email.
export MESSAGE_FLUSH_INTERVAL_SECONDS=1
export EMAIL_VERIFICATION_ENABLED=true
export PYTHONUNBUFFERED=1
export PYTHON="${PYTHON:-python3}"

RUNTIME_VENV="${RUNTIME_VENV:-var/runtime-venv}"
PORT="${RUNTIME_CHECK_PORT:-$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
WAIT_SECONDS="${RUNTIME_CHECK_WAIT:-60}"
LOGS="$(mktemp -d)"
PIDS=()

stop_all() {
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$LOGS"
}
trap stop_all EXIT

fail() {
    echo "runtime install check FAILED: $*" >&2
    for log in "$LOGS"/*.log; do
        echo "----- $(basename "$log") (last lines)" >&2
        tail -n 40 "$log" >&2
    done
    exit 1
}

# wait_for_line FILE PATTERN: true once a line of FILE matches PATTERN.
wait_for_line() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until grep -Eq "$2" "$1" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

echo "== runtime-only virtualenv from requirements.txt"
rm -rf "$RUNTIME_VENV"
"$PYTHON" -m venv "$RUNTIME_VENV"
"$RUNTIME_VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
BIN="$RUNTIME_VENV/bin"

# A database of the check's own beside DATABASE_URL's, made afresh: the production
# install starts from an empty database, and the suite's data stays untouched.
DATABASE_URL="$("$BIN/python" - <<'PY'
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

url = urlsplit(os.environ["DATABASE_URL"])
name = f"{url.path.lstrip('/')}_runtime"
with psycopg.connect(urlunsplit(url._replace(path="/postgres")), autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
print(urlunsplit(url._replace(path=f"/{name}")))
PY
)"
export DATABASE_URL

"$BIN/python" -m core.signing_keys
"$BIN/python" manage.py migrate --noinput --verbosity 0
"$BIN/python" manage.py createcachetable
"$BIN/python" manage.py collectstatic --noinput --verbosity 0

echo "== gunicorn, Celery worker and beat"
"$BIN/gunicorn" config.wsgi --bind "127.0.0.1:$PORT" --workers 1 --threads 2 \
    >"$LOGS/gunicorn.log" 2>&1 &
PIDS+=($!)
"$BIN/celery" -A config worker --loglevel INFO --concurrency 1 --without-mingle \
    --without-gossip >"$LOGS/worker.log" 2>&1 &
PIDS+=($!)
"$BIN/celery" -A config beat --loglevel INFO --schedule "$LOGS/beat-schedule" \
    >"$LOGS/beat.log" 2>&1 &
PIDS+=($!)

wait_for_line "$LOGS/worker.log" "celery@.* ready" || fail "the worker never became ready"

echo "== a registration through gunicorn reaches the worker"
"$BIN/python" - "$PORT" "$WAIT_SECONDS" <<'PY' || fail "gunicorn did not serve a registration"
import json
import sys
import time
import urllib.request
import uuid

port, wait = sys.argv[1], float(sys.argv[2])
base = f"http://127.0.0.1:{port}"
deadline = time.monotonic() + wait
while True:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/health/live", timeout=2) as response:
            if response.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("gunicorn never answered /api/v1/health/live")
    time.sleep(0.5)

name = f"runtime{uuid.uuid4().hex[:12]}"
body = json.dumps(
    {"email": f"{name}@example.com", "username": name, "password": "Runtime-check-9-pass"}
).encode()
request = urllib.request.Request(
    f"{base}/api/v1/auth/register",
    data=body,
    headers={"Content-Type": "application/json"},
    method="POST",
)
with urllib.request.urlopen(request, timeout=10) as response:
    if response.status != 201:
        sys.exit(f"registration answered {response.status}")
PY
wait_for_line "$LOGS/worker.log" "Task accounts\.tasks\.send_account_email\[.*\] succeeded" ||
    fail "the worker never ran the registration's email task"

echo "== a task sent to the broker runs"
task_id="$("$BIN/celery" -A config call messagelog.tasks.flush_message_log)"
wait_for_line "$LOGS/worker.log" "Task messagelog\.tasks\.flush_message_log\[$task_id\] succeeded" ||
    fail "the worker never ran task $task_id"

echo "== beat sends its schedule"
wait_for_line "$LOGS/beat.log" "Sending due task flush-message-log" ||
    fail "beat never sent the message-log flush"

for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "a process died during the check"
done
echo "runtime install check passed"
