import time

import pytest

from messagelog import selectors
from messagelog.models import MessageLog

PROMPT = {"level": "medium", "messages": [{"role": "user", "content": "Hello"}], "r_type": "bpe"}


def _wait_for_rows(user_id: int, count: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while (found := MessageLog.objects.filter(user_id=user_id).count()) < count:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return found


def _wait_for_empty_queue(timeout: float = 10) -> dict[str, int]:
    """The flusher lets go of its in-flight batch just after the rows commit."""
    deadline = time.monotonic() + timeout
    while (depth := selectors.queue_depth()) != {"queued": 0, "inflight": 0, "dead": 0}:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return depth


@pytest.mark.live
def test_a_real_worker_writes_what_the_web_processes_queue(
    live_service_with_worker, transactional_db
):
    service, worker = live_service_with_worker
    with service.client() as client:
        registered = client.post(
            "/v1/users/register",
            json={
                "username": "logged",
                "name": "Logged Caller",
                "email": "logged@example.com",
                "password": "SecurePass123",
            },
        ).json()
        headers = {"Authorization": f"Bearer {registered['api_key']}"}

        def batch_of_five() -> list[int]:
            return [
                client.post("/v1/prompt/completions", json=PROMPT, headers=headers).status_code
                for _ in range(5)
            ]

        # Each fifth entry fills a batch, which asks the worker for a flush; the second
        # batch is sent once the first is stored, so it too starts from an empty queue.
        first = batch_of_five()
        stored_first = _wait_for_rows(registered["user_id"], 5)
        second = batch_of_five()

    stored = _wait_for_rows(registered["user_id"], 10)
    log = worker.log_path.read_text()[-3000:]
    assert first == second == [200] * 5
    assert stored_first == 5, log
    assert stored == 10, log
    assert _wait_for_empty_queue() == {"queued": 0, "inflight": 0, "dead": 0}
    row = MessageLog.objects.filter(user_id=registered["user_id"]).first()
    assert row.messages["response"] == {"role": "assistant", "content": "Echo: Hello"}
