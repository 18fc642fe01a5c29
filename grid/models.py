"""The governance hierarchy: district → street → community → grid (an MPTT tree per
district), buildings and units as plain rows under grids, and posts that tie
users to places.

Structural writes go through grid/services.py only.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from .geo import validate_boundary


class User(AbstractUser):
    """A person who signs in: staff, grid worker, chief or official."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.username


class AreaKind(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")


# Kind ↔ depth in the tree, and the length of the hierarchical code at that depth
# (6-digit administrative division + 3 street + 3 community + 3 grid).
KIND_LEVEL = {AreaKind.DISTRICT: 0, AreaKind.STREET: 1, AreaKind.COMMUNITY: 2, AreaKind.GRID: 3}
KIND_CODE_LENGTH = {AreaKind.DISTRICT: 6, AreaKind.STREET: 9, AreaKind.COMMUNITY: 12, AreaKind.GRID: 15}
KIND_BY_LEVEL = {level: kind for kind, level in KIND_LEVEL.items()}
# Field names on PlacePath, top-down.
PATH_FIELDS = ("district", "street", "community", "grid")


def _kind_rule():
    # Depth and kind must agree, so a node's parent is always of the kind above it:
    # the parent-kind rule lives in the database, not only in forms.
    rule = Q()
    for kind, level in KIND_LEVEL.items():
        shape = Q(kind=kind, level=level) & Q(Exact(Length("code"), KIND_CODE_LENGTH[kind]))
        shape &= Q(parent__isnull=True) if level == 0 else Q(parent__isnull=False)
        rule |= shape
    return rule


class Area(MPTTModel):
    """A place in the administrative tree (区/街道/社区/网格). One tree per district."""

    kind = models.CharField(_("kind"), max_length=10, choices=AreaKind.choices)
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=15, unique=True)
    parent = TreeForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from",
        verbose_name=_("merged into"),
    )
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True, validators=[validate_boundary])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class MPTTMeta:
        order_insertion_by = None

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        indexes = [
            # Subtree scans (tree_id = ? AND lft BETWEEN ? AND ?) everywhere; MPTT
            # does not create this index through migrations by itself.
            models.Index(fields=["tree_id", "lft"], name="area_tree_lft"),
            models.Index(fields=["kind", "name"], name="area_kind_name"),
        ]
        constraints = [
            models.CheckConstraint(condition=_kind_rule(), name="area_kind_matches_depth_and_code"),
            models.CheckConstraint(condition=Q(lft__lt=models.F("rght")), name="area_lft_lt_rght"),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(is_active=False),
                name="area_merged_is_inactive",
            ),
            # ASCII digits only: str.isdigit() in the services also takes "００１".
            # \A and \Z rather than ^ and $: Python's $ (SQLite's REGEXP, which
            # Django registers on its connections) also matches before a final
            # newline, and "51070300100100\n" has a grid code's 15 characters.
            # PostgreSQL's ~ reads \A and \Z the same way.
            models.CheckConstraint(condition=Q(code__regex=r"\A[0-9]+\Z"), name="area_code_ascii_digits"),
        ]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @property
    def suffix(self):
        """The part of the code this node adds to its parent's."""
        return self.code[-3:] if self.kind != AreaKind.DISTRICT else self.code

    @property
    def child_kind(self):
        return KIND_BY_LEVEL.get(KIND_LEVEL[self.kind] + 1)


class Compound(models.Model):
    """小区/院落: a residential compound, as residents name their address ("阳光名苑2号楼").

    It belongs to one community and may span its grids; buildings belong to a grid and
    optionally to a compound. Building numbers are unique within a compound (and, for
    buildings outside any compound, within their grid), so two grids that both have a
    "1号楼" in different compounds can merge. Writes go through grid/services_compounds.py.
    """

    community = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="compounds", verbose_name=_("community"),
        limit_choices_to={"kind": AreaKind.COMMUNITY},
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # 有物业/无物业: the field reports count the compounds without property management apart.
    has_property_management = models.BooleanField(_("has property management (有物业)"), default=False)
    property_company = models.ForeignKey(
        "Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="managed_compounds",
        verbose_name=_("property-management company (物业)"),
    )
    owners_committee = models.ForeignKey(
        "Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="owned_compounds",
        verbose_name=_("owners' committee (业委会)"),
    )
    party_branch = models.CharField(_("party branch (小区党支部)"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("compound (小区)")
        verbose_name_plural = _("compounds (小区)")
        ordering = ["community_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="compound_name_unique_in_community"),
            models.CheckConstraint(condition=~Q(name=""), name="compound_has_name"),
            models.CheckConstraint(
                condition=Q(property_company__isnull=True) | Q(has_property_management=True),
                name="compound_property_company_means_managed",
            ),
        ]

    def __str__(self):
        return self.name


class Building(models.Model):
    """楼栋: a plain row under a grid (not a tree node; see DOMAIN and issue #2)."""

    grid = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("grid"),
        limit_choices_to={"kind": AreaKind.GRID},
    )
    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, null=True, blank=True, related_name="buildings",
        verbose_name=_("compound (小区)"),
    )
    number = models.CharField(_("number"), max_length=20, help_text=_("e.g. 3号楼"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["grid_id", "number"]
        constraints = [
            # Numbers are unique within the compound; outside any compound, within the grid.
            models.UniqueConstraint(fields=["compound", "number"], condition=Q(compound__isnull=False),
                                    name="building_number_unique_in_compound"),
            models.UniqueConstraint(fields=["grid", "number"], condition=Q(compound__isnull=True),
                                    name="building_number_unique_in_grid"),
        ]
        # Snapping a point to the buildings around it (grid/geo.py nearest_buildings). The
        # search's trigram index is PostgreSQL-only: migration 0010 creates it there.
        indexes = [models.Index(fields=["grid", "number"], name="building_grid_number"),
                   models.Index(fields=["latitude", "longitude"], name="building_lat_lon")]

    def __str__(self):
        # Every grid has its "1号楼": the address (or else the name) tells
        # them apart in a city-wide autocomplete, without another query.
        detail = self.address or self.name
        return f"{self.number}（{detail}）" if detail else self.number


class Unit(models.Model):
    """单元: an entrance/stairwell of a building."""

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("building")
    )
    number = models.CharField(_("number"), max_length=20, help_text=_("e.g. 2单元"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["building_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="unit_number_unique_in_building"),
        ]

    def __str__(self):
        return f"{self.building} {self.number}"


class Role(models.TextChoices):
    DISTRICT_OFFICIAL = "district_official", _("District official")
    STREET_STAFF = "street_staff", _("Street staff")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_WORKER = "grid_worker", _("Grid worker")
    GRID_CHIEF = "grid_chief", _("Grid chief")
    BUILDING_CHIEF = "building_chief", _("Building chief")
    UNIT_CHIEF = "unit_chief", _("Unit chief")
    ORG_STAFF = "org_staff", _("Organisation staff")
    ORG_HEAD = "org_head", _("Organisation head")
    # Dispute mediation (矛盾纠纷调解): posts that mediate but do not manage places.
    PEOPLES_MEDIATOR = "peoples_mediator", _("People's mediator")
    JUSTICE_OFFICE_STAFF = "justice_staff", _("Justice office staff")
    COMMUNITY_LAWYER = "community_lawyer", _("Community lawyer")


# Which kind of place each role is held on.
ROLE_AREA_KIND = {
    Role.DISTRICT_OFFICIAL: AreaKind.DISTRICT,
    Role.STREET_STAFF: AreaKind.STREET,
    Role.COMMUNITY_STAFF: AreaKind.COMMUNITY,
    Role.GRID_WORKER: AreaKind.GRID,
    Role.GRID_CHIEF: AreaKind.GRID,
    # 人民调解员 serve the community's mediation committee (调委会); the 司法所 is the
    # street's justice office; 律师进社区 posts a lawyer to a community.
    Role.PEOPLES_MEDIATOR: AreaKind.COMMUNITY,
    Role.JUSTICE_OFFICE_STAFF: AreaKind.STREET,
    Role.COMMUNITY_LAWYER: AreaKind.COMMUNITY,
}
AREA_ROLES = tuple(ROLE_AREA_KIND)
# Roles that may change the structure of the places under them.
MANAGING_ROLES = (Role.DISTRICT_OFFICIAL, Role.STREET_STAFF, Role.COMMUNITY_STAFF)
# Roles held on an organisation (a functional department, a utility, a 物业...), not on a place.
# They reach the matters sent to the organisation, never the places' residents.
ORG_ROLES = (Role.ORG_STAFF, Role.ORG_HEAD)


class OrgKind(models.TextChoices):
    """What sort of body an organisation is (the field reports' own distinctions)."""

    DEPARTMENT = "department", _("Functional department (职能部门)")
    UTILITY = "utility", _("Utility (公用事业单位)")
    PROPERTY = "property", _("Property-management company (物业服务企业)")
    OWNERS = "owners", _("Owners' committee (业委会)")
    SOCIAL = "social", _("Social organisation (社会组织)")
    STATIONED = "stationed", _("Stationed unit (驻区单位)")


class OrgFunction(models.TextChoices):
    """The powers an organisation holds; routing rules name a function or one organisation."""

    URBAN_MANAGEMENT = "urban_mgmt", _("Urban management and law enforcement (城管执法)")
    POLICE = "police", _("Police station (公安派出所)")
    JUSTICE = "justice", _("Judicial office (司法所)")
    MARKET = "market", _("Market regulation (市场监管所)")
    HOUSING = "housing", _("Housing and construction (住建)")
    ENVIRONMENT = "environment", _("Ecology and environment (生态环境)")
    FIRE = "fire", _("Fire and rescue (消防)")
    HEALTH = "health", _("Health (卫健)")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs (民政)")
    WATER = "water", _("Water supply (供水)")
    POWER = "power", _("Power supply (供电)")
    GAS = "gas", _("Gas supply (燃气)")
    PROPERTY = "property", _("Property management (物业)")
    OWNERS = "owners", _("Owners' committee (业委会)")
    OTHER = "other", _("Other")


UTILITY_FUNCTIONS = (OrgFunction.WATER, OrgFunction.POWER, OrgFunction.GAS)
DEPARTMENT_FUNCTIONS = (
    OrgFunction.URBAN_MANAGEMENT, OrgFunction.POLICE, OrgFunction.JUSTICE, OrgFunction.MARKET,
    OrgFunction.HOUSING, OrgFunction.ENVIRONMENT, OrgFunction.FIRE, OrgFunction.HEALTH,
    OrgFunction.CIVIL_AFFAIRS,
)
# Kinds whose seat may be a street or a district; a 物业 or 业委会 sits at its community.
SEAT_KINDS = (AreaKind.DISTRICT, AreaKind.STREET, AreaKind.COMMUNITY)


class Organisation(models.Model):
    """A body outside the residential tree that takes matters: a functional department (城管执法,
    派出所, 司法所...), a utility, a compound's 物业服务企业 or 业委会, a social organisation or a
    stationed unit (驻区单位).

    It has a seat (the district, street or community it answers to, whose managing staff
    administer it) and a jurisdiction (the places and buildings it covers: a police station
    some communities, a 物业 some buildings). Its staff hold posts on it.
    Writes go through grid/services_orgs.py.
    """

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=OrgKind.choices)
    function = models.CharField(_("function"), max_length=16, choices=OrgFunction.choices)
    seat = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="organisations", verbose_name=_("seat"),
        help_text=_("The district, street or community the organisation answers to."),
    )
    phone = models.CharField(_("contact phone"), max_length=20)
    duty_phone = models.CharField(_("duty phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["seat_id", "function", "name"]
        indexes = [models.Index(fields=["seat", "function"], name="org_seat_function")]
        constraints = [
            # The kind and the function agree: a utility supplies water, power or gas; a 物业
            # manages property; a 业委会 is an owners' committee; a department holds a power.
            models.CheckConstraint(
                name="org_function_fits_kind",
                condition=(
                    Q(kind=OrgKind.UTILITY, function__in=UTILITY_FUNCTIONS)
                    | Q(kind=OrgKind.PROPERTY, function=OrgFunction.PROPERTY)
                    | Q(kind=OrgKind.OWNERS, function=OrgFunction.OWNERS)
                    | Q(kind=OrgKind.DEPARTMENT, function__in=DEPARTMENT_FUNCTIONS)
                    | Q(kind__in=(OrgKind.SOCIAL, OrgKind.STATIONED), function=OrgFunction.OTHER)
                ),
            ),
            models.CheckConstraint(name="org_name_not_blank", condition=~Q(name="")),
            models.CheckConstraint(name="org_phone_not_blank", condition=~Q(phone="")),
        ]

    def __str__(self):
        return self.name


class Jurisdiction(models.Model):
    """One place (with its subtree) or one building an organisation covers (辖区)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="jurisdiction", verbose_name=_("organisation")
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("place")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, related_name="jurisdictions",
        verbose_name=_("building"),
    )

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdiction")
        constraints = [
            models.CheckConstraint(
                name="jurisdiction_place_or_building",
                condition=Q(area__isnull=False, building__isnull=True) | Q(area__isnull=True, building__isnull=False),
            ),
            models.UniqueConstraint(fields=["organisation", "area"], condition=Q(area__isnull=False),
                                    name="jurisdiction_area_once"),
            models.UniqueConstraint(fields=["organisation", "building"], condition=Q(building__isnull=False),
                                    name="jurisdiction_building_once"),
        ]

    def __str__(self):
        return str(self.area or self.building)


class Post(models.Model):
    """A user's post on a place (岗位). Reaches the whole subtree under the place.

    Ending a post keeps it as history; only posts with no end date grant access.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="posts", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="posts", verbose_name=_("place")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, related_name="posts",
        verbose_name=_("building"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="posts", verbose_name=_("unit")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="posts",
        verbose_name=_("organisation"),
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [models.Index(fields=["user", "ended_at"], name="post_user_active")]
        constraints = [
            models.CheckConstraint(
                name="post_place_matches_role",
                condition=(
                    Q(role__in=AREA_ROLES, area__isnull=False, building__isnull=True, unit__isnull=True,
                      organisation__isnull=True)
                    | Q(role=Role.BUILDING_CHIEF, area__isnull=True, building__isnull=False, unit__isnull=True,
                        organisation__isnull=True)
                    | Q(role=Role.UNIT_CHIEF, area__isnull=True, building__isnull=True, unit__isnull=False,
                        organisation__isnull=True)
                    | Q(role__in=ORG_ROLES, area__isnull=True, building__isnull=True, unit__isnull=True,
                        organisation__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="post_ends_after_start",
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "area"], condition=Q(ended_at__isnull=True, area__isnull=False),
                name="post_one_active_per_area",
            ),
            models.UniqueConstraint(
                fields=["user", "building"], condition=Q(ended_at__isnull=True, building__isnull=False),
                name="post_one_active_per_building",
            ),
            models.UniqueConstraint(
                fields=["user", "unit"], condition=Q(ended_at__isnull=True, unit__isnull=False),
                name="post_one_active_per_unit",
            ),
            models.UniqueConstraint(
                fields=["user", "organisation"], condition=Q(ended_at__isnull=True, organisation__isnull=False),
                name="post_one_active_per_organisation",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.place}"

    @property
    def place(self):
        return self.area or self.building or self.unit or self.organisation

    @property
    def is_active(self):
        return self.ended_at is None


class LiaisonLevel(models.TextChoices):
    DISTRICT = "district", _("District leader")
    STREET = "street", _("Street leader")


class Liaison(models.Model):
    """包片: a district or street leader assigned to a street or a community they look after.

    Not a post: it grants no access. It names who is shown on the place's page and on the
    command screen, and who hears of supervised (督办) matters there (cases/oversight.py).
    Ending an assignment keeps it as history.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="liaisons", verbose_name=_("official"))
    level = models.CharField(_("level"), max_length=10, choices=LiaisonLevel.choices)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="liaisons", verbose_name=_("place"),
                             help_text=_("A street or a community."))
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("包片 assignment")
        verbose_name_plural = _("包片 assignments")
        ordering = ["area_id", "level", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "area"], condition=Q(ended_at__isnull=True),
                                    name="liaison_one_active_per_area"),
            models.CheckConstraint(name="liaison_ends_after_start",
                                   condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at"))),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_level_display()} · {self.area}"


class AreaEvent(models.Model):
    """Immutable history of structural changes (add, rename, move, merge, split, delete) and outlines.

    A building moved to another grid is a MOVE on both grids, its details
    naming the building (building_id, number) and the two grids.
    """

    class Action(models.TextChoices):
        ADD = "add", _("Added")
        RENAME = "rename", _("Renamed")
        MOVE = "move", _("Moved")
        MERGE = "merge", _("Merged")
        SPLIT = "split", _("Split")
        DELETE = "delete", _("Deleted")
        # The outline (boundary) replaced by an import (grid/services_boundaries.py).
        BOUNDARY = "boundary", _("Outline changed")

    area = models.ForeignKey(
        Area, on_delete=models.SET_NULL, null=True, blank=True, related_name="events", verbose_name=_("place")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"))
    details = models.JSONField(_("details"), default=dict)

    class Meta:
        verbose_name = _("place history")
        verbose_name_plural = _("place history")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()} {self.details.get('name') or self.details.get('number', '')}"


def path_fk(label, *, null=True):
    """A PlacePath column without its single-column index, for models whose
    composite indexes lead with these columns (millions of cases or residents
    should not carry both)."""
    return models.ForeignKey(
        Area, on_delete=models.PROTECT, null=null, blank=null, related_name="+", verbose_name=label,
        db_index=False,
    )


class PlacePath(models.Model):
    """Abstract: the ids of the district, street, community and grid a row hangs on.

    Stored on high-volume rows (cases, residents...) so dashboards and scoping
    filter on an indexed column instead of walking the tree. grid/services.py
    keeps these right when a subtree moves, merges or splits; nothing else
    writes them after creation.
    """

    district = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    street = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("street")
    )
    community = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("community")
    )
    grid = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("grid")
    )

    # A row whose place is another row's (a party member's is their organisation's) names that foreign
    # key here: when buildings move, grid/services.py re-paths it with the row it follows.
    path_follows = None

    class Meta:
        abstract = True
