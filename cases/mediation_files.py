"""Evidence and signed scans attached to a mediation file.

Only PDFs and real images (portal/photos.py: checked, EXIF stripped) within
MEDIATION_FILE_MAX_BYTES (the upload handler stops reading there too); the type is read from the content, never from the
name or the browser's claim. The files are served by the scoped view only.
"""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.photos import validate_photo, without_metadata
from portal.text import clean_text

from .mediation import _mediation_for
from .models import CaseEvent, FileKind, MediationFile
from .services import _event, _now

def max_bytes():
    return settings.MEDIATION_FILE_MAX_BYTES


def _size(upload):
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    return size


def _is_pdf(upload):
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    return head == b"%PDF-"


def checked_upload(upload):
    """(content to store, content type) or DomainError: too large, or neither a PDF nor an image."""
    name = getattr(upload, "name", "") or ""
    limit = max_bytes()
    if _size(upload) > limit:
        raise DomainError(_("“%(name)s” is too large (at most %(mb)s MB).")
                          % {"name": name, "mb": round(limit / 1024 / 1024, 1)}, code="file_too_large")
    if _is_pdf(upload):
        return upload, "application/pdf"
    try:
        validate_photo(upload)
    except DomainError:
        raise DomainError(_("“%(name)s” is neither a PDF nor a photo (JPEG, PNG, WebP or GIF).") % {"name": name},
                          code="bad_file_type") from None
    from PIL import Image

    upload.seek(0)
    with Image.open(upload) as image:
        kind = (image.format or "").lower()
    upload.seek(0)
    content_type = {"jpeg": "image/jpeg", "mpo": "image/jpeg", "png": "image/png", "webp": "image/webp",
                    "gif": "image/gif"}[kind]
    return without_metadata(upload), content_type


@transaction.atomic
def mediation_attach_file(*, case, acting_user, upload, kind, description="", now=None):
    """Attach evidence or a signed scan (调解申请书, 调解协议书 signed by the parties and the mediator)."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    if kind not in FileKind.values:
        raise DomainError(_("Unknown kind of file."), code="bad_kind")
    if upload is None:
        raise DomainError(_("Choose a file."), code="no_file")
    if kind == FileKind.SIGNED_AGREEMENT and not mediation.has_agreement:
        raise DomainError(_("There is no agreement yet to attach a signed copy of."), code="no_agreement")
    if kind == FileKind.SIGNED_APPLICATION and not mediation.is_open:
        raise DomainError(_("Open the mediation file before attaching its signed application."), code="not_open")
    description = clean_text(description, field=_("description"), required=False, limit=200)
    content, content_type = checked_upload(upload)
    name = (getattr(upload, "name", "") or "file")[-200:]
    stored = MediationFile(mediation=mediation, kind=kind, name=name, content_type=content_type,
                           size=_size(content), description=description, uploaded_by=acting_user, uploaded_at=now)
    stored.file.save(name, content, save=False)
    stored.save()
    # Storage writes are not transactional: a rollback after this point leaves an orphan file, never a row
    # without its file.
    _event(case, CaseEvent.Action.MEDIATION, actor=acting_user, now=now, data={"file": stored.pk, "kind": kind})
    return stored
