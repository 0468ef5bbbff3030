"""Protocol endpoints that django-oauth-toolkit serves, narrowed to one tenant.

Introspection (RFC 7662) answers only about tokens of the caller's own tenant: a
client of another tenant learns `{"active": false}`, as for an unknown token. It is
POST only, as RFC 7662 says: a token in a query string ends up in logs.
"""

import calendar
import functools
import hashlib

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views.mixins import OAuthLibMixin, ScopedResourceMixin
from oauthlib.common import Request as OauthlibRequest

from core.parsers import has_bad_characters
from oauth.validators import access_token_usable


def refusing_bad_characters(view):
    """A form field holding NUL (or a lone surrogate) is a bad request: PostgreSQL
    text cannot hold it, so it must never reach a query. The path, query string and
    headers are RequestCharactersMiddleware's; form bodies are checked here."""

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        if request.method == "POST" and any(
            has_bad_characters(text)
            for name, values in request.POST.lists()
            for text in (name, *values)
        ):
            return JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "A field contains NUL or a lone UTF-16 surrogate.",
                },
                status=400,
            )
        return view(request, *args, **kwargs)

    return checked


@method_decorator(csrf_exempt, name="dispatch")
class TenantIntrospectTokenView(ScopedResourceMixin, OAuthLibMixin, View):
    """A confidential client authenticates with its secret, or a token carrying the
    `introspection` scope (a machine client's client-credentials token)."""

    required_scopes = ["introspection"]

    def dispatch(self, request, *args, **kwargs):
        if request.method.upper() == "OPTIONS":
            return super().dispatch(request, *args, **kwargs)
        self.caller = self.authenticated_client(request)
        if self.caller is None:
            valid, oauth_request = self.verify_request(request)
            if not valid:
                return self.unauthenticated_response(request, oauth_request)
            self.caller = oauth_request.client
        if self.caller is None:
            return JsonResponse({"error": "invalid_client"}, status=401)
        return super().dispatch(request, *args, **kwargs)

    def authenticated_client(self, request):
        """The confidential application whose secret was proven (Basic, else the
        body), or None. The caller is the client the validator authenticated, never
        one merely named in a header whose secret was wrong; a public client has no
        secret to prove (its empty one would match)."""
        core = self.get_oauthlib_core()
        uri, http_method, body, headers = core._extract_params(request)
        oauth_request = OauthlibRequest(uri, http_method, body, headers)
        if not core.server.request_validator.authenticate_client(oauth_request):
            return None
        client = oauth_request.client
        return client if client.client_type == client.CLIENT_CONFIDENTIAL else None

    def post(self, request, *args, **kwargs):
        return self.answer(request.POST.get("token"))

    def answer(self, token_value: str | None):
        if not token_value:
            return JsonResponse(
                {"error": "invalid_request", "error_description": "Token parameter is missing."},
                status=400,
            )
        checksum = hashlib.sha256(token_value.encode("utf-8")).hexdigest()
        token = (
            get_access_token_model()
            .objects.select_related("user", "application")
            .filter(token_checksum=checksum)
            .first()
        )
        inactive = JsonResponse({"active": False})
        if (
            token is None
            or token.application is None
            or token.application.tenant_id != self.caller.tenant_id
            or not token.is_valid()
            or not access_token_usable(token)
        ):
            return inactive
        data = {
            "active": True,
            "scope": token.scope,
            "exp": int(calendar.timegm(token.expires.timetuple())),
            "client_id": token.application.client_id,
            "token_type": "Bearer",
        }
        if token.user is not None:
            data["username"] = token.user.get_username()
            data["sub"] = str(token.user.pk)
        return JsonResponse(data)
