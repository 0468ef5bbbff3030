from django.urls import re_path

from gateway.api import schema  # noqa: F401  (registers the OpenAPI scheme of the key-only door)
from gateway.api.openai_views import ChatCompletionsView, ModelsView
from gateway.api.v1_views import BatchView, CompletionView

v1_urlpatterns = [
    re_path(r"^prompt/completions/?$", CompletionView.as_view(), name="v1-completions"),
    re_path(r"^batch/process/?$", BatchView.as_view(), name="v1-batch"),
    re_path(r"^chat/completions/?$", ChatCompletionsView.as_view(), name="v1-chat-completions"),
    re_path(r"^models/?$", ModelsView.as_view(), name="v1-models"),
]
