"""Import and export pages: upload, preview, confirm, progress, job list, template, export.

Jobs are read through `import_jobs_visible_to` (someone else's job answers
404), residents through `residents_visible_to` (in exporting.py). Each view
makes one call into residents/importing/ or residents/exporting.py and turns
a DomainError into a form error or a message. No page shows a full ID number
or phone: errors carry masked values only.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.errors import DomainError

from . import exporting, importing
from .forms_import import ExportForm, ImportConfirmForm, ImportUploadForm
from .models import ImportJob
from .selectors import import_jobs_visible_to

LAYOUT = "layouts/staff.html"
# How many of the stored problems the preview lists.
ERRORS_SHOWN = 100
JOBS_SHOWN = 50


def _render(request, template, context, status=200):
    return render(request, template, {"layout": LAYOUT, "audience": "staff", **context}, status=status)


def _require_importer(user):
    """Someone who looks after residents somewhere; anyone else finds no such page."""
    if not importing.scope_edits_somewhere(user):
        raise Http404


class _CappedUploadHandler(FileUploadHandler):
    """Stop reading an upload once it passes RESIDENT_IMPORT_MAX_BYTES (it never reaches the disk in full)."""

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.RESIDENT_IMPORT_MAX_BYTES:
            self.request.refused_uploads.append(self.file_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def _capped_uploads(view):
    # The CSRF middleware would read the body (and freeze the handlers) first: exempt the view
    # from it and check the token inside, after the handler is installed.
    protected = csrf_protect(view)

    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        request.refused_uploads = []
        request.upload_handlers.insert(0, _CappedUploadHandler(request))
        return protected(request, *args, **kwargs)

    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return wrapper


@login_required
@require_GET
def import_list(request):
    _require_importer(request.user)
    jobs = list(import_jobs_visible_to(request.user).select_related("created_by")[:JOBS_SHOWN])
    return _render(request, "residents/import/list.html", {"jobs": jobs})


@login_required
@_capped_uploads
@require_http_methods(["GET", "POST"])
def import_upload(request):
    """Upload a spreadsheet; every row is checked and the preview shown (nothing is written yet)."""
    _require_importer(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST":
        valid = form.is_valid()
        if request.refused_uploads:
            form.errors["file"] = form.error_class([importing.too_large_message()])
        elif valid:
            try:
                job = importing.import_preview(upload=form.cleaned_data["file"], grid=form.cleaned_data["grid"],
                                               acting_user=request.user, now=timezone.now())
            except DomainError as error:
                form.add_error("grid" if error.code == "forbidden" else "file", error.message)
            else:
                return redirect("residents:import_detail", pk=job.pk)
    return _render(request, "residents/import/upload.html", {
        "form": form, "max_mb": settings.RESIDENT_IMPORT_MAX_BYTES // (1024 * 1024),
        "columns": importing.COLUMNS,
    }, status=400 if form.errors else 200)


def _job_or_404(request, pk):
    return get_object_or_404(import_jobs_visible_to(request.user), pk=pk)


def _problems(job):
    errors = [e for e in job.errors if not e.get("warning")]
    warnings = [e for e in job.errors if e.get("warning")]
    return errors[:ERRORS_SHOWN], warnings[:ERRORS_SHOWN], len(errors), len(warnings)


@login_required
@require_GET
def import_detail(request, pk):
    """The preview (checked, waiting for the user's choice), the progress, or the outcome."""
    job = _job_or_404(request, pk)
    errors, warnings, error_count, warning_count = _problems(job)
    error_rows = job.total_rows - job.valid_rows
    return _render(request, "residents/import/detail.html", {
        "job": job, "errors": errors, "warnings": warnings, "error_count": error_count,
        "warning_count": warning_count, "error_rows": error_rows,
        "form": ImportConfirmForm(job=job, initial={} if error_rows else {"mode": ImportJob.Mode.ALL_OR_NOTHING}),
        "background": importing.needs_worker(job),
        "in_progress": job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
    })


@login_required
@require_POST
def import_confirm(request, pk):
    job = _job_or_404(request, pk)
    form = ImportConfirmForm(request.POST, job=job)
    if not form.is_valid():
        messages.error(request, _("Choose how to import."))
        return redirect("residents:import_detail", pk=job.pk)
    try:
        job = importing.import_confirm(job=job, mode=form.cleaned_data["mode"], acting_user=request.user,
                                       now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("residents:import_detail", pk=job.pk)
    if job.status == ImportJob.Status.DONE:
        messages.success(request, _("Imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.")
                         % {"created": job.created_count, "updated": job.updated_count,
                            "unchanged": job.unchanged_count})
    elif job.status == ImportJob.Status.FAILED:
        messages.error(request, job.message)
    return redirect("residents:import_detail", pk=job.pk)


@login_required
@require_GET
def import_status(request, pk):
    """What the progress bar polls (static/js/residents_import.js)."""
    job = _job_or_404(request, pk)
    response = JsonResponse({
        "status": job.status, "status_label": job.get_status_display(), "processed": job.processed_rows,
        "total": job.total_rows, "percent": job.progress_percent, "created": job.created_count,
        "updated": job.updated_count, "unchanged": job.unchanged_count,
        "finished": job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED),
        "url": reverse("residents:import_detail", args=[job.pk]),
    })
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def import_template(request, file_format):
    _require_importer(request.user)
    if file_format not in exporting.FORMATS:
        raise Http404
    content = importing.template_file(file_format)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8" if file_format == "csv" else
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="residents-template.{file_format}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def export(request):
    """Export the residents the user reaches, filtered like the list; masked unless a full export is asked."""
    _require_importer(request.user)
    if request.method == "POST":
        form = ExportForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = exporting.residents_export(
                    acting_user=request.user, file_format=data["file_format"],
                    filters=exporting.clean_filters(data), masked=not data.get("unmasked"),
                    reason=data.get("reason", ""), now=timezone.now())
            except DomainError as error:
                form.add_error("reason" if error.code == "no_reason" and "reason" in form.fields else None,
                               error.message)
            else:
                response = FileResponse(result.handle, as_attachment=True, filename=result.name,
                                        content_type=result.content_type)
                response["Cache-Control"] = "private, no-store"
                return response
        status = 400
    else:
        initial = {"file_format": "xlsx", **exporting.clean_filters(request.GET)}
        form = ExportForm(initial=initial, user=request.user)
        status = 200
    return _render(request, "residents/import/export.html", {"form": form}, status=status)
