from django.urls import re_path

from accounts.api import account_views
from accounts.api import product_views as views

urlpatterns = [
    re_path(r"^register/?$", views.ProductRegisterView.as_view(), name="v1-users-register"),
    re_path(r"^login/?$", views.ProductLoginView.as_view(), name="v1-users-login"),
    re_path(r"^refresh/?$", views.ProductRefreshView.as_view(), name="v1-users-refresh"),
    re_path(r"^logout/?$", views.ProductLogoutView.as_view(), name="v1-users-logout"),
    re_path(r"^profile/?$", views.ProductProfileView.as_view(), name="v1-users-profile"),
    re_path(r"^password/?$", views.ProductPasswordView.as_view(), name="v1-users-password"),
    re_path(r"^login/mfa/?$", views.ProductMfaVerifyView.as_view(), name="v1-users-login-mfa"),
    re_path(r"^email/?$", account_views.EmailChangeView.as_view(), name="v1-users-email"),
    re_path(r"^account/?$", account_views.AccountDeleteView.as_view(), name="v1-users-account"),
]
