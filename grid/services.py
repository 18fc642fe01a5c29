"""Every structural write to the hierarchy: add, rename, move, merge, split,
delete; buildings, units, posts and invited accounts.

Each service runs in one transaction, takes the tree lock of every district
tree it touches (PostgreSQL advisory locks, in a fixed order, so two writers on
one tree queue instead of corrupting the nested sets), re-reads the rows it
changes under that lock, and writes an AreaEvent in the same transaction.
A refused write raises DomainError before anything is changed.
"""

from django.apps import apps
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Value
from django.db.models.deletion import ProtectedError
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import DomainError

from .models import (
    KIND_BY_LEVEL,
    Compound,
    KIND_CODE_LENGTH,
    KIND_LEVEL,
    MANAGING_ROLES,
    ORG_ROLES,
    PATH_FIELDS,
    ROLE_AREA_KIND,
    Area,
    AreaEvent,
    AreaKind,
    Building,
    Liaison,
    Organisation,
    PlacePath,
    Post,
    Role,
    Unit,
    User,
)
from .selectors import can_manage_area, forget_scope
from .tree_moves import can_move_in_place, move_last_child

# Advisory-lock namespace for district trees; key 0 guards creating a new tree.
_LOCK_NAMESPACE = 7301
_NEW_TREE_KEY = 0


def lock_trees(*tree_ids, shared=False):
    """Serialise writers per district tree until the transaction ends (no-op on SQLite,
    which serialises writes). `shared`: for writers that only read the tree (a
    report reading a place's path): they wait for tree writes, not for each other.
    Returns whether a lock was taken.
    """
    if connection.vendor != "postgresql":
        return False
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        for tree_id in sorted(set(tree_ids)):
            cursor.execute(f"SELECT {function}(%s, %s)", [_LOCK_NAMESPACE, tree_id])
    return True


def _fresh(area):
    """Re-read a node under the lock: MPTT's nested-set fields on an old instance lie."""
    return Area.objects.get(pk=area.pk)


def _reread(place):
    """A place (area, building or unit) as it is now, and the area whose tree holds it."""
    if isinstance(place, Area):
        area = _fresh(place)
        return area, area
    if isinstance(place, Building):
        building = Building.objects.select_related("grid").get(pk=place.pk)
        return building, building.grid
    if isinstance(place, Unit):
        unit = Unit.objects.select_related("building__grid").get(pk=place.pk)
        return unit, unit.building.grid
    raise DomainError(_("A post is held on a place, a building or a unit."))


def _lock_fresh(*places):
    """Lock the trees the given places are in now, and return them re-read under the lock.

    Places are areas, buildings or units (a building's or unit's tree is its
    grid's). The caller's instances may be stale: a street moved to another
    district, or a building moved to another grid, since it was read sits in a
    tree other than the caller's copy says. Read where they are now, lock those
    trees (in order), and re-read; should one have moved in between, lock its
    new tree too (out of order: PostgreSQL then breaks any deadlock by failing
    one transaction, which changes nothing).
    """
    locked = set()
    while True:
        fresh = [_reread(p) for p in places]
        wanted = {area.tree_id for _place, area in fresh} - locked
        if not wanted:
            return [place for place, _area in fresh]
        lock_trees(*wanted)
        locked |= wanted


def _require_manage(acting_user, *areas):
    # The acting user's scope is cached with the nested-set bounds of their
    # posts as they were when first read; any tree write since (theirs earlier
    # in the request, or another's before our lock) shifts them. Read it again.
    if acting_user is not None:
        forget_scope(acting_user)
    for area in areas:
        if not can_manage_area(acting_user, area):
            raise DomainError(_("You do not manage “%(place)s”.") % {"place": area.name}, code="forbidden")


def _log(area, action, acting_user, now, **details):
    AreaEvent.objects.create(area=area, action=action, actor=acting_user, at=now, details=details)


def path_values(area):
    """{district_id, street_id, community_id, grid_id} for a place (None below it)."""
    values = dict.fromkeys((f"{f}_id" for f in PATH_FIELDS), None)
    node = Area.objects.only("tree_id", "lft", "rght").get(pk=area.pk)  # never trust stale bounds
    ancestors = Area.objects.filter(tree_id=node.tree_id, lft__lte=node.lft, rght__gte=node.rght)
    for pk, kind in ancestors.values_list("pk", "kind"):
        values[f"{kind}_id"] = pk
    return values


def placepath_models():
    return [m for m in apps.get_models() if issubclass(m, PlacePath)]


def _repath_under(area):
    """After `area` moved, rewrite the stored ancestor ids of everything under it."""
    fresh = path_values(area)
    above = {k: v for k, v in fresh.items() if KIND_LEVEL[k[:-3]] < KIND_LEVEL[area.kind]}
    for model in placepath_models():
        model.objects.filter(**{f"{area.kind}_id": area.pk}).update(**above)


def _next_suffix(parent):
    """The next free 3-digit suffix under `parent` (codes of merged places stay taken)."""
    length = KIND_CODE_LENGTH[parent.child_kind]
    top = (
        Area.objects.filter(code__startswith=parent.code)
        .annotate(n=Length("code"))
        .filter(n=length)
        .aggregate(m=Max("code"))["m"]
    )
    number = int(top[-3:]) + 1 if top else 1
    if number > 999:
        raise DomainError(_("“%(place)s” has no free codes left.") % {"place": parent.name})
    return f"{number:03d}"


def _check_code(kind, code):
    # str.isdigit() also takes full-width and other scripts' digits ("００９").
    if not (code.isascii() and code.isdigit()) or len(code) != KIND_CODE_LENGTH[kind]:
        raise DomainError(
            _("A %(kind)s code has %(n)d digits; “%(code)s” does not fit.")
            % {"kind": AreaKind(kind).label, "n": KIND_CODE_LENGTH[kind], "code": code},
            code="bad_code",
        )
    if Area.objects.filter(code=code).exists():
        raise DomainError(_("The code %(code)s is already in use.") % {"code": code}, code="code_clash")


def _check_length(model, field, value, message):
    """A clear refusal instead of PostgreSQL's DataError for an over-long text."""
    limit = model._meta.get_field(field).max_length
    if len(value or "") > limit:
        raise DomainError(message % {"n": limit}, code="too_long")


def _check_building_texts(fields):
    messages = {
        "number": _("A number has at most %(n)d characters."),
        "name": _("A name has at most %(n)d characters."),
        "address": _("An address has at most %(n)d characters."),
    }
    for field, message in messages.items():
        if field in fields:
            _check_length(Building, field, fields[field], message)


def _check_parent_kind(kind, parent):
    expected = KIND_BY_LEVEL.get(KIND_LEVEL[kind] - 1)
    if expected is None and parent is not None:
        raise DomainError(_("A district is the top of its tree and has no parent."), code="bad_parent")
    if expected is not None and (parent is None or parent.kind != expected):
        raise DomainError(
            _("A %(kind)s must sit under a %(parent)s.")
            % {"kind": AreaKind(kind).label, "parent": AreaKind(expected).label},
            code="bad_parent",
        )
    if parent is not None and not parent.is_active:
        raise DomainError(_("“%(place)s” was merged away; choose another parent.") % {"place": parent.name})


@transaction.atomic
def area_add(*, kind, name, parent=None, code=None, acting_user=None, now=None):
    """Add a place. `code` is the full code for a district, else an optional 3-digit suffix."""
    now = now or timezone.now()
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A place needs a name."), code="no_name")
    _check_length(Area, "name", name, _("A name has at most %(n)d characters."))
    if kind not in AreaKind.values:
        raise DomainError(_("Unknown kind of place: %(kind)s.") % {"kind": kind}, code="bad_kind")
    _check_parent_kind(kind, parent)
    if parent is None:
        if acting_user is not None and not acting_user.is_superuser:
            raise DomainError(_("Only an administrator may add a district."), code="forbidden")
        lock_trees(_NEW_TREE_KEY)
        full_code = code or ""
    else:
        (parent,) = _lock_fresh(parent)
        _check_parent_kind(kind, parent)  # again: a merge may have committed while we waited
        _require_manage(acting_user, parent)
        suffix = code or _next_suffix(parent)
        full_code = parent.code + suffix
    _check_code(kind, full_code)
    area = Area(kind=kind, name=name, code=full_code)
    if parent is None:
        area.save()
    else:
        Area.objects.insert_node(area, parent, position="last-child", save=True)
    _log(area, AreaEvent.Action.ADD, acting_user, now, name=name, code=full_code,
         parent_id=parent.pk if parent else None)
    return area


@transaction.atomic
def area_rename(*, area, name, acting_user=None, now=None):
    now = now or timezone.now()
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A place needs a name."), code="no_name")
    _check_length(Area, "name", name, _("A name has at most %(n)d characters."))
    _require_manage(acting_user, area)
    area = Area.objects.select_for_update().get(pk=area.pk)
    old = area.name
    if old == name:
        return area
    Area.objects.filter(pk=area.pk).update(name=name)
    area.name = name
    _log(area, AreaEvent.Action.RENAME, acting_user, now, old_name=old, name=name, code=area.code)
    return area


def _rewrite_codes(area, new_code):
    """Give `area` a new code and carry the new prefix down to its descendants."""
    old_code = area.code
    if old_code == new_code:
        return
    Area.objects.filter(tree_id=area.tree_id, lft__gte=area.lft, lft__lte=area.rght).update(
        code=Concat(Value(new_code), Substr("code", len(old_code) + 1))
    )


@transaction.atomic
def area_move(*, area, new_parent, acting_user=None, now=None):
    """Move a street, community or grid (with everything under it) under another parent."""
    now = now or timezone.now()
    if area.kind == AreaKind.DISTRICT:
        raise DomainError(_("A district cannot be moved."), code="bad_parent")
    _check_parent_kind(area.kind, new_parent)
    area, new_parent = _lock_fresh(area, new_parent)
    _check_parent_kind(area.kind, new_parent)  # again: a merge may have committed while we waited
    old_parent = area.parent
    _require_manage(acting_user, old_parent, new_parent)
    if new_parent.pk == area.parent_id:
        return area
    # Unreachable today: _check_parent_kind above only lets a place move under a
    # place of the kind right above its own, which is never itself or below it.
    # Kept as the backstop should that rule ever loosen (a grid under a street).
    if new_parent.tree_id == area.tree_id and area.lft <= new_parent.lft <= area.rght:
        raise DomainError(_("A place cannot move under itself or its own descendants."), code="cycle")
    if area.kind == AreaKind.GRID and Building.objects.filter(grid=area, compound__isnull=False).exclude(
            compound__community=new_parent).exists():
        raise DomainError(
            _("Buildings of “%(place)s” belong to compounds (小区) of its community; a compound stays in one "
              "community, so move those buildings or take them out of their compound first.") % {"place": area.name},
            code="compound_community",
        )
    old_code = area.code
    code_taken = Area.objects.filter(code=new_parent.code + area.suffix).exists()
    new_code = new_parent.code + (_next_suffix(new_parent) if code_taken else area.suffix)
    if can_move_in_place(area, new_parent):
        move_last_child(area, new_parent, new_code=new_code)  # only the rows between old and new place
        area = _fresh(area)
    else:
        area.move_to(new_parent, "last-child")
        area = _fresh(area)
        _rewrite_codes(area, new_code)
    _repath_under(area)
    area = _fresh(area)
    _log(area, AreaEvent.Action.MOVE, acting_user, now, name=area.name, old_code=old_code, code=area.code,
         old_parent_id=old_parent.pk, parent_id=new_parent.pk)
    return area


@transaction.atomic
def area_merge(*, source, target, acting_user=None, now=None):
    """Merge `source` into `target`: two streets, two communities or two grids.

    Children (or, for grids, buildings) move to the target; rows that stored the
    source in their path follow; active posts on the source are ended and
    re-granted on the target. The source stays, inactive, as history.
    """
    now = now or timezone.now()
    if source.pk == target.pk:
        raise DomainError(_("A place cannot be merged into itself."), code="same")
    if source.kind != target.kind or source.kind == AreaKind.DISTRICT:
        raise DomainError(_("Only two streets, two communities or two grids can be merged."), code="bad_kind")
    source, target = _lock_fresh(source, target)
    _require_manage(acting_user, source.parent, target)
    if not (source.is_active and target.is_active):
        raise DomainError(_("That place was already merged."), code="merged")
    # Numbers are unique per compound, and per grid only for buildings outside any compound (their
    # compound tells two "1号楼" apart); refuse before anything moves rather than fail halfway.
    clashes = sorted(
        Building.objects.filter(grid=source, compound__isnull=True, number__in=Building.objects.filter(
            grid=target, compound__isnull=True).values("number"))
        .values_list("number", flat=True)
    )
    if source.kind == AreaKind.COMMUNITY:
        same_names = sorted(Compound.objects.filter(community=source, name__in=Compound.objects.filter(
            community=target).values("name")).values_list("name", flat=True))
        if same_names:
            raise DomainError(
                _("Both communities have compounds named %(names)s; rename them before merging.")
                % {"names": "、".join(same_names)}, code="clash")
    elif source.kind == AreaKind.GRID and source.parent_id != target.parent_id:
        # A grid's compounds stay in their community; merging across communities would split them.
        if Building.objects.filter(grid=source, compound__isnull=False).exists():
            raise DomainError(
                _("The grids are in different communities and buildings of “%(place)s” belong to compounds "
                  "(小区) of its community; move those buildings first.") % {"place": source.name},
                code="compound_community",
            )
    if clashes:
        raise DomainError(
            _("Both grids have buildings numbered %(numbers)s; renumber them before merging.")
            % {"numbers": "、".join(clashes)},
            code="clash",
        )
    if source.kind == AreaKind.COMMUNITY:
        # First, so the grids moving below find their compounds already in the target community.
        Compound.objects.filter(community=source).update(community=target)
    moved = []
    for child in list(source.get_children().order_by("lft")):
        moved.append(area_move(area=child, new_parent=target, acting_user=None, now=now).pk)
    buildings = list(Building.objects.filter(grid=source).values_list("pk", flat=True))
    if buildings:
        _move_buildings(buildings, target)

    target_path = path_values(target)
    for model in placepath_models():
        model.objects.filter(**{f"{source.kind}_id": source.pk}).update(**target_path_at(target_path, source.kind))
    for post in Post.objects.filter(area=source, ended_at__isnull=True).select_related("user"):
        # A post granted after the merge's `now` (a merge recorded late) ends
        # the moment it started rather than before it, which the database refuses.
        Post.objects.filter(pk=post.pk).update(ended_at=max(now, post.started_at))
        if not Post.objects.filter(user=post.user, role=post.role, area=target, ended_at__isnull=True).exists():
            Post.objects.create(user=post.user, role=post.role, area=target, started_at=now)
        forget_scope(post.user)
    Area.objects.filter(pk=source.pk).update(is_active=False, merged_into=target)
    source.refresh_from_db()
    _log(source, AreaEvent.Action.MERGE, acting_user, now, name=source.name, code=source.code,
         into_id=target.pk, into_name=target.name, moved_children=moved, moved_buildings=buildings)
    return _fresh(target)  # the children's moves shifted its nested-set fields


def target_path_at(target_path, kind):
    """The path values to write on rows that hung on a merged place of `kind`."""
    depth = KIND_LEVEL[kind]
    return {f"{f}_id": target_path[f"{f}_id"] for f in PATH_FIELDS if KIND_LEVEL[f] <= depth}


def _move_buildings(building_ids, grid):
    Building.objects.filter(pk__in=building_ids).update(grid=grid)
    values = path_values(grid)
    for model in placepath_models():
        if any(f.name == "building" for f in model._meta.get_fields()):
            model.objects.filter(building_id__in=building_ids).update(**values)
        elif model.path_follows:  # rows placed where another row is: they follow its building
            model.objects.filter(**{f"{model.path_follows}__building_id__in": building_ids}).update(**values)


@transaction.atomic
def grid_split(*, grid, name, buildings, acting_user=None, now=None):
    """Split a grid: a new grid beside it takes the given buildings and what hangs on them."""
    now = now or timezone.now()
    if grid.kind != AreaKind.GRID:
        raise DomainError(_("Only a grid can be split."), code="bad_kind")
    ids = sorted({b.pk if hasattr(b, "pk") else int(b) for b in buildings})
    if not ids:
        raise DomainError(_("Choose the buildings that go to the new grid."), code="no_buildings")
    # Check the buildings under the lock, so a merge of this grid cannot slip in between.
    (grid,) = _lock_fresh(grid)
    if not grid.is_active:
        raise DomainError(_("“%(place)s” was merged away.") % {"place": grid.name})
    found = Building.objects.filter(pk__in=ids, grid=grid).count()
    if found != len(ids):
        raise DomainError(_("Some of the chosen buildings are not in this grid."), code="foreign_buildings")
    if found == Building.objects.filter(grid=grid).count():
        raise DomainError(_("Leave at least one building in the old grid."), code="all_buildings")
    new_grid = area_add(kind=AreaKind.GRID, name=name, parent=grid.parent, acting_user=acting_user, now=now)
    _move_buildings(ids, new_grid)
    _log(grid, AreaEvent.Action.SPLIT, acting_user, now, name=grid.name, code=grid.code,
         new_grid_id=new_grid.pk, buildings=ids)
    return new_grid


def attached_to(area):
    """What still hangs on a place, as (label, count) pairs with a count above zero."""
    found = [
        (_("places under it"), area.get_children().count()),
        (_("buildings"), Building.objects.filter(grid=area).count()),
        (_("posts"), Post.objects.filter(area=area).count()),
        (_("包片 assignments"), Liaison.objects.filter(area=area).count()),
    ]
    for model in placepath_models():
        found.append((str(model._meta.verbose_name_plural), model.objects.filter(**{f"{area.kind}_id": area.pk}).count()))
    return [(label, n) for label, n in found if n]


@transaction.atomic
def area_delete(*, area, acting_user=None, now=None):
    """Delete an empty place. Anything attached refuses the delete, naming it."""
    now = now or timezone.now()
    (area,) = _lock_fresh(area)
    _require_manage(acting_user, area.parent or area)
    attached = attached_to(area)
    if attached:
        listed = "、".join(f"{label} {n}" for label, n in attached)
        raise DomainError(
            _("“%(place)s” still has %(what)s attached; move or remove them first.")
            % {"place": area.name, "what": listed},
            code="attached",
        )
    if AreaEvent.objects.filter(details__into_id=area.pk).exists() or area.merged_from.exists():
        raise DomainError(
            _("Other places were merged into “%(place)s”; it is kept as history.") % {"place": area.name},
            code="history",
        )
    if area.merged_into_id:
        raise DomainError(
            _("“%(place)s” was merged into another place; it is kept as history.") % {"place": area.name},
            code="history",
        )
    details = {"name": area.name, "code": area.code, "kind": area.kind, "parent_id": area.parent_id}
    area.delete()
    _log(None, AreaEvent.Action.DELETE, acting_user, now, **details)


def _create_numbered(model, clash_message, **fields):
    """Insert a building or unit; the unique (parent, number) constraint decides a clash.

    A check-then-insert would let two concurrent requests with the same number
    both pass the check and one of them fail with a raw IntegrityError.
    """
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError as exc:
        raise DomainError(clash_message, code="clash") from exc


# --- buildings and units -------------------------------------------------------

@transaction.atomic
def building_add(*, grid, number, name="", address="", latitude=None, longitude=None, acting_user=None,
                 compound=None):
    if grid.kind != AreaKind.GRID:
        raise DomainError(_("Buildings hang under grids."), code="bad_parent")
    # Under the tree lock, so a merge of this grid either carries the new building or refuses it.
    (grid,) = _lock_fresh(grid)
    if not grid.is_active:
        raise DomainError(_("“%(place)s” was merged away; choose another grid.") % {"place": grid.name})
    _require_manage(acting_user, grid)
    number = (number or "").strip()
    if not number:
        raise DomainError(_("A building needs a number."), code="no_number")
    _check_building_texts({"number": number, "name": name, "address": address})
    if compound is not None and (compound.community_id != grid.parent_id or not compound.is_active):
        raise DomainError(_("“%(compound)s” is not an open compound of this grid's community.")
                          % {"compound": compound.name}, code="compound_community")
    return _create_numbered(
        Building, (_("Building %(n)s already exists in this compound.") if compound is not None
                   else _("Building %(n)s already exists in this grid.")) % {"n": number},
        grid=grid, number=number, name=name, address=address, latitude=latitude, longitude=longitude,
        compound=compound,
    )


@transaction.atomic
def building_update(*, building, acting_user=None, **fields):
    allowed = {"number", "name", "address", "latitude", "longitude"}
    if set(fields) - allowed:
        raise DomainError(_("Those fields cannot be changed here."))
    _require_manage(acting_user, building.grid)
    if "number" in fields:
        fields["number"] = (fields["number"] or "").strip()
        if not fields["number"]:
            raise DomainError(_("A building needs a number."), code="no_number")
        same = (Building.objects.filter(compound_id=building.compound_id) if building.compound_id
                else Building.objects.filter(grid_id=building.grid_id, compound__isnull=True))
        if same.filter(number=fields["number"]).exclude(pk=building.pk).exists():
            raise DomainError(_("Building %(n)s already exists in this compound.") % {"n": fields["number"]}
                              if building.compound_id else
                              _("Building %(n)s already exists in this grid.") % {"n": fields["number"]}, code="clash")
    _check_building_texts(fields)
    Building.objects.filter(pk=building.pk).update(**fields)
    building.refresh_from_db()
    return building


@transaction.atomic
def building_delete(*, building, acting_user=None):
    _require_manage(acting_user, building.grid)
    units = building.units.count()
    posts = building.posts.count()
    if units or posts:
        raise DomainError(
            _("Building %(n)s still has %(units)d units and %(posts)d posts; remove them first.")
            % {"n": building.number, "units": units, "posts": posts},
            code="attached",
        )
    try:
        with transaction.atomic():
            building.delete()
    except IntegrityError as exc:  # rows of later apps that PROTECT the building
        raise DomainError(_("Building %(n)s still has records attached.") % {"n": building.number}) from exc


@transaction.atomic
def unit_add(*, building, number, acting_user=None):
    _require_manage(acting_user, building.grid)
    number = (number or "").strip()
    if not number:
        raise DomainError(_("A unit needs a number."), code="no_number")
    _check_length(Unit, "number", number, _("A number has at most %(n)d characters."))
    return _create_numbered(
        Unit, _("Unit %(n)s already exists in this building.") % {"n": number}, building=building, number=number
    )


@transaction.atomic
def unit_update(*, unit, number, acting_user=None):
    """Renumber a unit within its building (units never change building)."""
    (unit,) = _lock_fresh(unit)  # its building may have moved grid since the caller read it
    _require_manage(acting_user, unit.building.grid)
    number = (number or "").strip()
    if not number:
        raise DomainError(_("A unit needs a number."), code="no_number")
    _check_length(Unit, "number", number, _("A number has at most %(n)d characters."))
    if number == unit.number:
        return unit
    if Unit.objects.filter(building_id=unit.building_id, number=number).exists():
        raise DomainError(_("Unit %(n)s already exists in this building.") % {"n": number}, code="clash")
    Unit.objects.filter(pk=unit.pk).update(number=number)
    unit.number = number
    return unit


@transaction.atomic
def unit_delete(*, unit, acting_user=None):
    """Delete a unit nothing hangs on: no post (current or past) and no row of a later app."""
    (unit,) = _lock_fresh(unit)
    _require_manage(acting_user, unit.building.grid)
    posts = unit.posts.count()
    if posts:
        raise DomainError(
            _("Unit %(n)s still has %(posts)d posts; remove them first.") % {"n": unit.number, "posts": posts},
            code="attached",
        )
    try:
        with transaction.atomic():
            unit.delete()
    except (ProtectedError, IntegrityError) as exc:  # rows of later apps (cases…) that PROTECT the unit
        raise DomainError(
            _("Unit %(n)s still has records attached.") % {"n": unit.number}, code="attached"
        ) from exc


@transaction.atomic
def building_move(*, building, grid, acting_user=None, now=None):
    """Move one building to another grid, in the same community or any other.

    Its units and the posts on them go with it; rows that store their place
    path and point at the building (cases…) get the new grid's path. Both
    grids' history records the move.
    """
    now = now or timezone.now()
    if not isinstance(grid, Area) or grid.kind != AreaKind.GRID:
        raise DomainError(_("Buildings hang under grids."), code="bad_parent")
    # Both trees locked, and the building re-read there: a merge or split of
    # its grid cannot slip in between, and neither can another move.
    building, target = _lock_fresh(building, grid)
    source = building.grid
    _require_manage(acting_user, source, target)
    if target.pk == source.pk:
        return building
    if not target.is_active:
        raise DomainError(
            _("“%(place)s” was merged away; choose another grid.") % {"place": target.name}, code="merged"
        )
    if building.compound_id and building.compound.community_id != target.parent_id:
        raise DomainError(
            _("Building %(n)s belongs to the compound “%(compound)s” of another community; take it out of the "
              "compound before moving it there.") % {"n": building.number, "compound": building.compound.name},
            code="compound_community",
        )
    if not building.compound_id and Building.objects.filter(
            grid=target, compound__isnull=True, number=building.number).exists():
        raise DomainError(
            _("“%(grid)s” already has a building numbered %(n)s; renumber one of them before moving.")
            % {"grid": target.name, "n": building.number},
            code="clash",
        )
    _move_buildings([building.pk], target)
    details = {
        "building_id": building.pk, "number": building.number,
        "from_grid_id": source.pk, "from_grid": source.name,
        "to_grid_id": target.pk, "to_grid": target.name,
    }
    _log(source, AreaEvent.Action.MOVE, acting_user, now, **details)
    _log(target, AreaEvent.Action.MOVE, acting_user, now, **details)
    building.refresh_from_db()
    return building


# --- posts -----------------------------------------------------------------------

def _post_place_area(post_or_place):
    if isinstance(post_or_place, Area):
        return post_or_place
    if isinstance(post_or_place, Building):
        return post_or_place.grid
    if isinstance(post_or_place, Unit):
        return post_or_place.building.grid
    if isinstance(post_or_place, Organisation):
        return post_or_place.seat  # its seat's managing staff appoint its people
    raise DomainError(_("A post is held on a place, a building, a unit or an organisation."))


def _checked_org_post(*, role, place, acting_user):
    if role not in ORG_ROLES or not isinstance(place, Organisation):
        raise DomainError(
            _("Organisation staff are posted on an organisation, and only they are."), code="bad_place"
        )
    organisation = Organisation.objects.select_for_update().select_related("seat").get(pk=place.pk)
    if not organisation.is_active:
        raise DomainError(_("“%(name)s” is inactive.") % {"name": organisation.name}, code="inactive")
    _require_manage(acting_user, organisation.seat)
    return {"area": None, "building": None, "unit": None, "organisation": organisation}


def _checked_post_place(*, role, place, acting_user):
    """Every rule a new post meets, checked on the place re-read under its tree's lock.

    Returns the post's place fields ({"area": …, "building": …, "unit": …}).
    The lock stays until the transaction ends, so a merge cannot take the
    place away between this check and the insert.
    """
    if role not in Role.values:
        raise DomainError(_("Unknown role: %(role)s.") % {"role": role}, code="bad_role")
    if role in ORG_ROLES or isinstance(place, Organisation):
        return _checked_org_post(role=role, place=place, acting_user=acting_user)
    (place,) = _lock_fresh(place)
    _require_manage(acting_user, _post_place_area(place))
    fields = {"area": None, "building": None, "unit": None}
    if role in ROLE_AREA_KIND:
        if not isinstance(place, Area) or place.kind != ROLE_AREA_KIND[role]:
            raise DomainError(
                _("A %(role)s is posted on a %(kind)s.")
                % {"role": Role(role).label, "kind": AreaKind(ROLE_AREA_KIND[role]).label},
                code="bad_place",
            )
        if not place.is_active:
            raise DomainError(_("“%(place)s” was merged away.") % {"place": place.name})
        fields["area"] = place
    elif role == Role.BUILDING_CHIEF:
        if not isinstance(place, Building):
            raise DomainError(_("A building chief is posted on a building."), code="bad_place")
        fields["building"] = place
    else:
        if not isinstance(place, Unit):
            raise DomainError(_("A unit chief is posted on a unit."), code="bad_place")
        fields["unit"] = place
    return fields


def _create_post(*, user, role, fields, now):
    post = Post.objects.create(user=user, role=role, started_at=now, **fields)
    if role in MANAGING_ROLES:
        # Managing posts work in the admin; what they see there is still scoped.
        # Asked of the row, not of the caller's instance, which may be stale.
        type(user).objects.filter(pk=user.pk, is_staff=False).update(is_staff=True)
        user.is_staff = True
    forget_scope(user)
    return post


@transaction.atomic
def post_grant(*, user, role, place, acting_user=None, now=None):
    now = now or timezone.now()
    fields = _checked_post_place(role=role, place=place, acting_user=acting_user)
    if Post.objects.filter(user=user, role=role, ended_at__isnull=True, **fields).exists():
        raise DomainError(_("%(user)s already holds this post.") % {"user": user}, code="duplicate")
    return _create_post(user=user, role=role, fields=fields, now=now)


@transaction.atomic
def post_end(*, post, acting_user=None, now=None):
    """End a post (it stays as history). Ending someone's last managing post closes the admin to them."""
    now = now or timezone.now()
    _require_manage(acting_user, _post_place_area(post.place))
    if now < post.started_at:
        raise DomainError(_("A post cannot end before it started."), code="bad_date")
    changed = Post.objects.filter(pk=post.pk, ended_at__isnull=True).update(ended_at=now)
    if not changed:
        raise DomainError(_("This post has already ended."), code="ended")
    user = post.user
    if post.role in MANAGING_ROLES and not active_managing_posts(user).exists():
        # The admin would show them nothing anyway; the flag now says so too.
        # Superusers keep it: their rights do not come from posts.
        if type(user).objects.filter(pk=user.pk, is_staff=True, is_superuser=False).update(is_staff=False):
            user.is_staff = False
    forget_scope(user)
    post.refresh_from_db()
    return post


def active_managing_posts(user):
    return Post.objects.filter(user=user, role__in=MANAGING_ROLES, ended_at__isnull=True)


# --- accounts --------------------------------------------------------------------

def _check_account_texts(*, username, full_name, phone):
    if not username:
        raise DomainError(_("An account needs a username."), code="no_username")
    _check_length(User, "username", username, _("A username has at most %(n)d characters."))
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise DomainError(
            _("A username may contain only letters, digits and @/./+/-/_ characters."), code="bad_username"
        ) from None
    if not full_name:
        raise DomainError(_("An account needs the person’s full name."), code="no_full_name")
    _check_length(User, "full_name", full_name, _("A name has at most %(n)d characters."))
    _check_length(User, "phone", phone, _("A phone number has at most %(n)d characters."))


@transaction.atomic
def user_invite(*, username, full_name, phone, role, place, acting_user, now=None):
    """Open an account for someone new together with their first post.

    The account has no usable password: whoever invited them sets one on the
    admin's password page. The post follows post_grant's rules (the place under
    the acting user's managing posts, the role fitting the place), checked
    before the account is created.
    """
    now = now or timezone.now()
    username = (username or "").strip()
    full_name = (full_name or "").strip()
    phone = (phone or "").strip()
    _check_account_texts(username=username, full_name=full_name, phone=phone)
    fields = _checked_post_place(role=role, place=place, acting_user=acting_user)
    taken = DomainError(_("The username %(username)s is already taken.") % {"username": username}, code="taken")
    # Case-insensitive, as Django's own user creation form checks it.
    if User.objects.filter(username__iexact=username).exists():
        raise taken
    user = User(username=username, full_name=full_name, phone=phone)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # the same name, committed by a concurrent invite
        raise taken from exc
    _create_post(user=user, role=role, fields=fields, now=now)
    return user
