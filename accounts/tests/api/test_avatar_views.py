"""The avatar through HTTP: upload, what is kept of it, how it is served, who may
change it, and that its file leaves the storage with it."""

import io
import re
import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from accounts.avatars import AVATAR_MAX_BYTES
from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, admin_change_form, assert_envelope, bearer, login
from security.tests.helpers import audit_row

AVATAR_URL = "/api/v1/users/me/avatar"
V1_AVATAR_URL = "/v1/users/profile/avatar"
GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads go to a temporary folder, never into the project."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a request's on-commit work (the old file's deletion) as a real commit would."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def image_bytes(fmt: str, size=(800, 600), mode="RGB", **save) -> bytes:
    image = Image.new(mode, size, (200, 30, 90) if mode == "RGB" else None)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (10, 120, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares a huge canvas (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def upload(api_client, auth, content: bytes, name="me.png", content_type="image/png", url=None):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return api_client.put(url or AVATAR_URL, {"avatar": file}, format="multipart", **auth)


def served(client, avatar_url: str):
    response = client.get(avatar_url)
    body = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response, body


def stored_files(media_root) -> list:
    folder = media_root / "avatars"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("fmt", "extra"),
    [("PNG", {}), ("JPEG", {"quality": 90}), ("WEBP", {})],
)
def test_avatar_upload_accepts_png_jpeg_webp_and_serves_a_bounded_webp(
    api_client, client, user, auth, media_root, fmt, extra
):
    response = upload(api_client, auth, image_bytes(fmt, (1600, 1200), **extra), name="a.img")

    assert response.status_code == 200, response.json()
    avatar_url = response.json()["avatar_url"]
    # A random name, not the user's id or the uploaded file's name.
    assert re.fullmatch(r"/media/avatars/[A-Za-z0-9_-]{32}\.webp", avatar_url)
    file_response, body = served(client, avatar_url)
    assert file_response.status_code == 200
    assert file_response["Content-Type"] == "image/webp"
    assert file_response["X-Content-Type-Options"] == "nosniff"
    assert "max-age" in file_response["Cache-Control"]
    kept = Image.open(io.BytesIO(body))
    assert kept.format == "WEBP" and max(kept.size) == 512 and kept.size == (512, 384)
    assert api_client.get(ME_URL, **auth).json()["avatar_url"] == avatar_url
    row = audit_row(action="user.avatar_set", target_id=str(user.pk))
    assert row.actor_id == user.pk and row.changes == {"avatar": {"before": False, "after": True}}


def test_avatar_type_comes_from_the_content_not_the_name_or_content_type(api_client, auth):
    as_jpg = upload(
        api_client, auth, image_bytes("PNG"), name="photo.jpg", content_type="image/jpeg"
    )
    text_as_png = upload(api_client, auth, b"just some text\n" * 20, name="photo.png")

    assert as_jpg.status_code == 200
    assert as_jpg.json()["avatar_url"].endswith(".webp")
    assert_envelope(text_as_png, 400, "AVATAR_UNSUPPORTED_TYPE")


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "x.svg",
        ),
        (image_bytes("GIF", (40, 40)), "x.gif"),
        (image_bytes("BMP", (40, 40)), "x.png"),
    ],
)
def test_avatar_refuses_svg_gif_and_other_types(api_client, user, auth, content, name):
    response = upload(api_client, auth, content, name=name, content_type="image/png")

    body = assert_envelope(response, 400, "AVATAR_UNSUPPORTED_TYPE")
    assert "PNG, JPEG or WebP" in body["message"]
    assert User.objects.get(pk=user.pk).avatar == ""


def test_avatar_strips_exif_and_gps(api_client, client, auth):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test's own premise

    response = upload(api_client, auth, original, name="gps.jpg", content_type="image/jpeg")

    _, body = served(client, response.json()["avatar_url"])
    kept = Image.open(io.BytesIO(body))
    assert not kept.getexif()
    assert "exif" not in kept.info and "icc_profile" not in kept.info
    assert b"PhoneMaker" not in body


def test_avatar_applies_the_exif_orientation_before_stripping_it(api_client, client, auth):
    image = Image.new("RGB", (600, 300), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)

    response = upload(api_client, auth, buffer.getvalue(), content_type="image/jpeg")

    _, body = served(client, response.json()["avatar_url"])
    assert Image.open(io.BytesIO(body)).size == (256, 512)


@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (6000, 6000), (9000, 10)])
def test_avatar_refuses_huge_dimensions(api_client, user, auth, media_root, width, height):
    response = upload(api_client, auth, png_declaring(width, height))

    assert_envelope(response, 400, "AVATAR_TOO_MANY_PIXELS")
    assert stored_files(media_root) == []


def test_avatar_refuses_a_truncated_image(api_client, auth, media_root):
    noisy = Image.effect_noise((700, 700), 60).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, format="JPEG")

    response = upload(api_client, auth, buffer.getvalue()[:-4000], content_type="image/jpeg")

    assert_envelope(response, 400, "AVATAR_CORRUPT")
    assert stored_files(media_root) == []


def test_avatar_over_two_megabytes_is_413(api_client, user, auth, media_root):
    # A valid PNG followed by padding: the size alone refuses it, before any decoding.
    content = image_bytes("PNG") + b"\x00" * (AVATAR_MAX_BYTES + 1)

    response = upload(api_client, auth, content)

    body = assert_envelope(response, 413, "AVATAR_TOO_LARGE")
    # Only the first 2 MB and one byte are read: the message states the limit, never a size.
    assert body["message"] == "avatar: the file is over the limit of 2097152 bytes (2 MB)."
    assert User.objects.get(pk=user.pk).avatar == ""
    assert stored_files(media_root) == []


def test_avatar_upload_without_the_file_field_is_400(api_client, auth):
    response = api_client.put(AVATAR_URL, {"picture": "x"}, format="multipart", **auth)
    as_json = api_client.put(AVATAR_URL, {"avatar": "x"}, format="json", **auth)

    assert_envelope(response, 400, "AVATAR_MISSING")
    assert_envelope(as_json, 415)


def test_replacing_the_avatar_deletes_the_old_file(
    api_client, client, user, auth, media_root, commit
):
    first = commit(lambda: upload(api_client, auth, image_bytes("PNG"))).json()["avatar_url"]
    second = commit(lambda: upload(api_client, auth, image_bytes("JPEG"))).json()["avatar_url"]

    assert first != second
    assert stored_files(media_root) == [second.rsplit("/", 1)[1]]
    assert served(client, first)[0].status_code == 404
    assert served(client, second)[0].status_code == 200


def test_removing_the_avatar_deletes_its_file_and_is_audited(
    api_client, client, user, auth, media_root, commit
):
    avatar_url = commit(lambda: upload(api_client, auth, image_bytes("PNG"))).json()["avatar_url"]

    removed = commit(lambda: api_client.delete(AVATAR_URL, **auth))
    again = commit(lambda: api_client.delete(AVATAR_URL, **auth))

    assert removed.status_code == 200 and removed.json()["avatar_url"] is None
    assert again.status_code == 200
    assert stored_files(media_root) == []
    assert served(client, avatar_url)[0].status_code == 404
    row = audit_row(action="user.avatar_remove", target_id=str(user.pk))
    assert row.changes == {"avatar": {"before": True, "after": False}}


def test_v1_profile_surface_sets_and_removes_the_avatar(api_client, user, auth):
    put = upload(api_client, auth, image_bytes("WEBP"), url=V1_AVATAR_URL)
    profile = api_client.get("/v1/users/profile", **auth).json()
    removed = api_client.delete(V1_AVATAR_URL, **auth)

    assert put.status_code == 200 and put.json()["success"] is True
    assert put.json()["user"]["avatar_url"] == profile["user"]["avatar_url"]
    assert profile["user"]["avatar_url"].endswith(".webp")
    assert removed.json()["user"]["avatar_url"] is None


def test_another_user_cannot_overwrite_or_delete_someone_elses_avatar(
    api_client, user, auth, commit
):
    mine = commit(lambda: upload(api_client, auth, image_bytes("PNG"))).json()["avatar_url"]
    other = UserFactory()
    other_auth = bearer(login(api_client, other.email)["access_token"])

    theirs = upload(api_client, other_auth, image_bytes("JPEG")).json()["avatar_url"]
    commit(lambda: api_client.delete(AVATAR_URL, **other_auth))
    # The avatar routes name no user: a user id in the path is no route at all.
    by_id = api_client.put(f"/api/v1/users/{user.pk}/avatar", {}, format="multipart", **other_auth)

    assert theirs != mine
    assert api_client.get(ME_URL, **auth).json()["avatar_url"] == mine
    assert by_id.status_code in (404, 405)


def test_a_read_only_guest_cannot_set_or_remove_an_avatar(api_client, db, media_root):
    guest = UserFactory(role=Role.objects.get(name="guest", tenant__isnull=True))
    guest_auth = bearer(login(api_client, guest.email)["access_token"])

    put = upload(api_client, guest_auth, image_bytes("PNG"))
    delete = api_client.delete(AVATAR_URL, **guest_auth)

    assert_envelope(put, 403, "ROLE_READ_ONLY")
    assert_envelope(delete, 403, "ROLE_READ_ONLY")
    assert stored_files(media_root) == []


def test_erasing_the_account_removes_the_avatar_file(
    admin_client, api_client, user, auth, media_root, commit
):
    avatar_url = commit(lambda: upload(api_client, auth, image_bytes("PNG"))).json()["avatar_url"]
    assert len(stored_files(media_root)) == 1
    chosen = {"action": "erase_users", "_selected_action": [user.pk]}

    erased = commit(
        lambda: admin_client.post(
            "/admin/accounts/user/", {**chosen, "erase_confirmed": "yes", "reason": "request #7"}
        )
    )

    assert erased.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert stored_files(media_root) == []
    assert served(api_client, avatar_url)[0].status_code == 404


def test_the_personal_export_names_the_avatar_url(api_client, auth):
    avatar_url = upload(api_client, auth, image_bytes("PNG")).json()["avatar_url"]

    export = api_client.get("/api/v1/users/me/export", **auth)

    assert export.status_code == 200
    assert export.json()["profile"]["avatar_url"] == avatar_url


def test_unknown_avatar_names_are_404(client, db):
    assert client.get("/media/avatars/" + "a" * 32 + ".webp").status_code == 404
    assert client.get("/media/avatars/../../manage.py").status_code == 404


def test_the_purge_of_a_long_deleted_account_clears_phone_and_avatar(
    api_client, user, auth, media_root, commit, settings
):
    commit(lambda: upload(api_client, auth, image_bytes("PNG")))
    api_client.patch(ME_URL, {"phone": "+14155552671"}, format="json", **auth)
    long_ago = timezone.now() - timedelta(days=settings.ACCOUNT_RECOVERY_DAYS + 1)
    User.objects.filter(pk=user.pk).update(status=User.Status.DELETED, deleted_at=long_ago)

    commit(lambda: call_command("run_maintenance", stdout=io.StringIO()))

    purged = User.objects.get(pk=user.pk)
    assert purged.purged_at is not None
    assert (purged.phone, purged.avatar) == ("", "")
    assert stored_files(media_root) == []


def test_staff_remove_an_avatar_on_the_admin_user_page(
    admin_client, api_client, user, auth, media_root, commit
):
    commit(lambda: upload(api_client, auth, image_bytes("PNG")))
    url = f"/admin/accounts/user/{user.pk}/change/"
    page = admin_client.get(url).content.decode()

    saved = commit(
        lambda: admin_client.post(url, admin_change_form(admin_client, user, remove_avatar="on"))
    )

    assert '<img src="/media/avatars/' in page
    assert saved.status_code == 302
    assert User.objects.get(pk=user.pk).avatar == ""
    assert stored_files(media_root) == []
    assert audit_row(action="user.avatar_remove", target_id=str(user.pk)).actor_label == "boss"
