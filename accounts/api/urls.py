"""Routes of accounts: `rest_urlpatterns` under /api/v1/, `v1_urlpatterns` under /v1/users/.

Paths match with or without a trailing slash, so clients never meet a redirect.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from accounts.api import media_views, v1_views
from accounts.api import rest_account_views as account_views
from accounts.api import rest_auth_views as views
from accounts.api import rest_mfa_views as mfa_views
from accounts.api import rest_preferences_views as preference_views
from accounts.api.rest_avatar_views import AvatarView
from accounts.api.rest_roles_views import RoleViewSet
from accounts.api.rest_users_views import UserAdminViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # DRF's argument only takes a bool
router.register("users", UserAdminViewSet, basename="users")
router.register("roles", RoleViewSet, basename="roles")

rest_urlpatterns = [
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
    re_path(r"^users/me/avatar/?$", AvatarView.as_view(), name="users-me-avatar"),
    re_path(r"^users/me/preferences/?$", preference_views.MyPreferencesView.as_view()),
    re_path(
        r"^users/me/preferences/history/?$", preference_views.MyPreferenceHistoryView.as_view()
    ),
    re_path(r"^users/preferences/bulk/?$", preference_views.PreferencesBulkView.as_view()),
    re_path(r"^users/(?P<pk>[0-9]+)/profile/?$", preference_views.UserProfileView.as_view()),
    re_path(r"^users/me/?$", views.MeView.as_view(), name="users-me"),
    re_path(
        r"^users/me/change-password/?$",
        views.ChangePasswordView.as_view(),
        name="users-me-change-password",
    ),
    *router.urls,
]

v1_urlpatterns = [
    re_path(r"^register/?$", v1_views.V1RegisterView.as_view(), name="v1-users-register"),
    re_path(r"^login/?$", v1_views.V1LoginView.as_view(), name="v1-users-login"),
    re_path(r"^refresh/?$", v1_views.V1RefreshView.as_view(), name="v1-users-refresh"),
    re_path(r"^logout/?$", v1_views.V1LogoutView.as_view(), name="v1-users-logout"),
    re_path(r"^profile/?$", v1_views.V1ProfileView.as_view(), name="v1-users-profile"),
    re_path(r"^profile/avatar/?$", v1_views.V1AvatarView.as_view(), name="v1-users-profile-avatar"),
    re_path(r"^password/?$", v1_views.V1PasswordView.as_view(), name="v1-users-password"),
    re_path(r"^login/mfa/?$", v1_views.V1MfaVerifyView.as_view(), name="v1-users-login-mfa"),
    re_path(r"^email/?$", v1_views.EmailChangeView.as_view(), name="v1-users-email"),
    re_path(r"^account/?$", v1_views.AccountDeleteView.as_view(), name="v1-users-account"),
]

# Under MEDIA_URL when it is a path of this service.
media_urlpatterns = [
    re_path(
        r"^avatars/(?P<token>[A-Za-z0-9_-]{32})\.webp$",
        media_views.avatar_file,
        name="avatar-file",
    ),
]
