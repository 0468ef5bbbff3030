"""The OpenAI-compatible routes: /v1/chat/completions and /v1/models.

They take a `pe-` key the way OpenAI's clients send one (`Authorization: Bearer`),
or in `X-API-Key`, and go through the metered path of /v1/prompt/completions: one
credit per conversation, refunded when the backend fails before the first token,
the conversation logged with the whole answer.
"""

import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.authentication import APIKeyAuthentication, presented_key, session_token_presented
from apikeys.errors import APIKeyErrorCode
from core.envelope import error_body
from core.errors import ServiceError
from gateway import services
from gateway.api.serializers import (
    ChatCompletionRequestSerializer,
    ChatCompletionSerializer,
    ModelListSerializer,
    OpenAIAutoSchema,
    openai_error_responses,
)
from gateway.api.v1_views import MeteredView
from gateway.backends import offered_models
from gateway.chat import ChatRequest, chat_request_from
from gateway.openai_errors import openai_error
from security.client_ip import client_ip

MID_STREAM_FAILURE = "The model backend failed after the answer began; its credit is spent."

# When the service started: a stable `created` for the models it offers.
_OFFERED_SINCE = 1_700_000_000


class KeyOnlyAuthentication(APIKeyAuthentication):
    """A `pe-` key, in `Authorization: Bearer` or `X-API-Key`; a session token is refused
    by name rather than read, so these routes have one kind of caller."""

    def authenticate(self, request):
        if presented_key(request) is None and session_token_presented(request):
            raise AuthenticationFailed(
                "The OpenAI-compatible routes take an API key (pe-…), not a session token.",
                code=APIKeyErrorCode.API_KEY_REQUIRED,
            )
        return super().authenticate(request)


class JSONWhateverAccepted(DefaultContentNegotiation):
    """OpenAI's routes answer JSON (or events, for a stream) whatever `Accept` says: a
    client that asks for `text/event-stream` gets its stream, never a 406 or a page."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class OpenAIView(MeteredView):
    authentication_classes = [KeyOnlyAuthentication]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONWhateverAccepted
    schema = OpenAIAutoSchema()


def _sse(payload: dict | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {data}\n\n".encode()


def _events(stream: services.CompletionStream, include_usage: bool, request) -> Iterator[bytes]:
    """The chunks of OpenAI's stream, `[DONE]` last; a backend failure mid-stream ends it
    with an `error` event instead (the credit stays spent, the log holds the part sent)."""

    def chunk(choices: list, **extra) -> bytes:
        head = {"id": stream.id, "object": "chat.completion.chunk", "created": stream.created}
        return _sse({**head, "model": stream.model, "choices": choices, **extra})

    def choice(delta: dict, finish_reason: str | None = None) -> list:
        return [{"index": 0, "delta": delta, "finish_reason": finish_reason}]

    yield chunk(choice({"role": "assistant", "content": ""}))
    try:
        for piece in stream:
            yield chunk(choice({"content": piece}))
    except ServiceError as error:
        # The backend's errors say no credit was used, which is true only before the
        # first token; here the answer has begun and its credit stays spent.
        envelope = error_body(message=MID_STREAM_FAILURE, code=error.code, request=request)
        yield _sse(openai_error(envelope, error.status_code))
        return
    yield chunk(choice({}, "stop"))
    if include_usage:
        prompt_tokens, completion_tokens = stream.prompt_tokens, stream.completion_tokens
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        yield chunk([], usage=usage)
    yield _sse("[DONE]")


class _EventStream:
    """The events of one streamed completion. The server closes it when the response
    ends, also when the client went away before or during it: the conversation is then
    logged with what was handed out."""

    def __init__(self, stream: services.CompletionStream, include_usage: bool, request) -> None:
        self._stream = stream
        self._events = _events(stream, include_usage, request)

    def __iter__(self) -> Iterator[bytes]:
        return self._events

    def close(self) -> None:
        self._events.close()
        self._stream.close()


class ChatCompletionsView(OpenAIView):
    @extend_schema(
        tags=["openai-compatible"],
        summary="An OpenAI chat completion, plain or streamed; takes one conversation credit",
        description=(
            "OpenAI's `POST /v1/chat/completions`. With `stream: true` the answer is "
            "server-sent events, `data: {chunk}` each, ending with `data: [DONE]`; a "
            "backend failure after the first token ends the stream with a `data: "
            '{"error": …}` event instead. Errors are our envelope inside OpenAI\'s '
            '`{"error": {…}}`.'
        ),
        request=ChatCompletionRequestSerializer,
        responses={
            (200, "application/json"): ChatCompletionSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description="`stream: true`: chunks, then `data: [DONE]`"
            ),
            **openai_error_responses(400, 401, 403, 404, 429, 502, 504),
        },
    )
    def post(self, request: Request):
        chat: ChatRequest = chat_request_from(request.data)
        ip_address = client_ip(request)
        if not chat.stream:
            body = services.complete(
                user=request.user, prompt=chat.prompt, ip_address=ip_address, options=chat.options
            )
            return Response(body)
        stream = services.complete_streamed(
            user=request.user, prompt=chat.prompt, ip_address=ip_address, options=chat.options
        )
        response = StreamingHttpResponse(
            _EventStream(stream, chat.include_usage, request), content_type="text/event-stream"
        )
        response["X-Accel-Buffering"] = "no"  # a proxy passes each event on as it comes
        return response


class ModelsView(OpenAIView):
    @extend_schema(
        tags=["openai-compatible"],
        summary="The models this service offers, in OpenAI's list shape",
        responses={200: ModelListSerializer, **openai_error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        models = [
            {"id": model, "object": "model", "created": _OFFERED_SINCE, "owned_by": "system"}
            for model in offered_models()
        ]
        return Response({"object": "list", "data": models})
