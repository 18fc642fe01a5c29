"""Every write to compounds (小区/院落) and to a building's compound.

A compound belongs to one community and may span its grids; a building joins at most one
compound of its own grid's community, and its number is unique within the compound. The
database holds the uniqueness (grid.models.Building's constraints); this module refuses the
rest with a clear message before anything is written.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal.errors import DomainError

from .models import AreaKind, Building, Compound, OrgKind, Organisation
from .services import _lock_fresh, _require_manage

TEXT_LIMITS = {"name": 100, "address": 200, "party_branch": 100}


def _clean_texts(fields):
    for field, limit in TEXT_LIMITS.items():
        if field in fields:
            value = (fields[field] or "").strip()
            if len(value) > limit:
                raise DomainError(_("At most %(n)d characters.") % {"n": limit}, code=f"{field}_too_long")
            fields[field] = value
    if "name" in fields and not fields["name"]:
        raise DomainError(_("A compound needs a name."), code="no_name")
    return fields


def _check_bodies(fields):
    """A 物业 must be a property-management company, a 业委会 an owners' committee; naming a 物业
    means the compound is managed."""
    company, committee = fields.get("property_company"), fields.get("owners_committee")
    if company is not None:
        if not isinstance(company, Organisation) or company.kind != OrgKind.PROPERTY or not company.is_active:
            raise DomainError(_("Choose an active property-management company (物业服务企业)."),
                              code="bad_property_company")
        fields["has_property_management"] = True
    if committee is not None and (not isinstance(committee, Organisation) or committee.kind != OrgKind.OWNERS
                                  or not committee.is_active):
        raise DomainError(_("Choose an active owners' committee (业委会)."), code="bad_owners_committee")
    if fields.get("has_property_management") is False and "property_company" not in fields:
        fields["property_company"] = None
    return fields


def _save(compound_id, fields):
    try:
        with transaction.atomic():
            if compound_id is None:
                return Compound.objects.create(**fields)
            Compound.objects.filter(pk=compound_id).update(**fields)
            return Compound.objects.get(pk=compound_id)
    except IntegrityError as exc:
        raise DomainError(_("The community already has a compound named “%(name)s”.") % {"name": fields.get("name")},
                          code="clash") from exc


@transaction.atomic
def compound_add(*, community, name, acting_user=None, **fields):
    if getattr(community, "kind", None) != AreaKind.COMMUNITY:
        raise DomainError(_("A compound belongs to a community."), code="bad_parent")
    (community,) = _lock_fresh(community)
    if not community.is_active:
        raise DomainError(_("“%(place)s” was merged away.") % {"place": community.name}, code="merged")
    _require_manage(acting_user, community)
    unknown = set(fields) - {"address", "has_property_management", "property_company", "owners_committee",
                             "party_branch"}
    if unknown:
        raise DomainError(_("Those fields cannot be set here."), code="bad_field")
    fields = _check_bodies(_clean_texts({"name": name, **fields}))
    return _save(None, {"community": community, **fields})


@transaction.atomic
def compound_update(*, compound, acting_user=None, **fields):
    unknown = set(fields) - {"name", "address", "has_property_management", "property_company", "owners_committee",
                             "party_branch", "is_active"}
    if unknown:
        raise DomainError(_("Those fields cannot be changed here."), code="bad_field")
    compound = Compound.objects.select_for_update().select_related("community").get(pk=compound.pk)
    _require_manage(acting_user, compound.community)
    fields = _check_bodies(_clean_texts(dict(fields)))
    if fields.get("is_active") is False and compound.buildings.exists():
        raise DomainError(_("Take the buildings out of the compound before closing it."), code="has_buildings")
    return _save(compound.pk, fields)


@transaction.atomic
def building_set_compound(*, building, compound, acting_user=None):
    """Put a building into a compound of its community (or, with None, take it out)."""
    (building,) = _lock_fresh(building)
    building = Building.objects.select_related("grid").get(pk=building.pk)
    _require_manage(acting_user, building.grid)
    if compound is not None:
        compound = Compound.objects.select_for_update().get(pk=compound.pk)
        if compound.community_id != building.grid.parent_id:
            raise DomainError(
                _("“%(compound)s” is a compound of another community; a compound never spans two communities.")
                % {"compound": compound.name}, code="compound_community")
        if not compound.is_active:
            raise DomainError(_("That compound was closed."), code="inactive")
        taken = compound.buildings.filter(number=building.number).exclude(pk=building.pk).exists()
    else:
        taken = Building.objects.filter(grid_id=building.grid_id, compound__isnull=True,
                                        number=building.number).exclude(pk=building.pk).exists()
    if taken:
        raise DomainError(
            _("Building %(n)s already exists there; renumber one of them first.") % {"n": building.number},
            code="clash")
    Building.objects.filter(pk=building.pk).update(compound=compound)
    building.refresh_from_db()
    return building
