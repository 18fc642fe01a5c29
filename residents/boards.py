"""The public notice board (公示牌) of a building: who looks after it and how to reach them.

Each building shows its grid worker(s), the three chiefs (三长: the grid's
grid chief, the building chief, the chiefs of its units) with their names and
full phone numbers, the water/power/gas/hotline service numbers and a QR code
that opens the resident report form for this building (cases:report_building).

The phones here are staff and volunteer contact numbers, printed on purpose:
reaching these people is what the board is for. They come from the posts'
users (grid.User.phone), never from residents' records. Which boards a user may
print is decided by grid.selectors.buildings_visible_to (chiefs included); the
contacts on a board are read for the building itself, whoever prints it, since
the board shows the same people to every passer-by.

Everything for any number of buildings is read in a fixed number of queries
(`boards_for`): the buildings with their grid, community and street, then all
active posts of those grids, buildings and units at once.
"""

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.db.models.functions import Length
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from grid.models import AreaKind, Building, Post, Role
from portal import degraded

from . import hooks

# Service numbers in print order, with their labels (values: settings.NOTICE_BOARD_NUMBERS).
SERVICE_NUMBERS = (
    ("water", _("Water supply")),
    ("power", _("Power supply")),
    ("gas", _("Gas")),
    ("hotline", _("Citizen hotline")),
)
BOARD_ROLES = (Role.GRID_WORKER, Role.GRID_CHIEF, Role.BUILDING_CHIEF, Role.UNIT_CHIEF)


@dataclass(frozen=True)
class Contact:
    """Someone on the board: name and full phone (a public contact number, see the module docstring)."""

    name: str
    phone: str
    where: str = ""  # the unit, for unit chiefs


@dataclass
class Board:
    building: Building
    grid_name: str
    community_name: str
    street_name: str
    report_url: str  # absolute: what the QR code encodes
    workers: list = field(default_factory=list)
    grid_chiefs: list = field(default_factory=list)
    building_chiefs: list = field(default_factory=list)
    unit_chiefs: list = field(default_factory=list)
    numbers: list = field(default_factory=list)  # [(label, number)]
    # The compound (小区) the building stands in, if any, and who manages it: its 物业 with
    # the company's public phone, or None for a compound without property management
    # (the community looks after it then), and its owners' committee (业委会).
    compound_name: str = ""
    property_company: dict | None = None
    unmanaged: bool = False
    owners_committee: str = ""
    # The households' points-card stars [(masked room, stars)], if the community shows them.
    stars: list = field(default_factory=list)

    qr: str = ""  # inline SVG markup, filled by boards_for

    @property
    def qr_svg(self):
        return self.qr or qr_svg(self.report_url)

    @property
    def has_chiefs(self):
        return bool(self.grid_chiefs or self.building_chiefs or self.unit_chiefs)


@lru_cache(maxsize=4096)
def qr_code(url):
    """The QR code of `url` (segno; error correction M or better, boosted when it fits)."""
    # Imported here: segno is ~8 MB in every web worker, for the boards' QR codes only (issue #24).
    import segno

    return segno.make(url, error="m", micro=False)


@lru_cache(maxsize=4096)
def qr_svg(url):
    """Inline SVG markup of the QR code, sized by CSS (viewBox, no width/height, no style attribute)."""
    svg = qr_code(url).svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", lineclass="qr-modules")
    return mark_safe(svg)  # noqa: S308 — segno's own markup: paths and numbers, no text of ours


QR_CACHE_SECONDS = 30 * 24 * 3600


def qr_svgs(urls):
    """{url: svg} for many URLs: from the shared cache where made before (a community is ~100 codes,
    ~10–20 ms each to make), made and stored otherwise. The markup depends on the URL alone."""
    keys = {url: "residents:qr:" + hashlib.sha256(url.encode()).hexdigest() for url in urls}
    cached = {}
    if degraded.cache_usable():
        try:
            cached = cache.get_many(list(keys.values()))
        except Exception as exc:  # noqa: BLE001 — without Redis the codes are made again, slower
            degraded.cache_failed("the notice boards' QR codes", exc)
    found, missing = {}, {}
    for url, key in keys.items():
        if key in cached:
            found[url] = mark_safe(cached[key])  # noqa: S308 — stored by us, segno's markup
        else:
            found[url] = qr_svg(url)
            missing[key] = str(found[url])
    if missing and degraded.cache_usable():
        try:
            cache.set_many(missing, QR_CACHE_SECONDS)
        except Exception as exc:  # noqa: BLE001
            degraded.cache_failed("the notice boards' QR codes", exc)
    return found


def service_numbers():
    configured = getattr(settings, "NOTICE_BOARD_NUMBERS", {}) or {}
    return [(label, configured[key]) for key, label in SERVICE_NUMBERS if configured.get(key)]


def report_url(request, building_id):
    return request.build_absolute_uri(reverse("cases:report_building", args=[building_id]))


def _contact(post):
    user = post.user
    return Contact(name=str(user), phone=(user.phone or "").strip(),
                   where=post.unit.number if post.unit_id else "")


def boards_for(buildings, *, request):
    """A Board per building of `buildings` (a queryset already scoped by the caller), in its order.

    Three queries whatever the number of buildings: the buildings with their
    grid, community and street; the active posts on their grids, the buildings
    and their units (with users and units).
    """
    buildings = list(buildings.select_related("grid__parent__parent", "compound__property_company",
                                              "compound__owners_committee"))
    if not buildings:
        return []
    grid_ids = sorted({b.grid_id for b in buildings})
    building_ids = [b.pk for b in buildings]
    posts = (
        Post.objects.filter(ended_at__isnull=True, role__in=BOARD_ROLES)
        .filter(
            Q(area_id__in=grid_ids, role__in=(Role.GRID_WORKER, Role.GRID_CHIEF))
            | Q(building_id__in=building_ids, role=Role.BUILDING_CHIEF)
            | Q(unit__building_id__in=building_ids, role=Role.UNIT_CHIEF)
        )
        .select_related("user", "unit")
        .order_by(Length("unit__number"), "unit__number", "started_at", "pk")
    )
    by_grid, by_building = {}, {}
    for post in posts:
        if post.area_id:
            by_grid.setdefault(post.area_id, []).append(post)
        else:
            building_id = post.building_id or post.unit.building_id
            by_building.setdefault(building_id, []).append(post)
    numbers = service_numbers()
    boards = []
    for building in buildings:
        grid = building.grid
        community = grid.parent if grid.parent and grid.parent.kind == AreaKind.COMMUNITY else None
        street = community.parent if community and community.parent else None
        board = Board(
            building=building, grid_name=grid.name, community_name=community.name if community else "",
            street_name=street.name if street else "", report_url=report_url(request, building.pk),
            numbers=numbers,
        )
        compound = building.compound if building.compound_id and building.compound.is_active else None
        if compound is not None:
            board.compound_name = compound.name
            company = compound.property_company if compound.has_property_management else None
            board.unmanaged = not compound.has_property_management
            if company is not None:
                board.property_company = {"name": company.name, "phone": company.duty_phone or company.phone}
            if compound.owners_committee_id:
                board.owners_committee = compound.owners_committee.name
        for post in by_grid.get(grid.pk, ()):
            (board.workers if post.role == Role.GRID_WORKER else board.grid_chiefs).append(_contact(post))
        for post in by_building.get(building.pk, ()):
            (board.building_chiefs if post.role == Role.BUILDING_CHIEF else board.unit_chiefs).append(_contact(post))
        boards.append(board)
    svgs = qr_svgs([b.report_url for b in boards])
    for board in boards:
        board.qr = svgs[board.report_url]
    return boards


def attach_stars(boards):
    """The households' stars on each board (one query; empty where the community did not enable them)."""
    if boards:
        stars = hooks.household_stars([b.building.pk for b in boards])
        for board in boards:
            board.stars = stars.get(board.building.pk, [])
    return boards


def buildings_under(queryset, place):
    """The buildings of `queryset` in the grids under `place` (a community or a grid), board order."""
    if place.kind == AreaKind.GRID:
        queryset = queryset.filter(grid=place)
    else:
        queryset = queryset.filter(grid__tree_id=place.tree_id, grid__lft__gte=place.lft,
                                   grid__lft__lte=place.rght)
    # Grid by grid (in code order), 2号楼 before 10号楼.
    return queryset.order_by("grid__code", Length("number"), "number", "pk")
