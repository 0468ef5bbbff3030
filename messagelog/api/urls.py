from django.urls import re_path

from messagelog.api.rest_views import MyMessagesView

# Paths match with or without a trailing slash, so clients never meet a redirect.
rest_urlpatterns = [
    re_path(r"^users/me/messages/?$", MyMessagesView.as_view(), name="my-messages"),
]
