"""Killed outright right after answering, a web worker has lost no answered conversation:
with the default delivery each entry reached Redis or the database before its answer."""

import json
import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from messagelog.models import MessageLog
from messagelog.queue import message_queue

ANSWERED_BEFORE_THE_KILL = 300
CLIENTS = 6
UNMETERED = {
    "RATELIMIT_ENABLE": "false",
    "FIREWALL_ENABLED": "false",
    "DEFAULT_USER_LIMITS": '{"conversation_limit": 1000000, "reset": 1000000}',
}


def _one_message(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}], "r_type": "bpe"}


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _kill_outright(master: int) -> None:
    """SIGKILL gunicorn's workers and its master; stopped first, it respawns none."""
    os.kill(master, signal.SIGSTOP)
    for worker in _children(master):
        os.kill(worker, signal.SIGKILL)
    os.kill(master, signal.SIGKILL)


def _logged_texts(user_id: int) -> set[str]:
    """The prompt of every entry of the user in Redis (queued or in flight) or the table;
    a batch being flushed when the workers died can be in both."""
    texts = {
        messages["request"][0]["content"]
        for messages in MessageLog.objects.filter(user_id=user_id).values_list(
            "messages", flat=True
        )
    }
    queue = message_queue()
    if queue is not None:
        redis = queue._redis
        for key in (queue.queue_key, queue.inflight_key):
            for raw in redis.lrange(key, 0, -1):
                entry = json.loads(raw)
                if entry["user_id"] == user_id:
                    texts.add(entry["messages"]["request"][0]["content"])
    return texts


@pytest.mark.live
def test_no_answered_conversation_is_lost_when_the_workers_are_killed(
    start_live_service, transactional_db
):
    answered: list[str] = []
    refused: list[str] = []
    answered_lock = threading.Lock()
    enough = threading.Event()
    with start_live_service(UNMETERED) as service:
        with service.client() as client:
            registered = client.post(
                "/v1/users/register",
                json={
                    "username": "killed",
                    "name": "Killed Worker",
                    "email": "killed@example.com",
                    "password": "SecurePass123",
                },
            ).json()
        headers = {"Authorization": f"Bearer {registered['api_key']}"}

        def call(client_number: int) -> None:
            """Calls until the workers die; remembers the prompts that were answered."""
            with service.client(headers=headers) as client:
                for number in range(10_000):
                    text = f"client {client_number} call {number}"
                    if number % 10 == 9:  # a batch: two prompts, two entries, one answer
                        path = "/v1/batch/process"
                        texts = [f"{text} a", f"{text} b"]
                        body = {"prompts": [_one_message(each) for each in texts]}
                    else:
                        path = "/v1/prompt/completions"
                        texts = [text]
                        body = _one_message(text)
                    try:
                        response = client.post(path, json=body)
                    except httpx.TransportError:
                        return  # killed while asking: never answered
                    if response.status_code != 200:
                        refused.append(response.text)
                        enough.set()
                        return
                    with answered_lock:
                        answered.extend(texts)
                        if len(answered) >= ANSWERED_BEFORE_THE_KILL:
                            enough.set()

        threads = [threading.Thread(target=call, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        assert enough.wait(120), f"only {len(answered)} answers"
        _kill_outright(service.pid)  # while the clients are still calling
        for thread in threads:
            thread.join(30)

    with answered_lock:
        answered_at_the_kill = list(answered)
    logged = _logged_texts(registered["user_id"])
    missing = sorted(set(answered_at_the_kill) - logged)
    assert refused == []
    assert len(answered_at_the_kill) >= ANSWERED_BEFORE_THE_KILL
    assert missing == [], f"{len(missing)} answered calls unlogged, e.g. {missing[:5]}"
