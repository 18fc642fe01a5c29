"""The case's workflow in the admin: the moves as buttons on the case change page,
its photos through a scoped view, and the staff's to-do on the admin index.

Community staff work in the admin (issue #21). The buttons are the very moves
of the case page at /cases/<id>/: the same table of actions (cases.views.ACTIONS,
each one service call), the same forms, and the names come from
`workflow.allowed(case, user)`, the one transition table. What differs is only
the page around them and where a move returns to.

- A case outside the staffer's managing places answers 404 (the admin's scoped
  queryset), for the page, each move and each photo alike.
- A move the table does not allow this user answers 403 and changes nothing;
  a move allowed by actor but refused by the case's state or a guard comes
  back as a message, as on the case page.
- Photos are served by `photo_view` after the same scope check: never a
  /media/ URL, which has no owner check (and is not served at all).
"""

from types import SimpleNamespace

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grid.selectors import is_manager
from portal.errors import DomainError

from . import forms as case_forms
from . import uploads, views, workflow
from .models import CasePhoto, Status
from .selectors import cases_visible_to, intakes_visible_to, overdue_q


def image_response(photo_file):
    """The image behind `photo_file` (a FieldFile), typed by its bytes: cases.views' own response."""
    return uploads.image_response(SimpleNamespace(image=photo_file))


def thumbnail(url, alt):
    return format_html('<a href="{}" class="portal-thumb" target="_blank" rel="noopener">'
                       '<img src="{}" alt="{}" width="96" height="96"></a>', url, url, alt)


class CaseWorkflowAdminMixin:
    """For CaseAdmin: the move buttons, their URL, the photo URL and a page titled by the case."""

    change_form_template = "admin/cases/case/change_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/act/<slug:name>/", wrap(uploads.capped_uploads(self.act_view)),
                 name="%s_%s_act" % info),
            path("<path:object_id>/photos/<int:photo_id>/", wrap(self.photo_view), name="%s_%s_photo" % info),
        ] + super().get_urls()

    def _case_or_404(self, request, object_id):
        # The admin's own scope (managing posts), as the change page itself.
        case = self.get_queryset(request).select_related(None).select_related(
            "category", "assignee").filter(pk=object_id).first() if str(object_id).isdigit() else None
        if case is None:
            raise Http404
        return case

    def workflow_actions(self, request, case):
        """The moves `request.user` may take on `case` now, in the case page's order, with their forms."""
        user = request.user
        allowed = set(workflow.allowed(case, user))
        actions = []
        for name in views.ACTION_ORDER:
            if name not in allowed or name in views.SECOND_BUTTONS or case.status in views.HIDDEN_IN.get(name, ()):
                continue
            spec = views.ACTIONS[name]
            second = [other for other, host in views.SECOND_BUTTONS.items() if host == name and other in allowed]
            actions.append({
                "name": name, "label": spec.label, "style": spec.style,
                "form": views._form_for(name, case, user, prefix=name),
                "url": reverse("admin:cases_case_act", args=[case.pk, name]),
                "second": [{"name": o, "label": views.ACTIONS[o].label, "style": views.ACTIONS[o].style,
                            "url": reverse("admin:cases_case_act", args=[case.pk, o])} for o in second],
                "tap_only": spec.form is case_forms.EmptyForm,
            })
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self._case_or_404(request, object_id)
        context = {
            "title": _("Case %(number)s") % {"number": case.number},
            "subtitle": Status(case.status).label,
            "workflow_actions": self.workflow_actions(request, case),
            "case_page_url": reverse("cases:detail", args=[case.pk]),
            # Every field is read-only: the moves above are the only way to change a case.
            "show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
            "show_delete": False,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def act_view(self, request, object_id, name):
        """POST one move: the case page's action (one service call); back to the admin page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        spec = views.ACTIONS.get(name)
        if spec is None:
            raise Http404
        user = request.user
        case = self._case_or_404(request, object_id)
        transition = workflow.TRANSITIONS.get(name)
        if transition is not None and not workflow.actor_kinds(case, user) & transition.actors:
            # Not this user's move on this case at all (a state refusal is a message below).
            raise PermissionDenied
        extra = ({"refused_uploads": request.refused_uploads}
                 if issubclass(spec.form, case_forms.UploadsMixin) else {})
        form = views._form_for(name, case, user, data=request.POST, files=request.FILES,
                               prefix=views.SECOND_BUTTONS.get(name, name), **extra)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                for error in errors:
                    messages.error(request, _("%(field)s: %(error)s") % {"field": label, "error": error}
                                   if label else error)
        else:
            try:
                spec.run(case, user, form.cleaned_data, timezone.now())
            except DomainError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, spec.done % {"number": case.number})
        if not self.get_queryset(request).filter(pk=case.pk).exists():
            # Escalated or sent out of this staffer's places: back to the list.
            return HttpResponseRedirect(reverse("admin:cases_case_changelist"))
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))

    def photo_view(self, request, object_id, photo_id):
        """A case photo for whoever may open the case here; 404 for anyone else."""
        case = self._case_or_404(request, object_id)
        photo = CasePhoto.objects.filter(pk=photo_id, case=case).first()
        if photo is None:
            raise Http404
        return image_response(photo.image)


def photo_thumbnail(photo):
    """The photo inline's picture: a thumbnail through the scoped view."""
    if photo is None or photo.pk is None:
        return ""
    url = reverse("admin:cases_case_photo", args=[photo.case_id, photo.pk])
    return thumbnail(url, photo.get_stage_display())



class IntakePhotoAdminMixin:
    """For IntakeAdmin: the report's photo through a scoped view, shown as a thumbnail."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/photo/", self.admin_site.admin_view(self.photo_view), name="%s_%s_photo" % info),
        ] + super().get_urls()

    def photo_view(self, request, object_id):
        intake = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if intake is None or not intake.photo:
            raise Http404
        return image_response(intake.photo)

    @admin.display(description=gettext_lazy("photo"))
    def photo_thumbnail(self, intake):
        if intake is None or not intake.photo:
            return "—"
        return thumbnail(reverse("admin:cases_intake_photo", args=[intake.pk]), _("photo"))


# --- the to-do on the admin index ---------------------------------------------------------

def _case_list(query):
    return reverse("admin:cases_case_changelist") + "?" + query


def case_todo(request):
    """The staffer's work on cases today, first on the admin index: each a filtered case list.

    The rows are callables: the site counts them on the index only, not in every page's sidebar."""
    user = request.user
    if not is_manager(user):
        return []

    def in_status(status):  # a read: the list of cases in one status
        return lambda: cases_visible_to(user, managing=True).filter(status__exact=status)

    return [
        (gettext_lazy("Reports not yet filed"), reverse("admin:cases_intake_changelist"),
         lambda: intakes_visible_to(user, managing=True)),
        (gettext_lazy("To register"), _case_list(f"status__exact={Status.REPORTED}"), in_status(Status.REPORTED)),
        (gettext_lazy("To dispatch"), _case_list(f"status__exact={Status.REGISTERED}"),
         in_status(Status.REGISTERED)),
        (gettext_lazy("To verify"), _case_list(f"status__exact={Status.RESOLVED}"), in_status(Status.RESOLVED)),
        (gettext_lazy("To close"), _case_list(f"status__exact={Status.VERIFIED}"), in_status(Status.VERIFIED)),
        (gettext_lazy("Overdue"), _case_list("overdue=yes"),
         lambda: cases_visible_to(user, managing=True).filter(overdue_q(timezone.now()))),
    ]
