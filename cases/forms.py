"""Forms of the case pages and intake channels.

Forms check the shape of what was typed and offer choices read once per
request; every rule of the domain (who may report where, photo limits,
transitions) stays in cases/services.py. A DomainError the service raises is
put back on the form by `add_domain_error`, on the field it is about.
"""

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The place cascade and its helpers are shared with other apps' pages; cases.views reaches
# add_domain_error, buildings_of and parse_id through this module.
from grid.forms import (  # noqa: F401
    PlaceCascadeMixin,
    ReporterFieldsMixin,
    add_domain_error,
    building_label,
    buildings_of,
    parse_id,
)
from grid.models import KIND_LEVEL, Area, AreaKind, Building
from grid.selectors import posts_visible_to
from portal.errors import DomainError

from . import services
from .models import LEVELS, CaseKind, Category, TimeUnit
from .workflow import HANDLING_ROLES

DESCRIPTION_MAX = services.DESCRIPTION_MAX


def category_tree():
    """Active categories under their family heads: [(head code, head name, [(code, name), ...]), ...].

    A head with no subcategories is itself the only choice under it.
    """
    rows = list(
        Category.objects.filter(is_active=True)
        .filter(Q(parent__isnull=True) | Q(parent__is_active=True))
        .values_list("code", "name", "parent_id", "pk")
        .order_by("sort_order", "code")
    )
    children = {}
    for code, name, parent, _pk in rows:
        if parent is not None:
            children.setdefault(parent, []).append((code, name))
    return [(code, name, children.get(pk) or [(code, name)]) for code, name, parent, pk in rows if parent is None]


def category_choices():
    """Grouped choices for a select: [(head name, [(code, name), ...]), ...]."""
    return [(name, options) for _code, name, options in category_tree()]


def _photo_too_large():
    limit = settings.CASE_PHOTO_MAX_BYTES
    return gettext("This photo is too large (at most %(mb)s MB).") % {"mb": round(limit / 1024 / 1024, 1)}


# Made once: `lazy()` builds a proxy class per call, a cost on every form of the busiest page.
_too_large = lazy(_photo_too_large, str)


class PhotoField(forms.FileField):
    """One optional photo, checked by the service's own validation (image only, size-capped)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photo"))
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={
            "accept": "image/*", "data-max-bytes": settings.CASE_PHOTO_MAX_BYTES, "data-too-large": _too_large(),
        }))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload:
            try:
                services.validate_photo(upload)
            except DomainError as error:
                raise forms.ValidationError(str(error), code=error.code) from None
        return upload


class UploadsMixin:
    """Files the upload handler refused for size never reach the form: say so on the photo field."""

    def __init__(self, *args, refused_uploads=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.refused_uploads = list(refused_uploads)

    def clean(self):
        cleaned = super().clean()
        if self.refused_uploads and "photo" in self.fields:
            limit = settings.CASE_PHOTO_MAX_BYTES
            for name in self.refused_uploads:
                self.add_error("photo", _("The photo “%(name)s” is too large (at most %(mb)s MB).")
                               % {"name": name, "mb": round(limit / 1024 / 1024, 1)})
        return cleaned


class CategoryField(forms.ChoiceField):
    """The two-level category select; the list is read only when shown, a submitted code in one query."""

    chosen = None

    def __init__(self, *, read=True, **kwargs):
        """`read=False`: return the submitted code unread, for a service that checks it itself
        (the public report's INSERT does, in the same statement)."""
        kwargs.setdefault("label", _("What kind of matter"))
        kwargs.setdefault("choices", lambda: [("", _("— choose —"))] + category_choices())
        super().__init__(**kwargs)
        self.read = read
        self.error_messages["invalid_choice"] = _("Choose a category from the list.")

    def valid_value(self, value):
        if not self.read:
            # NUL cannot reach PostgreSQL's text; it is no code anyway.
            return len(value) <= Category._meta.get_field("code").max_length and "\x00" not in value
        self.chosen = Category.objects.filter(
            Q(parent__isnull=True) | Q(parent__is_active=True), code=value, is_active=True
        ).first()
        return self.chosen is not None

    def clean(self, value):
        """The chosen Category itself (read once, by `valid_value`), or "" when none was chosen;
        with `read=False`, the code."""
        code = super().clean(value)
        return self.chosen if code and self.read else code


class DescriptionField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("What is the matter?"))
        kwargs.setdefault("max_length", DESCRIPTION_MAX)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4}))
        super().__init__(**kwargs)


class PublicReportForm(UploadsMixin, PlaceCascadeMixin, ReporterFieldsMixin, forms.Form):
    """A resident's report: category, place, description, photo, optional name and phone."""

    def __init__(self, *args, building=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_building = building
        # The category and the place chain are checked by the service's INSERT (one statement).
        self.fields["category"] = CategoryField(read=False)
        if building is None:
            self.setup_places(roots=Area.objects.all(), start=AreaKind.STREET)
        self.fields["description"] = DescriptionField(
            help_text=_("Say what you saw and exactly where (e.g. by the east gate)."),
        )
        self.fields["photo"] = PhotoField()
        self.add_reporter_fields(name_label=_("Your name"), phone_label=_("Your phone"))
        self.fields["reporter_phone"].help_text = _("Only staff see it, to call you back if needed.")

    def clean(self):
        """The place as ids for `services_intake.intake_receive`: grid, building, community, street."""
        cleaned = super().clean()
        if self.fixed_building is not None:
            cleaned.update(grid=None, building=self.fixed_building.pk, community=None, street=None)
            return cleaned
        ids, building_id = self.place_ids()
        if ids is None:
            ids = {}
        cleaned.update(grid=ids.get("grid"), building=building_id, community=ids.get("community"),
                       street=ids.get("street"))
        return cleaned


class HotlineForm(UploadsMixin, PlaceCascadeMixin, ReporterFieldsMixin, forms.Form):
    """12345 hotline entry: staff type in a caller's matter on their behalf."""

    def __init__(self, *args, roots, start, restricted=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["external_ref"] = forms.CharField(label=_("Hotline ticket number"), required=False,
                                                      max_length=64)
        self.add_reporter_fields(name_label=_("Caller's name"), phone_label=_("Caller's phone"))
        self.fields["category"] = CategoryField()
        self.setup_places(roots=roots, start=start, restricted=restricted)
        self.fields["address"] = forms.CharField(label=_("Address as the caller gave it"), required=False,
                                                 max_length=200)
        self.fields["description"] = DescriptionField(label=_("What the caller reports"))
        self.fields["photo"] = PhotoField()

    def clean(self):
        cleaned = super().clean()
        cleaned["grid"], cleaned["building"] = self.clean_place()
        return cleaned


class PatrolForm(UploadsMixin, forms.Form):
    """A grid worker's patrol report in a few taps: what, which building of my grid, a line, a photo."""

    def __init__(self, *args, buildings, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"] = CategoryField()
        groups = {}
        for grid in grids:
            groups[grid.pk] = (grid.name, [(f"g{grid.pk}", _("%(grid)s (no particular building)") % {"grid": grid.name})])
        for pk, grid_id, number, name, address in buildings:
            if grid_id in groups:
                groups[grid_id][1].append((f"b{pk}", building_label(number, name, address)))
        self.fields["place"] = forms.ChoiceField(
            label=_("Where"), choices=[("", _("— choose —"))] + list(groups.values()),
        )
        self.fields["place"].error_messages["invalid_choice"] = _("Choose a building of your grid.")
        self.fields["description"] = DescriptionField(label=_("What you found"), widget=forms.Textarea(attrs={"rows": 3}))
        self.fields["photo"] = PhotoField()

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get("place") or ""
        cleaned["grid"] = cleaned["building"] = None
        if value.startswith("g"):
            cleaned["grid"] = Area.objects.filter(pk=parse_id(value[1:]), kind=AreaKind.GRID).first()
        elif value.startswith("b"):
            cleaned["building"] = Building.objects.filter(pk=parse_id(value[1:])).first()
        return cleaned


class TrackLookupForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_code(self):
        code = services.normalise_tracking_code(self.cleaned_data["code"])
        if len(code) != services.TRACKING_LENGTH or any(c not in services.TRACKING_ALPHABET for c in code):
            raise forms.ValidationError(_("A tracking code has 13 letters and digits, like 7KQ4-MZ2P-HX9B-T."))
        return code


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you?"), coerce=int, widget=forms.RadioSelect,
        choices=[(5, _("5 · very satisfied")), (4, _("4 · satisfied")), (3, _("3 · acceptable")),
                 (2, _("2 · not satisfied")), (1, _("1 · very unsatisfied"))],
    )
    # The 12345 回访 question behind 解决率; leaving it unanswered is allowed.
    solved = forms.TypedChoiceField(
        label=_("Was the matter solved?"), required=False, coerce=lambda v: v == "yes", empty_value=None,
        widget=forms.RadioSelect, choices=[("yes", _("Yes, solved")), ("no", _("No, not solved"))],
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    reopen = forms.BooleanField(
        label=_("The matter is not solved: ask them to handle it again"), required=False,
        help_text=_("Only with a rating of 1 or 2."),
    )

    def clean(self):
        # A request to handle it again that would be dropped is refused here, where it was ticked.
        data = super().clean()
        if data.get("reopen"):
            if data.get("rating") is not None and data["rating"] > services.REOPEN_MAX_RATING:
                self.add_error("reopen", _("Asking for it to be handled again goes with a rating of 1 or 2: "
                                           "choose 1 or 2, or untick this box."))
            elif data.get("solved") is True:
                self.add_error("reopen", _("You answered that the matter was solved: answer “No, not solved”, "
                                           "or untick this box."))
        return data


# --- case actions --------------------------------------------------------------------

class EmptyForm(forms.Form):
    """Actions that need nothing but the tap (accept, close, lift the carry-over)."""


class NoteForm(UploadsMixin, forms.Form):
    note = forms.CharField(label=_("Note"), max_length=services.NOTE_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=services.NOTE_MAX,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ProgressForm(NoteForm):
    note = forms.CharField(label=_("Progress"), max_length=services.NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))
    photo = PhotoField()
    is_public = forms.BooleanField(label=_("Show this line to the reporter"), required=False)


class ResolveForm(NoteForm):
    note = forms.CharField(label=_("What was done"), max_length=services.NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))
    photo = PhotoField(label=_("Photo of the result"))
    needs_case = True

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The service asks for it (a mediation resolves on its recorded outcome instead): say so before
        # the worker presses the button, and beside the field after.
        self.photo_needed = case is None or case.kind != CaseKind.MEDIATION
        self.fields["photo"].optional_hint = False
        if self.photo_needed:
            self.fields["photo"].help_text = _("Required: a photo of the result on site.")

    def clean(self):
        cleaned = super().clean()
        if self.photo_needed and not cleaned.get("photo") and "photo" not in self.errors:
            self.add_error("photo", _("Add a photo of the result."))
        return cleaned


class VerifyForm(NoteForm):
    photo = PhotoField(label=_("Photo on site"))


class RegisterForm(NoteForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"] = CategoryField(label=_("Correct the category"), required=False)


class ExtensionRequestForm(ReasonForm):
    value = forms.IntegerField(label=_("Extra time"), min_value=1, max_value=60)
    unit = forms.ChoiceField(label=_("Unit"), choices=[(TimeUnit.WORKING_HOURS, TimeUnit.WORKING_HOURS.label),
                                                       (TimeUnit.WORKING_DAYS, TimeUnit.WORKING_DAYS.label)])
    field_order = ["value", "unit", "reason"]


class DecideExtensionForm(NoteForm):
    approve = forms.TypedChoiceField(
        label=_("Decision"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
        choices=[("yes", _("Approve")), ("no", _("Reject"))],
    )


class DuplicateForm(NoteForm):
    original = forms.CharField(label=_("Number of the original case"), max_length=16)
    field_order = ["original", "note"]


def dispatch_choices(case, user):
    """Who a dispatcher may send `case` to: people working its places, then whole levels.

    Read through grid.selectors (posts the dispatcher reaches); the service
    checks again that the target is within the dispatcher's part of the tree.
    """
    path = [(level, getattr(case, f"{level}_id")) for level in LEVELS if getattr(case, f"{level}_id")]
    reach = Q(pk__in=[])
    for level, area_id in path:
        reach |= Q(area_id=area_id, role__in=HANDLING_ROLES[level])
    posts = (
        posts_visible_to(user).filter(reach, ended_at__isnull=True, user__is_active=True)
        .select_related("user", "area").order_by("-area__level", "user__full_name", "user__username")
    )
    people, seen = [], set()
    for post in posts:
        if post.user_id in seen:
            continue
        seen.add(post.user_id)
        people.append((f"u{post.user_id}", f"{post.user} · {post.get_role_display()} · {post.area.name}"))
    levels = [(f"l{level}", _("%(level)s: anyone on duty there") % {"level": AreaKind(level).label})
              for level, _id in sorted(path, key=lambda p: -KIND_LEVEL[p[0]])]
    return [("", _("Automatic (routing rules)")), (_("People"), people), (_("Levels"), levels)]


class DispatchForm(NoteForm):
    def __init__(self, *args, case, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"] = forms.ChoiceField(label=_("Send to"), required=False,
                                                  choices=dispatch_choices(case, user))
        self.order_fields(["target", "note"])

    def clean(self):
        cleaned = super().clean()
        target = cleaned.get("target") or ""
        cleaned["level"] = cleaned["assignee_id"] = None
        if target.startswith("u"):
            cleaned["assignee_id"] = parse_id(target[1:])
        elif target.startswith("l"):
            cleaned["level"] = target[1:]
        return cleaned
