"""Avatar images: what is accepted, the one file the service keeps of it, and the
deletion of files nobody points to any more.

The type is read from the content by Pillow, opened with only the PNG, JPEG and WebP
decoders, so the file name and the client's content type decide nothing and an SVG,
a GIF or a script renamed `.png` is refused. What is kept is never the upload: the
first frame is decoded, turned upright by its EXIF orientation, scaled to at most
AVATAR_MAX_SIDE pixels a side and written afresh as WebP with no metadata (no EXIF,
no GPS position, no comments, no colour profile).
"""

import io
import secrets
import struct
import warnings
from dataclasses import dataclass

import structlog
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageOps

from accounts.errors import AccountErrorCode
from core.errors import ServiceError, ValidationFailed

AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_MAX_SIDE = 512
AVATAR_ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
# A 2 MB file can declare a huge canvas that decodes to gigabytes (a decompression
# bomb): the dimensions are checked from the header before any pixel is decoded.
AVATAR_MAX_PIXELS = 24_000_000
AVATAR_MAX_INPUT_SIDE = 8000
AVATAR_FOLDER = "avatars"
AVATAR_EXTENSION = "webp"
AVATAR_CONTENT_TYPE = "image/webp"

logger = structlog.get_logger(__name__)

# Pillow's own guard, at the same limit, for every image this process decodes: it
# warns above it and refuses above twice it; the warning is refused here too.
Image.MAX_IMAGE_PIXELS = AVATAR_MAX_PIXELS

# What a damaged file makes Pillow's decoders raise (a truncated file is an OSError).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


class AvatarTooLarge(ServiceError):
    status_code = 413
    code = AccountErrorCode.AVATAR_TOO_LARGE


@dataclass(frozen=True)
class AvatarImage:
    """The re-encoded avatar, ready to store."""

    content: bytes
    width: int
    height: int
    source_format: str


def _refuse_size(size: int) -> None:
    """Only one byte past the limit is read, so the message names the limit, not a size."""
    if size > AVATAR_MAX_BYTES:
        raise AvatarTooLarge(
            f"avatar: the file is over the limit of {AVATAR_MAX_BYTES} bytes (2 MB)."
        )


def _unsupported() -> ValidationFailed:
    return ValidationFailed(
        "avatar: the file is not a PNG, JPEG or WebP image.",
        code=AccountErrorCode.AVATAR_UNSUPPORTED_TYPE,
    )


def _corrupt() -> ValidationFailed:
    return ValidationFailed(
        "avatar: the image is damaged or truncated and cannot be decoded.",
        code=AccountErrorCode.AVATAR_CORRUPT,
    )


def _too_many_pixels() -> ValidationFailed:
    return ValidationFailed(
        f"avatar: the image is too large; at most {AVATAR_MAX_PIXELS} pixels and "
        f"{AVATAR_MAX_INPUT_SIDE} px a side.",
        code=AccountErrorCode.AVATAR_TOO_MANY_PIXELS,
    )


def _open(data: bytes) -> Image.Image:
    """The image, header read only: refused unless PNG, JPEG or WebP of sane dimensions."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=AVATAR_ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels() from error
    except Image.UnidentifiedImageError as error:
        raise _unsupported() from error
    except _DECODE_ERRORS as error:
        raise _corrupt() from error
    width, height = image.size
    if (
        width * height > AVATAR_MAX_PIXELS
        or max(width, height) > AVATAR_MAX_INPUT_SIDE
        or min(width, height) < 1
    ):
        raise _too_many_pixels()
    return image


def avatar_image_prepare(data: bytes) -> AvatarImage:
    """Check an uploaded avatar and re-encode it (see the module docstring).

    413 AVATAR_TOO_LARGE over AVATAR_MAX_BYTES; 400 AVATAR_UNSUPPORTED_TYPE,
    AVATAR_CORRUPT or AVATAR_TOO_MANY_PIXELS otherwise.
    """
    _refuse_size(len(data))
    image = _open(data)
    source_format = image.format
    try:
        # JPEG can decode at a fraction of its size: no full-resolution bitmap in memory.
        image.draft(None, (AVATAR_MAX_SIDE * 2, AVATAR_MAX_SIDE * 2))
        image.load()
        upright = ImageOps.exif_transpose(image)
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        clean = upright.convert("RGBA" if has_alpha else "RGB")
        clean.thumbnail((AVATAR_MAX_SIDE, AVATAR_MAX_SIDE), Image.Resampling.LANCZOS)
        # A fresh image carries the pixels only: nothing of the upload's metadata.
        bare = Image.new(clean.mode, clean.size)
        bare.paste(clean)
        output = io.BytesIO()
        bare.save(output, format="WEBP", quality=85, method=4)
    except _DECODE_ERRORS as error:
        raise _corrupt() from error
    return AvatarImage(
        content=output.getvalue(),
        width=bare.width,
        height=bare.height,
        source_format=source_format,
    )


def avatar_storage_name() -> str:
    """A fresh, unguessable storage name; the URL is the only way to the file."""
    return f"{AVATAR_FOLDER}/{secrets.token_urlsafe(24)}.{AVATAR_EXTENSION}"


def avatar_files_delete_on_commit(names) -> None:
    """Delete stored avatar files once the transaction that let go of them commits
    (at once outside a transaction). A file already gone is no error."""
    names = [name for name in names if name]
    if not names:
        return

    def delete() -> None:
        for name in names:
            default_storage.delete(name)
        logger.info("avatar_files_deleted", count=len(names))

    transaction.on_commit(delete)
