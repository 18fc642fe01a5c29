"""The residents' pages: the grid worker's phone pages and the same pages for
community and street staff (the layout follows grid.selectors.primary_audience).

Every read goes through residents.selectors, so a household or resident outside
the user's subtree answers 404 exactly like a missing one; a chief (who holds no
post that reaches residents' records) gets 403 on the lists. Every write is one
call into residents/services.py; its DomainError becomes a form error.

Personal data (PIPL): lists, searches and pages read the masked columns only
(`values()` or `.defer()` of the encrypted ones). A full value is shown once,
on the response to a POSTed reveal with a reason, which services.resident_reveal
logs; it never sits in a URL, and no page of this module may be cached.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models.functions import Length
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grid.models import Unit
from grid.selectors import get_visible_or_404
from grid.views import layout_for
from portal.errors import DomainError, PostRefused

from . import forms as resident_forms
from . import hooks, services
from .filters import ResidentFilter, grids_in
from .identity import blind_index, mask_id_number, mask_phone, normalize_phone, parse_id_number
from .models import (
    AccessAction,
    AccessField,
    CareVisit,
    Resident,
    ResidentEvent,
    ResidentStatus,
)
from .selectors import (
    access_log_visible_to,
    can_edit_residents,
    can_reveal,
    households_visible_to,
    resident_scope,
    residents_visible_to,
    tags_visible_to,
    visits_due,
    visits_visible_to,
)

PAGE_SIZE = 50
# The list counts its rows up to here; a street holds ~100,000 residents.
COUNT_CAP = 1000
# The visits-due page lists at most this many (soonest first).
DUE_LIMIT = 300
HISTORY_LIMIT = 30
VISITS_LIMIT = 20
# Columns a list may read: never the encrypted ones.
LIST_COLUMNS = ("pk", "name", "gender", "birth_date", "id_masked", "phone_masked", "status", "relation",
                "visit_due_on", "household_id", "household__number", "household__unit__number",
                "building__number", "grid__name")
ENCRYPTED = ("id_number", "phone")


# --- plumbing ---------------------------------------------------------------------------

def no_store(view):
    """Pages with residents' data are never stored by a browser or a proxy."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        response["Pragma"] = "no-cache"
        return response

    return wrapper


def _render(request, template, context, *, status=200):
    layout = layout_for(request.user)
    audience = layout.rsplit("/", 1)[-1].removesuffix(".html")
    return render(request, template, {"layout": layout, "audience": audience, **context}, status=status)


def _require_reach(user):
    """Only posts that work with residents' records open these pages (chiefs do not)."""
    scope = resident_scope(user)
    if not (scope.unrestricted or scope.spans):
        raise PostRefused(_("Residents' records are for grid workers and staff: building and unit chiefs and grid "
                            "chiefs (三长) work without them (personal data reaches only the posts that need it)."))
    return scope


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP rows; beyond it the page says "1000+" and the filters narrow.

    `count_source` is the same rows without the page's display joins: counting
    the joined values() query costs a street's list several times as much.
    """

    def __init__(self, object_list, per_page, *, count_source=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_source = count_source if count_source is not None else object_list

    @cached_property
    def count(self):
        found = self.count_source.order_by().values("pk")[: COUNT_CAP + 1].count()
        self.capped = found > COUNT_CAP
        return min(found, COUNT_CAP)


def _page(request, queryset, paginator=Paginator, **options):
    page = paginator(queryset, PAGE_SIZE, **options).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return page


def _tags_of(resident_ids, *, visible, due_only=False):
    """{resident id: [tag name, ...]} in one query, sensitive tags only for those who may see them."""
    through = Resident.tags.through.objects.filter(resident_id__in=list(resident_ids),
                                                   tag__in=visible)
    if due_only:
        through = through.filter(tag__visit_interval_days__isnull=False)
    tags = {}
    for resident_id, name, interval in through.order_by("tag__ordering", "tag_id").values_list(
            "resident_id", "tag__name", "tag__visit_interval_days"):
        tags.setdefault(resident_id, []).append({"name": name, "interval": interval})
    return tags


def _list_rows(values, user):
    rows = list(values)
    tags = _tags_of((r["pk"] for r in rows), visible=tags_visible_to(user))
    statuses, relations = dict(ResidentStatus.choices), dict(Resident._meta.get_field("relation").choices)
    for row in rows:
        row["url"] = reverse("residents:resident", args=[row["pk"]])
        row["tags"] = tags.get(row["pk"], [])
        row["status_label"] = statuses.get(row["status"], row["status"])
        row["relation_label"] = relations.get(row["relation"], row["relation"])
        row["age"] = _age(row["birth_date"])
    return rows


def _age(birth_date, today=None):
    if not birth_date:
        return None
    today = today or timezone.localdate()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _resident_or_404(user, pk):
    return get_visible_or_404(
        residents_visible_to(user).defer(*ENCRYPTED)
        .select_related("household__unit", "household__building", "grid", "community"),
        pk=pk,
    )


def _household_or_404(user, pk):
    return get_visible_or_404(households_visible_to(user).select_related("unit", "building", "grid", "community"),
                              pk=pk)


def _place_line(obj):
    """幸福社区 › 幸福第一网格 › 1号楼 1单元 301: where a household or resident lives."""
    household = obj if not isinstance(obj, Resident) else obj.household
    return [obj.community.name, obj.grid.name, f"{household.building.number} {household.unit.number}",
            household.number]


# --- the list and the lookup ---------------------------------------------------------------

def _lookup(user, raw):
    """Residents found by a full ID number or phone (exact, through the blind index).

    Returns (rows queryset, description for the page, error); the description
    and the error carry the masked value only.
    """
    raw = str(raw or "").strip()
    digits = raw.replace(" ", "").replace("-", "")
    visible = residents_visible_to(user)
    looks_like_phone = digits.isdigit() and len(digits) != 18 and len(digits) != 15
    if looks_like_phone:
        try:
            phone = normalize_phone(raw)
        except DomainError as error:
            return visible.none(), "", str(error)
        return (visible.filter(phone_index=blind_index("phone", phone)),
                _("Found by phone %(masked)s") % {"masked": mask_phone(phone)}, "")
    try:
        parsed = parse_id_number(raw)
    except DomainError as error:
        return visible.none(), "", str(error)
    return (visible.filter(id_index=blind_index("id", parsed.value)),
            _("Found by ID number %(masked)s") % {"masked": mask_id_number(parsed.value)}, "")


@login_required
@no_store
def resident_list(request):
    """Residents of the user's grids (or community, street...): filters by GET, exact lookups by POST."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = request.user
    scope = _require_reach(user)
    grids = grids_in(scope)
    filterset = ResidentFilter(request.GET, queryset=residents_visible_to(user), tags=tags_visible_to(user),
                               grids=grids)
    context = {"filter": filterset, "lookup_form": resident_forms.LookupForm(), "lookup": None,
               "can_add": bool(grids), "show_grid": len(grids) != 1,
               "filtered": bool(set(request.GET) - {"page"})}
    status = 200
    if request.method == "POST":
        form = resident_forms.LookupForm(request.POST)
        if form.is_valid():
            found, description, error = _lookup(user, form.cleaned_data["number"])
        else:
            found, description, error = residents_visible_to(user).none(), "", _("Type an ID number or a phone.")
        rows = _list_rows(found.order_by("name", "id").values(*LIST_COLUMNS)[:PAGE_SIZE], user)
        # The typed number is not put back into the form: the page shows it masked only.
        context["lookup"] = {"rows": rows, "description": description, "error": error}
        status = 400 if error else 200
    else:
        page = _page(request, filterset.qs.order_by("name", "id").values(*LIST_COLUMNS), CappedPaginator,
                     count_source=filterset.qs)
        page.object_list = _list_rows(page.object_list, user)
        context["page"] = page
        context["capped"] = getattr(page.paginator, "capped", False)
    return _render(request, "residents/people/list.html", context, status=status)


# --- households ----------------------------------------------------------------------------

def _unit_choices(scope):
    """Units the user may add households in, grouped by grid: [(grid, [(id, "1号楼 1单元"), ...])]."""
    rows = (Unit.objects.filter(scope.areas_q("building__grid__"), building__grid__is_active=True)
            .order_by("building__grid__code", Length("building__number"), "building__number",
                      Length("number"), "number")
            .values_list("pk", "number", "building__number", "building__grid__name")[:3000])
    grouped = {}
    for pk, number, building, grid in rows:
        grouped.setdefault(grid, []).append((pk, f"{building} {number}"))
    return list(grouped.items())


@login_required
@no_store
def household_add(request):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = request.user
    scope = _require_reach(user)
    units = _unit_choices(scope)
    status = 200
    if request.method == "POST":
        form = resident_forms.HouseholdAddForm(request.POST, units=units)
        if form.is_valid():
            unit = Unit.objects.filter(pk=form.cleaned_data["unit"]).first()
            try:
                if unit is None:
                    raise DomainError(_("Choose a building and unit from the list."), code="bad_unit")
                household = services.household_add(unit=unit, number=form.cleaned_data["number"],
                                                    acting_user=user, now=timezone.now())
            except DomainError as error:
                resident_forms.add_domain_error(form, error)
            else:
                messages.success(request, _("Household %(name)s saved.") % {"name": str(household)})
                return redirect("residents:household", pk=household.pk)
        status = 400
    else:
        form = resident_forms.HouseholdAddForm(initial={"unit": request.GET.get("unit")}, units=units)
    return _render(request, "residents/people/household_add.html", {"form": form}, status=status)


def _history_rows(events):
    """Plain lines of resident history: what happened, when, who; never a personal value."""
    labels = dict(ResidentEvent.Action.choices)
    field_names = {f.name: str(f.verbose_name) for f in Resident._meta.get_fields() if hasattr(f, "verbose_name")}
    rows = []
    for event in events:
        details = event["details"] or {}
        note = ""
        if event["action"] == ResidentEvent.Action.CHANGE and details.get("fields"):
            note = _("Changed: %(fields)s") % {"fields": "、".join(field_names.get(f, f) for f in details["fields"])}
        elif details.get("on"):
            note = details["on"] + (f" · {details['note']}" if details.get("note") else "")
        rows.append({
            "at": event["at"], "label": labels.get(event["action"], event["action"]),
            "actor": event["actor__full_name"] or event["actor__username"] or _("the portal"),
            "note": note, "resident": event.get("resident__name", ""),
        })
    return rows


HISTORY_COLUMNS = ("action", "at", "details", "actor__full_name", "actor__username")


@login_required
@no_store
def household_detail(request, pk):
    user = request.user
    _require_reach(user)
    household = _household_or_404(user, pk)
    residents = _list_rows(
        residents_visible_to(user).filter(household=household)
        .order_by("status", "relation", "id").values(*LIST_COLUMNS), user)
    events = (ResidentEvent.objects.filter(resident__household=household)
              .values(*HISTORY_COLUMNS, "resident__name")[:HISTORY_LIMIT])
    return _render(request, "residents/people/household.html", {
        "household": household,
        "place": _place_line(household),
        "residents": residents,
        "history": _history_rows(events),
        "can_edit": can_edit_residents(user, household),
    })


# --- residents -----------------------------------------------------------------------------

def _resident_context(request, resident, **extra):
    """Everything the resident page shows; forms may be replaced by bound ones in `extra`."""
    user = request.user
    can_edit = resident.is_living and can_edit_residents(user, resident)
    visible_tags = tags_visible_to(user)
    tags = list(resident.tags.filter(pk__in=visible_tags.values("pk")).order_by("ordering", "id"))
    visits = list(
        CareVisit.objects.filter(resident=resident).select_related("visited_by", "case")
        .only("visited_at", "notes", "findings", "follow_up", "case__number", "case_id",
              "visited_by__full_name", "visited_by__username")[:VISITS_LIMIT]
    )
    may_open_case = can_edit_residents(user, resident)
    to_case = extra.pop("to_case", {})
    for visit in visits:
        visit.needs_case = may_open_case and visit.follow_up and not visit.case_id
        if visit.needs_case:
            visit.case_form = to_case.get(visit.pk) or resident_forms.VisitToCaseForm(prefix=f"v{visit.pk}")
    events = ResidentEvent.objects.filter(resident=resident).values(*HISTORY_COLUMNS)[:HISTORY_LIMIT]
    reveal = []
    bound_reveal = extra.pop("reveal_form", None)
    for field, masked, label in ((AccessField.ID_NUMBER, resident.id_masked, _("ID number")),
                                 (AccessField.PHONE, resident.phone_masked, _("Phone"))):
        allowed = bool(masked) and can_reveal(user, resident, field)
        form = None
        if allowed:
            if bound_reveal is not None and bound_reveal.prefix == field:
                form = bound_reveal
            else:
                form = resident_forms.RevealForm(prefix=field, initial={"field": field})
        reveal.append({"field": field, "label": label, "masked": masked, "form": form})
    context = {
        "resident": resident,
        "place": _place_line(resident),
        "age": _age(resident.birth_date),
        "tags": tags,
        "visits": visits,
        "history": _history_rows(events),
        "personal": reveal,
        "revealed": {},
        "can_edit": can_edit,
        "can_return": resident.status == ResidentStatus.MOVED_OUT and can_edit_residents(user, resident),
        "visit_form": resident_forms.VisitForm() if can_edit else None,
    }
    context.update(extra)
    return context


@login_required
@no_store
def resident_detail(request, pk):
    user = request.user
    _require_reach(user)
    resident = _resident_or_404(user, pk)
    return _render(request, "residents/people/resident.html", _resident_context(request, resident))


@login_required
@require_POST
@no_store
def resident_reveal(request, pk):
    """Show one full value for a stated reason: logged by the service, shown on this response only."""
    user = request.user
    _require_reach(user)
    resident = _resident_or_404(user, pk)
    # Each field's form carries its own prefix ("phone-reason"), so the page can show both.
    prefix = next((k.removesuffix("-field") for k in request.POST
                   if k.endswith("-field") and k.removesuffix("-field") in AccessField.values), None)
    form = resident_forms.RevealForm(request.POST, prefix=prefix)
    revealed, status = {}, 200
    if form.is_valid():
        try:
            value = services.resident_reveal(resident=resident, field=form.cleaned_data["field"],
                                             reason=form.cleaned_data["reason"], acting_user=user,
                                             now=timezone.now())
        except DomainError as error:
            resident_forms.add_domain_error(form, error)
            messages.error(request, str(error))
            status = 403 if error.code == "forbidden" else 400
        else:
            revealed[form.cleaned_data["field"]] = value
            form = None
    else:
        status = 400
    context = _resident_context(request, resident, reveal_form=form)
    context["revealed"] = revealed
    for item in context["personal"]:
        item["value"] = revealed.get(item["field"], "")
        if item["value"]:
            item["form"] = None
    return _render(request, "residents/people/resident.html", context, status=status)


@login_required
@no_store
def resident_add(request, household_pk):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = request.user
    _require_reach(user)
    household = _household_or_404(user, household_pk)
    if not can_edit_residents(user, household):
        raise PermissionDenied
    tags = tags_visible_to(user)
    status = 200
    if request.method == "POST":
        form = resident_forms.ResidentAddForm(request.POST, tags=tags)
        if form.is_valid():
            data = form.cleaned_data
            try:
                resident = services.resident_add(
                    household=household, name=data["name"], id_number=data["id_number"], phone=data["phone"],
                    relation=data["relation"], gender=data["gender"], birth_date=data["birth_date"],
                    registration=data["registration"], registered_address=data["registered_address"],
                    moved_in_on=data["moved_in_on"], tags=list(data["tags"]), note=data["note"],
                    acting_user=user, now=timezone.now(),
                )
            except DomainError as error:
                resident_forms.add_domain_error(form, error)
            else:
                messages.success(request, _("%(name)s added to the household.") % {"name": resident.name})
                if resident.warning:
                    messages.warning(request, resident.warning)
                return redirect("residents:resident", pk=resident.pk)
        status = 400
    else:
        form = resident_forms.ResidentAddForm(tags=tags)
    return _render(request, "residents/people/resident_form.html", {
        "form": form, "household": household, "place": _place_line(household), "adding": True,
    }, status=status)


EDIT_ERROR_FIELDS = {"bad_id_number": "new_id_number", "duplicate_id_number": "new_id_number",
                     "bad_phone": "new_phone"}


@login_required
@no_store
def resident_edit(request, pk):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = request.user
    _require_reach(user)
    resident = _resident_or_404(user, pk)
    if not can_edit_residents(user, resident):
        raise PermissionDenied
    tags = tags_visible_to(user)
    masks = {"id_masked": resident.id_masked, "phone_masked": resident.phone_masked}
    status = 200
    if request.method == "POST":
        form = resident_forms.ResidentEditForm(request.POST, tags=tags, **masks)
        if form.is_valid():
            kwargs = form.service_kwargs()
            # Tags the user may not see (sensitive ones) stay as they are.
            hidden = list(resident.tags.exclude(pk__in=tags.values("pk")))
            kwargs["tags"] = kwargs["tags"] + hidden
            try:
                updated = services.resident_update(resident=resident, acting_user=user, now=timezone.now(),
                                                   **kwargs)
            except DomainError as error:
                # The edit form names its personal fields new_*: put the refusal beside them.
                field = EDIT_ERROR_FIELDS.get(error.code)
                if field in form.fields:
                    form.add_error(field, str(error))
                else:
                    resident_forms.add_domain_error(form, error)
            else:
                messages.success(request, _("%(name)s saved.") % {"name": updated.name})
                if updated.warning:
                    messages.warning(request, updated.warning)
                return redirect("residents:resident", pk=resident.pk)
        status = 400
    else:
        initial = {name: getattr(resident, name) for name in resident_forms.ResidentEditForm.PLAIN}
        initial["tags"] = list(resident.tags.values_list("pk", flat=True))
        form = resident_forms.ResidentEditForm(initial=initial, tags=tags, **masks)
    return _render(request, "residents/people/resident_form.html", {
        "form": form, "resident": resident, "household": resident.household, "place": _place_line(resident),
        "adding": False,
    }, status=status)


@login_required
@no_store
def resident_leave(request, pk):
    """Moved out or deceased: the record stays, with the date."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = request.user
    _require_reach(user)
    resident = _resident_or_404(user, pk)
    if not can_edit_residents(user, resident):
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        form = resident_forms.LeaveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            write = (services.resident_decease if data["status"] == ResidentStatus.DECEASED
                     else services.resident_move_out)
            try:
                write(resident=resident, on=data["on"], note=data["note"], acting_user=user, now=timezone.now())
            except DomainError as error:
                resident_forms.add_domain_error(form, error)
            else:
                messages.success(request, _("%(name)s is recorded as %(status)s.") % {
                    "name": resident.name, "status": ResidentStatus(data["status"]).label})
                return redirect("residents:resident", pk=resident.pk)
        status = 400
    else:
        form = resident_forms.LeaveForm(initial={"status": ResidentStatus.MOVED_OUT})
    return _render(request, "residents/people/leave.html", {
        "form": form, "resident": resident, "place": _place_line(resident),
    }, status=status)


@login_required
@require_POST
@no_store
def resident_return(request, pk):
    """A resident who moved out lives in their old household again."""
    user = request.user
    _require_reach(user)
    resident = _resident_or_404(user, pk)
    form = resident_forms.ReturnForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            services.resident_return(resident=resident, on=form.cleaned_data["on"], acting_user=user,
                                     now=timezone.now())
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(name)s lives here again.") % {"name": resident.name})
    return redirect("residents:resident", pk=resident.pk)


# --- care visits ---------------------------------------------------------------------------

@login_required
@no_store
def visit_add(request, pk):
    """Log a care visit (走访) to a resident."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = request.user
    _require_reach(user)
    resident = _resident_or_404(user, pk)
    if not (resident.is_living and can_edit_residents(user, resident)):
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        form = resident_forms.VisitForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                visit = services.care_visit_log(
                    resident=resident, notes=data["notes"], findings=data["findings"], follow_up=data["follow_up"],
                    visited_at=data["visited_at"], acting_user=user, now=timezone.now(),
                )
            except DomainError as error:
                resident_forms.add_domain_error(form, error)
            else:
                messages.success(request, _("Visit to %(name)s recorded.") % {"name": resident.name})
                if visit.follow_up:
                    messages.info(request, _("Follow-up needed: turn the visit into a case below when it is a "
                                             "matter to handle."))
                return redirect(reverse("residents:resident", args=[resident.pk]) + "#visits")
        status = 400
    else:
        form = resident_forms.VisitForm()
    return _render(request, "residents/people/visit_form.html", {
        "form": form, "resident": resident, "place": _place_line(resident),
    }, status=status)


@login_required
@require_POST
@no_store
def visit_to_case(request, pk):
    """One click: the visit's follow-up becomes a case at the resident's building."""
    user = request.user
    _require_reach(user)
    visit = get_visible_or_404(visits_visible_to(user).select_related("resident"), pk=pk)
    form = resident_forms.VisitToCaseForm(request.POST, prefix=f"v{visit.pk}")
    if form.is_valid():
        try:
            case = services.care_visit_to_case(visit=visit, category=form.cleaned_data["category"],
                                               acting_user=user, now=timezone.now())
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Case %(number)s opened from the visit.") % {"number": case.number})
            if hooks.case_visible_to(user, case):
                return redirect("cases:detail", pk=case.pk)
    else:
        messages.error(request, _("Choose a category for the case."))
    return redirect(reverse("residents:resident", args=[visit.resident_id]) + "#visits")


# --- visits due ----------------------------------------------------------------------------

DUE_COLUMNS = ("pk", "name", "visit_due_on", "last_visited_at", "grid_id", "grid__name", "building__number",
               "household__number", "household__unit__number")


def due_visit_rows(user, *, today, limit=DUE_LIMIT, by_grid=False):
    """Living residents whose care visit is due, soonest first, each with the tags that call for it.

    Plain dicts for templates/residents/_due_visits.html (the worker's queue, hub.views,
    includes it with `due=due_visit_rows(request.user, today=..., limit=10)`):
    pk, name, url, due_on, days_over, last_visited_at, grid_id, grid_name, place, tags.
    """
    queryset = visits_due(user, on=today)
    if by_grid:
        queryset = queryset.order_by("grid__code", "grid_id", "visit_due_on", "id")
    rows = list(queryset.values(*DUE_COLUMNS)[:limit])
    tags = _tags_of((r["pk"] for r in rows), visible=tags_visible_to(user), due_only=True)
    out = []
    for row in rows:
        out.append({
            "pk": row["pk"], "name": row["name"], "url": reverse("residents:resident", args=[row["pk"]]),
            "due_on": row["visit_due_on"], "days_over": (today - row["visit_due_on"]).days,
            "last_visited_at": row["last_visited_at"], "grid_id": row["grid_id"], "grid_name": row["grid__name"],
            "place": f"{row['building__number']} {row['household__unit__number']} {row['household__number']}",
            "tags": tags.get(row["pk"], []),
        })
    return out


@login_required
@no_store
def visits_due_page(request):
    """The visiting round: a worker's grids soonest first; staff see their area grouped by grid."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    user = request.user
    _require_reach(user)
    today = timezone.localdate()
    layout = layout_for(user)
    by_grid = not layout.endswith("worker.html")
    rows = due_visit_rows(user, today=today, by_grid=by_grid)
    total = visits_due(user, on=today).count() if len(rows) >= DUE_LIMIT else len(rows)
    groups = []
    if by_grid:
        for row in rows:
            if not groups or groups[-1]["grid_id"] != row["grid_id"]:
                groups.append({"grid_id": row["grid_id"], "grid_name": row["grid_name"], "rows": []})
            groups[-1]["rows"].append(row)
    return _render(request, "residents/people/visits_due.html", {
        "rows": rows, "groups": groups, "by_grid": by_grid, "total": total, "today": today,
        "more": total - len(rows),
    })


# --- the access log ------------------------------------------------------------------------

ACCESS_COLUMNS = ("at", "action", "field", "reason", "details", "actor__full_name", "actor__username",
                  "resident_id", "resident__name", "resident__id_masked", "grid__name", "community__name",
                  "street__name")


@login_required
@no_store
def access_log(request):
    """Who saw or took whose personal data, which field, why, when (read-only)."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    user = request.user
    _require_reach(user)
    entries = access_log_visible_to(user)
    action = request.GET.get("action")
    if action in AccessAction.values:
        entries = entries.filter(action=action)
    page = _page(request, entries.order_by("-at", "-id").values(*ACCESS_COLUMNS), CappedPaginator)
    actions, fields = dict(AccessAction.choices), dict(AccessField.choices)
    rows = []
    for entry in page.object_list:
        details = entry["details"] or {}
        rows.append({
            "at": entry["at"], "actor": entry["actor__full_name"] or entry["actor__username"],
            "action": actions.get(entry["action"], entry["action"]),
            "field": fields.get(entry["field"], "") if entry["field"] else "",
            "reason": entry["reason"],
            "resident": entry["resident__name"],
            "resident_masked": entry["resident__id_masked"],
            "resident_url": reverse("residents:resident", args=[entry["resident_id"]])
            if entry["resident_id"] else None,
            "place": entry["grid__name"] or entry["community__name"] or entry["street__name"] or "",
            "rows": details.get("rows"),
        })
    page.object_list = rows
    return _render(request, "residents/people/access_log.html", {
        "page": page, "rows": rows, "action": action if action in AccessAction.values else "",
        "actions": AccessAction.choices, "capped": getattr(page.paginator, "capped", False),
    })

