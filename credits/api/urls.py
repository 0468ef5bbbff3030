from django.urls import re_path

from credits.api import rest_views as views

# Ahead of the account routes: `users/me/…` and `users/<id>/…` here must win.
rest_urlpatterns = [
    re_path(r"^plans/?$", views.PlansView.as_view(), name="plans"),
    re_path(r"^users/me/credits/?$", views.MyCreditsView.as_view(), name="my-credits"),
    re_path(r"^users/me/billing/?$", views.MyBillingView.as_view(), name="my-billing"),
    re_path(
        r"^users/me/billing/history/?$",
        views.MyPlanHistoryView.as_view(),
        name="my-billing-history",
    ),
    re_path(
        r"^users/(?P<user_id>\d+)/credits/?$", views.UserCreditsView.as_view(), name="user-credits"
    ),
    re_path(
        r"^users/(?P<user_id>\d+)/billing/?$", views.UserBillingView.as_view(), name="user-billing"
    ),
    re_path(r"^users/(?P<user_id>\d+)/plan/?$", views.UserPlanView.as_view(), name="user-plan"),
]
