from django.urls import re_path

from credits.api.rest_views import MyCreditsView, UserCreditsView

# Ahead of the account routes: `users/me/credits` and `users/<id>/credits` must win.
rest_urlpatterns = [
    re_path(r"^users/me/credits/?$", MyCreditsView.as_view(), name="my-credits"),
    re_path(r"^users/(?P<user_id>\d+)/credits/?$", UserCreditsView.as_view(), name="user-credits"),
]
