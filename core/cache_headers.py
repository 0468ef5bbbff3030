"""API answers are never stored by browsers or proxies.

Logins, refreshes, MFA steps, password changes, API-key creation and MFA enrolment
answer with tokens and secrets, and every other API answer is one account's data:
none of it belongs in a browser's disk cache or a shared proxy cache. Outermost but
for the request id, so that answers made by other middleware (limits, blocks,
errors) carry the header too.
"""

from django.utils.cache import patch_cache_control

API_PATH_PREFIXES = ("/api/", "/v1/")


class NoStoreApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(API_PATH_PREFIXES):
            patch_cache_control(response, no_store=True)
        return response
