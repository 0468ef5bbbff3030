"""Protocol endpoints that django-oauth-toolkit serves, narrowed to one tenant.

Introspection (RFC 7662) answers only about tokens of the caller's own tenant: a
client of another tenant learns `{"active": false}`, as for an unknown token.
"""

import base64
import binascii
import calendar
import hashlib
from urllib.parse import unquote_plus

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.views.mixins import OAuthLibMixin, ScopedResourceMixin

from oauth.validators import access_token_usable


def _basic_client_id(request) -> str | None:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return unquote_plus(decoded.partition(":")[0])


@method_decorator(csrf_exempt, name="dispatch")
class TenantIntrospectTokenView(ScopedResourceMixin, OAuthLibMixin, View):
    """A confidential client authenticates with its secret, or a token carrying the
    `introspection` scope (a machine client's client-credentials token)."""

    required_scopes = ["introspection"]

    def dispatch(self, request, *args, **kwargs):
        if request.method.upper() == "OPTIONS":
            return super().dispatch(request, *args, **kwargs)
        if self.authenticate_client(request):
            client_id = _basic_client_id(request) or request.POST.get("client_id")
            self.caller = get_application_model().objects.filter(client_id=client_id).first()
        else:
            valid, oauth_request = self.verify_request(request)
            if not valid:
                return self.unauthenticated_response(request, oauth_request)
            self.caller = oauth_request.client
        if self.caller is None:
            return JsonResponse({"error": "invalid_client"}, status=401)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.answer(request.GET.get("token"))

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
