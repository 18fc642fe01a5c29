"""三事分流 that routes: which class a matter is, and which organisation takes a big one.

- A category carries its default class (Category.triage). A public matter (大事) goes to the
  street's command centre when the district (or the street) names a responsible organisation
  function or organisation for its category in a RoutingRule; without a rule, no organisation
  is responsible there and it stays in the residential tree as before.
- The most specific rule wins: a street's over its district's, then a subcategory's over its
  parent's ("street > district, subcategory > category"; the place first, as Signalen's rules
  and the anchors' design point 2 put it). A rule naming an inactive organisation is refused
  when saved and skipped, with a warning in the log, when routing.
- A function rule picks, among the active organisations of that function covering the case's
  place (grid.selectors.organisations_covering), the most local one: a building's over a
  grid's over a community's over a street's over a district's (the street's 执法中队 before
  the district's 执法局).
- 准入 (GridExclusion): categories a district never gives to a grid worker; their small
  matters wait with the community's staff.
- Time limits: an organisation's own row for the category (a subcategory's beats its
  parent's), else the category's accept limit to sign in and handle limit to handle.

Writes of rules, exclusions and limits are here too (one function each, keyword-only).
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import KIND_LEVEL, Area, AreaKind, Organisation
from grid.selectors import organisations_covering, scope_of
from portal.errors import DomainError
from portal.text import clean_text
from portal.workcalendar.calendar import add_working_time

from .models import Category, GridExclusion, OrgLimit, RoutingRule, Triage
from .models_orgs import ReferralTarget  # noqa: F401  (re-exported for forms)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Proposal:
    """What routing proposes at registration: the class and, for a big matter, who takes it."""

    triage: str
    rule: RoutingRule | None = None
    organisation: Organisation | None = None
    # Routing obeys 准入: a small matter of a listed category skips the grid worker.
    grid_excluded: bool = False

    @property
    def to_command_centre(self):
        return self.triage == Triage.PUBLIC and self.rule is not None

    @property
    def triage_label(self):
        return Triage(self.triage).label


def _categories(category):
    """The category and its parent, most specific first."""
    return [category.pk] + ([category.parent_id] if category.parent_id else [])


def rules_for(case):
    """The routing rules that could apply to the case, most specific first (one query)."""
    categories = _categories(case.category)
    rules = list(
        RoutingRule.objects.filter(district_id=case.district_id, category_id__in=categories)
        .select_related("organisation")
    )
    rules = [r for r in rules if r.street_id is None or r.street_id == case.street_id]
    return sorted(rules, key=lambda r: (r.street_id is None, categories.index(r.category_id)))


def _case_area(case):
    area_id = case.grid_id or case.community_id or case.street_id or case.district_id
    return Area.objects.get(pk=area_id)


def covering(case):
    """Active organisations covering the case's place (its building, its places up to the district)."""
    return organisations_covering(area=_case_area(case), building=case.building if case.building_id else None)


def _most_local(case, organisations):
    """Of organisations covering the case, the one whose jurisdiction is nearest to it."""
    path = {getattr(case, f"{kind}_id"): KIND_LEVEL[kind] for kind in KIND_LEVEL if getattr(case, f"{kind}_id")}
    best, best_depth = None, -1
    for org in organisations:
        depth = -1
        for area_id, building_id in org.jurisdiction.values_list("area_id", "building_id"):
            if building_id and building_id == case.building_id:
                depth = max(depth, 9)
            elif area_id in path:
                depth = max(depth, path[area_id])
        if depth > best_depth or (depth == best_depth and best is not None and org.pk < best.pk):
            best, best_depth = org, depth
    return best


def organisation_for(case, rule):
    """The organisation a rule sends the case to, or None (inactive, or nobody of that function covers it)."""
    if rule.organisation_id:
        if not rule.organisation.is_active:
            log.warning("routing rule %s names inactive organisation %s: skipped", rule.pk, rule.organisation_id)
            return None
        return rule.organisation
    candidates = list(covering(case).filter(function=rule.function).prefetch_related("jurisdiction"))
    return _most_local(case, candidates)


def grid_excluded(case):
    return GridExclusion.objects.filter(district_id=case.district_id,
                                        category_id__in=_categories(case.category)).exists()


def propose(case):
    """The route routing proposes for a case about to be registered (a Proposal)."""
    triage = case.category.triage
    excluded = grid_excluded(case)
    if triage != Triage.PUBLIC:
        return Proposal(triage=triage, grid_excluded=excluded)
    for rule in rules_for(case):
        organisation = organisation_for(case, rule)
        if organisation is not None:
            return Proposal(triage=triage, rule=rule, organisation=organisation, grid_excluded=excluded)
        if rule.organisation_id:
            continue  # an inactive organisation's rule is skipped; a less specific one may still apply
        # A function nobody covers here: the command centre still decides who takes it.
        return Proposal(triage=triage, rule=rule, grid_excluded=excluded)
    return Proposal(triage=triage, grid_excluded=excluded)


# --- time limits ------------------------------------------------------------------------------

def org_limits(organisation_id, category):
    """((value, unit) to sign in, (value, unit) to handle) for an organisation and a category."""
    rows = {row.category_id: row for row in OrgLimit.objects.filter(organisation_id=organisation_id,
                                                                    category_id__in=_categories(category))}
    for category_id in _categories(category):
        row = rows.get(category_id)
        if row is not None:
            return (row.sign_in_limit, row.sign_in_limit_unit), (row.handle_limit, row.handle_limit_unit)
    return category.limit("accept"), category.limit("handle")


def sign_in_deadline(organisation_id, category, now):
    value, unit = org_limits(organisation_id, category)[0]
    return add_working_time(now, value, unit)


def handle_deadline(organisation_id, category, now):
    value, unit = org_limits(organisation_id, category)[1]
    return add_working_time(now, value, unit)


# --- writes: rules, the 准入 list, limits --------------------------------------------------------

def _may_manage(user, area):
    """Managing staff (district official, street staff) of the place, or an administrator."""
    if user is None:
        return True
    scope = scope_of(user).managing()
    return scope.unrestricted or any(s.tree_id == area.tree_id and s.lft <= area.lft and area.rght <= s.rght
                                     for s in scope.spans)


def _district(district):
    district = Area.objects.filter(pk=getattr(district, "pk", district)).first()
    if district is None or district.kind != AreaKind.DISTRICT:
        raise DomainError(_("Choose a district."), code="bad_district")
    return district


@transaction.atomic
def routing_rule_save(*, district, category, street=None, function="", organisation=None, acting_user=None,
                      now=None, rule=None):
    """Create (or, given `rule`, change) a routing rule. Refused with a clear message, nothing
    written, when it names an inactive organisation, one seated outside the district, a street
    outside the district, or both (or neither) a function and an organisation."""
    now = now or timezone.now()
    district = _district(district)
    if street is not None:
        street = Area.objects.filter(pk=getattr(street, "pk", street)).first()
        if street is None or street.kind != AreaKind.STREET or street.parent_id != district.pk:
            raise DomainError(_("The street must be a street of the district."), code="bad_street")
    if not _may_manage(acting_user, street or district):
        raise DomainError(_("You may not set routing rules for this place."), code="forbidden")
    if not isinstance(category, Category):
        category = Category.objects.filter(pk=category).first()
    if category is None:
        raise DomainError(_("Choose a category from the list."), code="unknown_category")
    function = function or ""
    if bool(function) == (organisation is not None):
        raise DomainError(_("Name either an organisation function or one organisation, not both."),
                          code="bad_target")
    if organisation is not None:
        organisation = Organisation.objects.select_related("seat").filter(pk=organisation.pk).first()
        if organisation is None or not organisation.is_active:
            raise DomainError(_("“%(name)s” is inactive: a routing rule cannot send matters to it.")
                              % {"name": getattr(organisation, "name", "?")}, code="inactive_organisation")
        if organisation.seat.tree_id != district.tree_id:
            raise DomainError(_("“%(name)s” is not an organisation of this district.") % {"name": organisation.name},
                              code="bad_organisation")
    values = {"district": district, "street": street, "category": category, "function": function,
              "organisation": organisation}
    clash = RoutingRule.objects.filter(district=district, street=street, category=category)
    if rule is not None:
        clash = clash.exclude(pk=rule.pk)
    if clash.exists():
        raise DomainError(_("There is already a rule for this category here; change that one."), code="duplicate")
    if rule is None:
        return RoutingRule.objects.create(**values, created_at=now, created_by=acting_user)
    RoutingRule.objects.filter(pk=rule.pk).update(**values)
    rule.refresh_from_db()
    return rule


@transaction.atomic
def grid_exclusion_add(*, district, category, reason="", acting_user=None, now=None):
    """Put a category on the district's 准入 list (never given to a grid worker)."""
    now = now or timezone.now()
    district = _district(district)
    if not _may_manage(acting_user, district):
        raise DomainError(_("You may not change this district's list."), code="forbidden")
    reason = clean_text(reason, field=_("reason"), required=False, limit=200)
    exclusion, _created = GridExclusion.objects.get_or_create(
        district=district, category=category, defaults={"reason": reason, "created_at": now})
    return exclusion


def grid_exclusions_for(user):
    """The 准入 lists of the districts the user works in (shown to staff)."""
    scope = scope_of(user)
    rows = GridExclusion.objects.select_related("district", "category", "category__parent")
    if scope.unrestricted:
        return rows
    return rows.filter(district_id__in=_districts_of(scope))


def _districts_of(scope):
    """The district ids above the user's posts (one query)."""
    tree_ids = {s.tree_id for s in scope.spans}
    return set(Area.objects.filter(tree_id__in=tree_ids, kind=AreaKind.DISTRICT).values_list("pk", flat=True))


@transaction.atomic
def org_limit_save(*, organisation, category, sign_in, handle, acting_user=None):
    """Set an organisation's own limits for a category: `sign_in` and `handle` are (value, unit)."""
    if not _may_manage(acting_user, organisation.seat):
        raise DomainError(_("You may not change this organisation's limits."), code="forbidden")
    for value, _unit in (sign_in, handle):
        if not isinstance(value, int) or value <= 0:
            raise DomainError(_("Time limits are positive numbers."), code="bad_limit")
    limit, _created = OrgLimit.objects.update_or_create(
        organisation=organisation, category=category,
        defaults={"sign_in_limit": sign_in[0], "sign_in_limit_unit": sign_in[1],
                  "handle_limit": handle[0], "handle_limit_unit": handle[1]})
    return limit
