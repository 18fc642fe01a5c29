"""Pages for places: the home page per audience, a place page and a building page.

Every read goes through grid.selectors, so a place outside the user's subtree
answers 404 exactly like a missing one. Templates get plain lists (rows, crumbs,
people) built here from a fixed number of queries, never querysets to walk.
"""

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import Length
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Area, AreaKind, Building
from .selectors import (
    active_posts,
    areas_visible_to,
    buildings_visible_to,
    compounds_visible_to,
    can_manage_area,
    get_visible_or_404,
    liaisons_over,
    posts_visible_to,
    primary_audience,
    reach_summary,
    scope_of,
    top_places,
    units_visible_to,
)

PAGE_SIZE = 50
COMPOUNDS_SHOWN = 200  # a community has tens of compounds; more than this is a data problem, not a list

# Headings over lists and counts; the model's kind labels are singular.
KIND_PLURAL = {
    AreaKind.DISTRICT: _("Districts"),
    AreaKind.STREET: _("Streets"),
    AreaKind.COMMUNITY: _("Communities"),
    AreaKind.GRID: _("Grids"),
}


@dataclass(frozen=True)
class Crumb:
    """One step of a place path; `url` is None when the user may not open it."""

    name: str
    url: str | None = None


@dataclass(frozen=True)
class Person:
    """Someone holding a post, as shown on a page: the phone is already masked."""

    role: str
    name: str
    phone: str
    where: str = ""


def mask_phone(phone):
    """138****5678: enough to recognise a number, not enough to dial it.

    Always four stars whatever was hidden, so the mask does not give away the
    length of short or unusual numbers either.
    """
    phone = (phone or "").strip()
    if not phone:
        return ""
    if len(phone) >= 8:
        return f"{phone[:3]}****{phone[-4:]}"
    return f"****{phone[-2:]}" if len(phone) > 2 else "****"


def layout_for(user):
    if not user.is_authenticated:
        return "layouts/public.html"
    return f"layouts/{primary_audience(user)}.html"


def _render(request, template, context):
    return render(request, template, {"layout": layout_for(request.user), **context})


def render_page(request, template, context, *, status=200, layout=None):
    """A page in the user's layout (or `layout`), which templates also know by its audience name."""
    layout = layout or layout_for(request.user)
    audience = layout.rsplit("/", 1)[-1].removesuffix(".html")
    return render(request, template, {"layout": layout, "audience": audience, **context}, status=status)


def public_page(request, template, context, *, status=200):
    """A page for residents without an account (report, tracking, orders), whoever is signed in."""
    return render_page(request, template, context, status=status, layout="layouts/public.html")


def place_names(case_or_building):
    """Street › community › grid › building names (the public structure, no people) of a
    building, or of a row stored on a place path (a case, a resident's order)."""
    if isinstance(case_or_building, Building):
        grid = case_or_building.grid
        names = [a.name for a in grid.get_ancestors() if a.kind != AreaKind.DISTRICT] + [grid.name]
        return names + [str(case_or_building)]
    case = case_or_building
    names = [a.name for a in (case.street, case.community, case.grid) if a is not None]
    if case.building_id:
        names.append(str(case.building))
    if case.unit_id:
        names.append(case.unit.number)
    return names


def prefill_place(building_id):
    """Cascade values for a building (the notice-board link ?building=<id>)."""
    if not building_id:
        return {}
    building = Building.objects.select_related("grid__parent").filter(pk=building_id).first()
    if building is None:
        return {}
    community = building.grid.parent
    return {"street": community.parent_id, "community": community.pk, "grid": building.grid_id,
            "building": building.pk}


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    # Evaluate here: the template walks a plain list, never a lazy slice.
    page.object_list = list(page.object_list)
    return page


def _people(posts):
    return [
        Person(
            role=post.get_role_display(),
            name=str(post.user),
            phone=mask_phone(post.user.phone),
            where=post.unit.number if post.unit_id else "",
        )
        for post in posts
    ]


def _place_url(area):
    return reverse("place", args=[area.pk])


def _crumbs(user, areas):
    """A path of places, top-down, each linked only if the user may open it."""
    areas = list(areas)
    visible = set(areas_visible_to(user).filter(pk__in=[a.pk for a in areas]).values_list("pk", flat=True))
    return [Crumb(a.name, _place_url(a) if a.pk in visible else None) for a in areas]


def _paths_to(user, areas):
    """{area id: [Crumb, ...] from its district down to itself}, in two queries.

    The names along the path are the address of a post the user holds, so they
    are shown even above the user's scope (a building chief sees which grid and
    community the building is in); only the links follow the selectors. Read
    unscoped on purpose, by nested-set bounds taken from the user's own posts.
    """
    areas = {a.pk: a for a in areas}
    if not areas:
        return {}
    around = reduce(
        or_, (Q(tree_id=a.tree_id, lft__lte=a.lft, rght__gte=a.rght) for a in areas.values())
    )
    ancestors = list(Area.objects.filter(around).order_by("tree_id", "lft"))
    crumbs = dict(zip((a.pk for a in ancestors), _crumbs(user, ancestors)))
    return {
        pk: [crumbs[b.pk] for b in ancestors if b.tree_id == a.tree_id and b.lft <= a.lft and b.rght >= a.rght]
        for pk, a in areas.items()
    }


def _my_posts(user):
    """The user's active posts, each with the path to the place it is held on."""
    posts = list(
        active_posts(user)
        .select_related("area", "building__grid", "unit__building__grid", "organisation__seat")
        .order_by("started_at", "pk")
    )
    # Building and unit posts hang under a grid; the path runs through it. A post on an
    # organisation (职能部门, 物业...) shows the path to the organisation's seat, then its name.
    grid_of = {p.pk: p.area or (p.organisation.seat if p.organisation_id else (p.building or p.unit.building).grid)
               for p in posts}
    paths = _paths_to(user, grid_of.values())
    buildings = [p.building or p.unit.building for p in posts if not p.area_id and not p.organisation_id]
    open_buildings = set(
        buildings_visible_to(user).filter(pk__in=[b.pk for b in buildings]).values_list("pk", flat=True)
    ) if buildings else set()
    rows = []
    for post in posts:
        path = list(paths[grid_of[post.pk].pk])
        if post.organisation_id:
            path.append(Crumb(post.organisation.name))
        elif not post.area_id:
            building = post.building or post.unit.building
            url = reverse("building", args=[building.pk]) if building.pk in open_buildings else None
            path.append(Crumb(building.number, url))  # the address would crowd a path
        if post.unit_id:
            path.append(Crumb(post.unit.number))
        rows.append({"role": post.get_role_display(), "path": path})
    return rows


def home(request):
    """Residents get the public landing page; people with posts get their own page."""
    if not request.user.is_authenticated:
        return _render(request, "grid/landing.html", {})
    user = request.user
    kinds, building_count, unit_count = reach_summary(user)
    scope = scope_of(user)
    return _render(request, "grid/home.html", {
        # An organisation's staff reach matters sent to it, no place: their page leads to its queue.
        "org_only": bool(scope.organisation_ids) and not (scope.spans or scope.building_ids or scope.unit_ids),
        "me": {"name": str(user), "username": user.username, "phone": mask_phone(user.phone)},
        "posts": _my_posts(user),
        "reach": [(KIND_PLURAL[kind], n) for kind, n in kinds],
        "building_count": building_count,
        "unit_count": unit_count,
        "top_places": [
            {"name": a.name, "kind": a.get_kind_display(), "code": a.code, "url": _place_url(a)}
            for a in top_places(user)
        ],
    })


@login_required
def place_detail(request, pk):
    user = request.user
    place = get_visible_or_404(areas_visible_to(user).select_related("merged_into"), pk=pk)
    merged_into = None
    if place.merged_into_id:
        merged_into = _crumbs(user, [place.merged_into])[0]
    people = _people(
        posts_visible_to(user).filter(area=place, ended_at__isnull=True)
        .select_related("user", "unit").order_by("role", "started_at")
    )
    context = {
        "place": place,
        "crumbs": _crumbs(user, place.get_ancestors()),
        "merged_into": merged_into,
        "people": people,
        "below_count": place.get_descendant_count(),
        # Grid health is for those who manage the place (community staff and above).
        "may_see_health": place.kind != AreaKind.GRID and place.is_active and can_manage_area(user, place),
    }
    if place.kind == AreaKind.GRID:
        buildings = (
            buildings_visible_to(user).filter(grid=place).select_related("compound")
            .annotate(unit_count=Count("units"))
            # 2号楼 before 10号楼: shorter numbers first, then by text.
            .order_by(Length("number"), "number", "pk")
        )
        context["buildings"] = _page(request, buildings)
    else:
        children = areas_visible_to(user).filter(parent=place, is_active=True).order_by("code")
        children_are_grids = place.child_kind == AreaKind.GRID
        if children_are_grids:
            children = children.annotate(building_count=Count("buildings"))
        context["children_are_grids"] = children_are_grids
        context["children"] = _page(request, children)
        context["children_title"] = KIND_PLURAL[place.child_kind]
        if place.kind in (AreaKind.STREET, AreaKind.COMMUNITY):
            # 包片: the district and street leaders who look after this place.
            context["liaisons"] = list(liaisons_over([place.pk]))
        if place.kind == AreaKind.COMMUNITY:
            # 有物业 first, then the compounds without property management listed apart, as the
            # field reports count them ("10个小区，其中8个无物业管理小区").
            compounds = list(
                compounds_visible_to(user).filter(community=place, is_active=True)
                .select_related("property_company").annotate(building_count=Count("buildings"))
                .order_by("name")[:COMPOUNDS_SHOWN]
            )
            context["compounds_managed"] = [c for c in compounds if c.has_property_management]
            context["compounds_unmanaged"] = [c for c in compounds if not c.has_property_management]
            context["compounds_total"] = len(compounds)
    return _render(request, "grid/place.html", context)


@login_required
def building_detail(request, pk):
    user = request.user
    building = get_visible_or_404(buildings_visible_to(user).select_related("grid", "compound__property_company"),
                                  pk=pk)
    units = _page(
        request,
        units_visible_to(user).filter(building=building).order_by(Length("number"), "number", "pk"),
    )
    posts = (
        posts_visible_to(user)
        .filter(Q(building=building) | Q(unit__in=[u.pk for u in units.object_list]), ended_at__isnull=True)
        .select_related("user", "unit")
        .order_by("role", "unit__number", "started_at")
    )
    people = _people(posts)
    chiefs_by_unit = {}
    for person in people:
        if person.where:
            chiefs_by_unit.setdefault(person.where, []).append(person)
    return _render(request, "grid/building.html", {
        "building": building,
        "crumbs": _crumbs(user, building.grid.get_ancestors(include_self=True)),
        "building_chiefs": [p for p in people if not p.where],
        "units": units,
        "unit_rows": [(u, chiefs_by_unit.get(u.number, [])) for u in units.object_list],
    })
