"""/media/avatars/<name>.webp: avatar files, read from the storage and served as images.

Public by design: an `<img>` sends no bearer token. The name is 32 random characters
given at each upload, so the URL is known only to those the profile is shown to, and
it dies when the avatar is replaced or removed. Every file here was written by the
service itself (re-encoded WebP); it is still served so that no browser may read it
as anything else: a fixed content type, `nosniff`, and a sandboxing CSP.
"""

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from accounts.avatars import AVATAR_CONTENT_TYPE, AVATAR_EXTENSION, AVATAR_FOLDER

# Names never change content, but a removed avatar should leave shared caches soon.
AVATAR_CACHE_SECONDS = 86_400


@require_safe
def avatar_file(request: HttpRequest, token: str) -> HttpResponse:
    name = f"{AVATAR_FOLDER}/{token}.{AVATAR_EXTENSION}"
    if not default_storage.exists(name):
        return HttpResponseNotFound()  # the envelope middleware words the answer
    etag = f'"{token}"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        response = not_modified
    else:
        response = FileResponse(default_storage.open(name, "rb"), content_type=AVATAR_CONTENT_TYPE)
        response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={AVATAR_CACHE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = "inline"
    return response
