from django.urls import re_path

from accounts.api import account_views, mfa_views, views

# Paths match with or without a trailing slash, so clients never meet a redirect.
urlpatterns = [
    re_path(r"^auth/register/?$", views.RegisterView.as_view(), name="auth-register"),
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(
        r"^auth/change-password/?$", views.ChangePasswordView.as_view(), name="auth-change-password"
    ),
    re_path(r"^auth/mfa/totp/setup/?$", mfa_views.TotpSetupView.as_view(), name="mfa-setup"),
    re_path(r"^auth/mfa/totp/confirm/?$", mfa_views.TotpConfirmView.as_view(), name="mfa-confirm"),
    re_path(r"^auth/mfa/verify/?$", mfa_views.MfaVerifyView.as_view(), name="mfa-verify"),
    re_path(
        r"^auth/mfa/recovery-codes/?$", mfa_views.RecoveryCodesView.as_view(), name="mfa-codes"
    ),
    re_path(r"^auth/mfa/disable/?$", mfa_views.MfaDisableView.as_view(), name="mfa-disable"),
    re_path(r"^auth/verify-email/?$", account_views.VerifyEmailView.as_view()),
    re_path(r"^auth/verify-email/resend/?$", account_views.ResendVerificationView.as_view()),
    re_path(r"^auth/reset-password/?$", account_views.PasswordResetView.as_view()),
    re_path(r"^auth/reset-password/confirm/?$", account_views.PasswordResetConfirmView.as_view()),
    re_path(r"^auth/recover-account/?$", account_views.RecoverAccountView.as_view()),
    re_path(r"^auth/recover-account/confirm/?$", account_views.RecoverAccountConfirmView.as_view()),
    re_path(r"^users/me/sessions/?$", account_views.SessionListView.as_view()),
    re_path(
        r"^users/me/sessions/revoke-others/?$", account_views.RevokeOtherSessionsView.as_view()
    ),
    re_path(
        r"^users/me/sessions/(?P<session_id>[0-9a-f-]{36})/?$",
        account_views.SessionDetailView.as_view(),
    ),
    re_path(r"^users/me/export/?$", account_views.ExportView.as_view()),
    re_path(r"^users/me/?$", views.MeView.as_view(), name="users-me"),
    re_path(
        r"^users/me/change-password/?$",
        views.ChangePasswordView.as_view(),
        name="users-me-change-password",
    ),
]
