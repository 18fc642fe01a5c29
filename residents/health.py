"""Grid health (网格体检): grids outside the 400–700 household band, without a grid
worker or a grid chief, and buildings without a building chief.

Households are counted as *occupied* households: those with at least one
resident living there. A flat whose people all moved out or died stays on
record as history but is no one's to look after, so it does not count toward
the band (the page shows the recorded total beside it).

Counts for any number of grids come from three grouped queries (households,
posts, buildings without a chief), never one per grid.
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q

from grid.models import Area, AreaKind, Building, Post, Role

from .models import Household, Resident, ResidentStatus

BAND = (400, 700)  # households per grid (DOMAIN: Changchun's standard)


@dataclass
class GridHealth:
    grid: Area
    households: int = 0  # occupied: at least one living resident
    recorded: int = 0  # every household on record
    workers: int = 0
    chiefs: int = 0
    buildings: int = 0
    buildings_without_chief: int = 0

    @property
    def below_band(self):
        return self.households < BAND[0]

    @property
    def above_band(self):
        return self.households > BAND[1]

    @property
    def no_worker(self):
        return self.workers == 0

    @property
    def no_chief(self):
        return self.chiefs == 0

    @property
    def problems(self):
        """Codes of what is wrong, in reading order (the template labels them)."""
        found = []
        if self.below_band:
            found.append("below")
        if self.above_band:
            found.append("above")
        if self.no_worker:
            found.append("no_worker")
        if self.no_chief:
            found.append("no_chief")
        if self.buildings_without_chief:
            found.append("buildings_without_chief")
        return found

    @property
    def flagged(self):
        return bool(self.problems)


@dataclass
class CommunityHealth:
    community: Area
    grids: list

    @property
    def flagged_count(self):
        return sum(1 for g in self.grids if g.flagged)


def grid_health(grids):
    """[GridHealth] for `grids` (Area rows of kind grid), in their order: three grouped queries."""
    grids = list(grids)
    if not grids:
        return []
    ids = [g.pk for g in grids]
    health = {g.pk: GridHealth(grid=g) for g in grids}
    living = Resident.objects.filter(household=OuterRef("pk"), status=ResidentStatus.LIVING)
    for grid_id, recorded, occupied in (
        Household.objects.filter(grid_id__in=ids).order_by().values("grid_id")
        .annotate(recorded=Count("id"), occupied=Count("id", filter=Q(Exists(living))))
        .values_list("grid_id", "recorded", "occupied")
    ):
        health[grid_id].recorded, health[grid_id].households = recorded, occupied
    for area_id, role, n in (
        Post.objects.filter(area_id__in=ids, role__in=(Role.GRID_WORKER, Role.GRID_CHIEF), ended_at__isnull=True,
                            user__is_active=True)
        .order_by().values("area_id", "role").annotate(n=Count("user_id", distinct=True))
        .values_list("area_id", "role", "n")
    ):
        if role == Role.GRID_WORKER:
            health[area_id].workers = n
        else:
            health[area_id].chiefs = n
    chief = Post.objects.filter(building=OuterRef("pk"), role=Role.BUILDING_CHIEF, ended_at__isnull=True,
                                user__is_active=True)
    for grid_id, total, without in (
        Building.objects.filter(grid_id__in=ids).order_by().values("grid_id")
        .annotate(total=Count("id"), without=Count("id", filter=~Q(Exists(chief))))
        .values_list("grid_id", "total", "without")
    ):
        health[grid_id].buildings, health[grid_id].buildings_without_chief = total, without
    return [health[pk] for pk in ids]


def communities_under(place):
    """Active communities at or under `place` (a district, street or community), by code."""
    if place.kind == AreaKind.COMMUNITY:
        return Area.objects.filter(pk=place.pk).order_by("code")
    return Area.objects.filter(kind=AreaKind.COMMUNITY, is_active=True, tree_id=place.tree_id,
                               lft__gt=place.lft, lft__lt=place.rght).order_by("code")


def community_health(communities):
    """[CommunityHealth] for a page of communities: their active grids (one query) and grid_health."""
    communities = list(communities)
    grids = list(Area.objects.filter(parent__in=communities, kind=AreaKind.GRID, is_active=True).order_by("code"))
    by_community = {}
    for row in grid_health(grids):
        by_community.setdefault(row.grid.parent_id, []).append(row)
    return [CommunityHealth(community=c, grids=by_community.get(c.pk, [])) for c in communities]
