"""A web process that stops hands over the conversations its relay still buffers."""

import pytest

from messagelog import selectors, services

PROMPT = {"level": "medium", "messages": [{"role": "user", "content": "Hello"}], "r_type": "bpe"}
# Long enough that nothing leaves the buffer before the test stops the service.
GATHER = {"MESSAGE_RELAY_GATHER_MS": "10000", "RATELIMIT_ENABLE": "false"}


@pytest.mark.live
def test_a_stopping_worker_pushes_what_its_relay_still_buffers(
    start_live_service, transactional_db
):
    if services.message_queue() is None:
        pytest.skip("the relay feeds the Redis queue: run with REDIS_URL (CI does)")
    with start_live_service(GATHER) as service, service.client() as client:
        registered = client.post(
            "/v1/users/register",
            json={
                "username": "stopping",
                "name": "Stopping Caller",
                "email": "stopping@example.com",
                "password": "SecurePass123",
            },
        ).json()
        headers = {"Authorization": f"Bearer {registered['api_key']}"}
        statuses = [
            client.post("/v1/prompt/completions", json=PROMPT, headers=headers).status_code
            for _ in range(3)
        ]
        queued_while_answering = selectors.queue_depth()["queued"]

    assert statuses == [200, 200, 200]
    assert queued_while_answering == 0  # answered before any entry reached Redis
    assert selectors.queue_depth()["queued"] == 3
    assert services.flush(actor=None) == 3
