from django.urls import re_path

from accounts.api import views

# Paths match with or without a trailing slash, so clients never meet a redirect.
urlpatterns = [
    re_path(r"^auth/register/?$", views.RegisterView.as_view(), name="auth-register"),
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(
        r"^auth/change-password/?$", views.ChangePasswordView.as_view(), name="auth-change-password"
    ),
    re_path(r"^users/me/?$", views.MeView.as_view(), name="users-me"),
    re_path(
        r"^users/me/change-password/?$",
        views.ChangePasswordView.as_view(),
        name="users-me-change-password",
    ),
]
