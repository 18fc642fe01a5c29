"""Photos coming in and going out: the capped upload handler every page with a photo
field installs before the body is read, and a stored photo served with the type its
bytes say. Used by the public, worker, chief, mediation and admin pages of cases."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, Http404
from django.views.decorators.csrf import csrf_exempt, csrf_protect


class CappedUploadHandler(FileUploadHandler):
    """Stop reading an uploaded file as soon as it passes CASE_PHOTO_MAX_BYTES.

    The file is skipped (never written to disk in full) and its name noted on
    the request, so the form can say which photo was too large.
    """

    def __init__(self, request, limit):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.refused_uploads.append(self.file_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def capped_uploads(view=None, *, setting="CASE_PHOTO_MAX_BYTES"):
    """Install the capped upload handler before anything reads the body, then check CSRF.

    The CSRF middleware would read the body first (and freeze the handlers), so
    the view is exempted from it and protected by the decorator inside instead.
    `setting` names the cap (the mediation file's evidence has its own).
    """
    if view is None:
        return lambda decorated: capped_uploads(decorated, setting=setting)
    protected = csrf_protect(view)

    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        request.refused_uploads = []
        request.upload_handlers.insert(0, CappedUploadHandler(request, getattr(settings, setting)))
        return protected(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def photos_of(data):
    """The uploaded photo of a form's cleaned data, as the list the services take."""
    photo = data.get("photo")
    return [photo] if photo else []


def image_response(photo):
    """Serve a stored photo with the type its bytes say (never what its file name says)."""
    try:
        handle = photo.image.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    head = handle.read(16)
    handle.seek(0)
    if head.startswith(b"\xff\xd8\xff"):
        content_type = "image/jpeg"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        content_type = "image/png"
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        content_type = "image/gif"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        content_type = "image/webp"
    else:
        handle.close()
        raise Http404
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
