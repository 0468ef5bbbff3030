import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.tests.factories import UserFactory
from apikeys.services import apikey_regenerate_primary
from credits.services import account_for
from gateway import backends


@pytest.fixture
def keyed(db):
    user = UserFactory(username="caller", email="caller@example.com")
    account_for(user)
    key = apikey_regenerate_primary(user=user, actor=user).clear
    return user, {"HTTP_AUTHORIZATION": f"Bearer {key}"}


class _Upstream(BaseHTTPRequestHandler):
    mode = "ok"
    last_request: dict = {}

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length))
        type(self).last_request = request
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        if request.get("stream"):
            self._stream(request)
            return
        body = {
            "model": request["model"],
            "choices": [{"message": {"role": "assistant", "content": "From upstream"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
            "auth": self.headers.get("Authorization"),
        }
        if self.mode == "no-usage":
            body["usage"] = None
        if self.mode == "odd-message":
            body["choices"] = [{"message": "From upstream"}]
        if self.mode == "nul":
            body["choices"][0]["message"]["content"] = "From\x00upstream"
        if self.mode == "huge-usage":
            body["usage"] = {"prompt_tokens": 10**20, "completion_tokens": 10**20}
        payload = json.dumps(body).encode()
        if self.mode == "infinite-usage":
            payload = payload.replace(b'"prompt_tokens": 3', b'"prompt_tokens": 1e999')
        if self.mode == "lone-surrogate":
            payload = payload.replace(b"From upstream", b"From \\ud800 upstream")
        if self.mode == "deep":
            payload = b'{"choices": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, request: dict) -> None:
        """Server-sent events: a role chunk, two pieces, the counts, [DONE]; the
        `*-stream` modes break it at one point."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

        def send(data) -> None:
            payload = data if isinstance(data, str) else json.dumps(data)
            self.wfile.write(f"data: {payload}\n\n".encode())
            self.wfile.flush()

        def chunk(delta: dict) -> dict:
            return {"model": request["model"], "choices": [{"index": 0, "delta": delta}]}

        send(chunk({"role": "assistant", "content": ""}))
        if self.mode == "broken-before-first-token":
            return  # the connection closes without a token
        if self.mode == "error-event-stream":
            send({"error": {"message": "overloaded"}})
            return
        if self.mode == "drip-stream":  # a long answer, slowly: time for a client to leave
            for index in range(100):
                send(chunk({"content": f"w{index} "}))
                time.sleep(0.05)
        send(chunk({"content": "From "}))
        if self.mode == "broken-mid-stream":
            return
        if self.mode == "error-event-mid-stream":
            send({"error": {"message": "overloaded"}})
            return
        if self.mode == "stall-mid-stream":  # longer than the service's read timeout
            time.sleep(1.5)
        send(chunk({"content": "upstream"}))
        if self.mode != "no-usage-stream":
            send(
                {
                    "model": request["model"],
                    "choices": [],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 2},
                }
            )
        send("[DONE]")

    def log_message(self, *args) -> None:
        return

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:  # the service stopped reading (its client went away)
            return


@pytest.fixture
def upstream(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LLM_BACKEND_URL = f"http://127.0.0.1:{server.server_port}/v1"
    settings.LLM_API_KEY = "upstream-secret"
    # Past an answer on a busy machine (other test processes), short of the slow modes.
    settings.LLM_TIMEOUT_SECONDS = 1.0
    backends._backend.cache_clear()
    yield _Upstream
    _Upstream.mode = "ok"
    server.shutdown()
    backends._backend.cache_clear()
