from django.urls import re_path

from events.api.rest_views import EventTypesView

rest_urlpatterns = [
    re_path(r"^events/types/?$", EventTypesView.as_view(), name="event-types"),
]
