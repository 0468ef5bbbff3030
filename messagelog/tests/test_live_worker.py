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
        statuses = [
            client.post("/v1/prompt/completions", json=PROMPT, headers=headers).status_code
            for _ in range(10)
        ]

    assert statuses == [200] * 10
    # Two full batches of 5: each asked the worker for a flush; no request wrote a row.
    stored = _wait_for_rows(registered["user_id"], 10)
    assert stored == 10, worker.log_path.read_text()[-3000:]
    assert selectors.queue_depth() == {"queued": 0, "inflight": 0, "dead": 0}
    row = MessageLog.objects.filter(user_id=registered["user_id"]).first()
    assert row.messages["response"] == {"role": "assistant", "content": "Echo: Hello"}
