"""Uploaded photos (cases, projects): only real images, size-capped, stripped of their EXIF block."""

import io

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import DomainError

IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


def validate_photo(upload):
    """Refuse anything but a real image within CASE_PHOTO_MAX_BYTES. Rewinds the file."""
    from PIL import Image, UnidentifiedImageError

    limit = settings.CASE_PHOTO_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size > limit:
        raise DomainError(
            _("The photo “%(name)s” is too large (at most %(mb)s MB).")
            % {"name": getattr(upload, "name", ""), "mb": round(limit / 1024 / 1024, 1)},
            code="photo_too_large",
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        fmt = None
    upload.seek(0)
    if fmt not in IMAGE_FORMATS:
        raise DomainError(
            _("“%(name)s” is not a photo (JPEG, PNG, WebP or GIF).") % {"name": getattr(upload, "name", "")},
            code="not_an_image",
        )


def without_metadata(upload):
    """The photo re-saved without its EXIF block (GPS position, phone model, time taken).

    Photos from phones carry where they were taken, often the reporter's home.
    The orientation the EXIF block gave is applied to the pixels first, so the
    photo still stands the right way up. GIFs carry no EXIF and are kept as sent.
    """
    from django.core.files.base import ContentFile
    from PIL import Image, ImageOps

    upload.seek(0)
    with Image.open(upload) as image:
        fmt = "JPEG" if image.format == "MPO" else image.format
        if fmt == "GIF":
            upload.seek(0)
            return upload
        upright = ImageOps.exif_transpose(image)
        if fmt == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        options = {"quality": 90, "optimize": True} if fmt in ("JPEG", "WEBP") else {}
        buffer = io.BytesIO()
        # Pillow writes an EXIF block only when given one.
        upright.save(buffer, format=fmt, **options)
    return ContentFile(buffer.getvalue(), name=getattr(upload, "name", None) or f"photo.{fmt.lower()}")
