from django.urls import re_path

from gateway.api.v1_views import BatchView, CompletionView

v1_urlpatterns = [
    re_path(r"^prompt/completions/?$", CompletionView.as_view(), name="v1-completions"),
    re_path(r"^batch/process/?$", BatchView.as_view(), name="v1-batch"),
]
