"""The provider's endpoints. The namespace is django-oauth-toolkit's, whose views
reverse their own names; discovery sits at the site root so the issuer is the site."""

from django.urls import path, re_path
from oauth2_provider import views as dot

from oauth import views
from oauth.protocol_views import TenantIntrospectTokenView, refusing_bad_characters

app_name = "oauth2_provider"

urlpatterns = [
    re_path(
        r"^\.well-known/openid-configuration/?$",
        dot.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        dot.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", dot.JwksInfoView.as_view(), name="jwks-info"),
    path("oauth/login/", refusing_bad_characters(views.SignInView.as_view()), name="login"),
    path(
        "oauth/login/mfa/",
        refusing_bad_characters(views.SignInCodeView.as_view()),
        name="login-mfa",
    ),
    path("oauth/social/<slug:provider_name>/", views.SocialStartView.as_view(), name="social"),
    path(
        "oauth/social/<slug:provider_name>/callback/",
        views.SocialCallbackView.as_view(),
        name="social-callback",
    ),
    path(
        "oauth/authorize/", refusing_bad_characters(views.ConsentView.as_view()), name="authorize"
    ),
    path("oauth/token/", refusing_bad_characters(dot.TokenView.as_view()), name="token"),
    path(
        "oauth/revoke/", refusing_bad_characters(dot.RevokeTokenView.as_view()), name="revoke-token"
    ),
    path(
        "oauth/introspect/",
        refusing_bad_characters(TenantIntrospectTokenView.as_view()),
        name="introspect",
    ),
    path("oauth/userinfo/", refusing_bad_characters(dot.UserInfoView.as_view()), name="user-info"),
]
