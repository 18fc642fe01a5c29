"""The early-warning rule that needs cases, and the warnings' way into the cases app's outbox.

Both are risks.hooks, registered in hub/wiring.py: the risks app runs the sweep
(risks/early_warning.py) and names no case; this top-layer module reads cases
for it and writes its notices through cases/notifications.py.

case_repeat: the same category of case at the same building `threshold` times
or more within `window_days` (duplicates folded into another case do not
count). grid_overdue: `threshold` or more open cases on the clock past their
deadline in one grid (no window). The evidence is case numbers (no description,
no reporter: the warning is read by staff who may not see every case), the key
the newest case.
"""

import datetime
from collections import defaultdict

from django.db.models import Count, Max
from django.utils.translation import gettext as _

from cases import notifications
from cases.models import CLOCKED_STATUSES, Case, Category
from grid.models import Area, Building
from risks.early_warning import PATH_IDS, Candidate, _grouped
from risks.models import WarningRuleKind

MAX_NUMBERS = 20  # case numbers kept as evidence per warning


def case_repeat_candidates(*, rules, now):
    found = []
    for setting, districts in _grouped(rules).items():
        since = now - datetime.timedelta(days=setting.window_days)
        recent = Case.objects.filter(district_id__in=districts, created_at__gte=since, building_id__isnull=False,
                                     duplicate_of__isnull=True)
        hits = {(b, c): (n, newest) for b, c, n, newest in (
            recent.values("building_id", "category_id").annotate(n=Count("pk"), newest=Max("pk"))
            .filter(n__gte=setting.threshold).values_list("building_id", "category_id", "n", "newest").order_by())}
        if not hits:
            continue
        numbers, paths = defaultdict(list), {}
        rows = (recent.filter(building_id__in={b for b, _c in hits})
                .values_list("building_id", "category_id", "pk", "number", *PATH_IDS).order_by("pk"))
        for building_id, category_id, pk, number, *path in rows:
            key = (building_id, category_id)
            if key in hits:
                numbers[key].append(number)
                paths[key] = path
        buildings = {b.pk: b for b in Building.objects.filter(pk__in={b for b, _c in hits}).select_related("grid")}
        categories = dict(Category.objects.filter(pk__in={c for _b, c in hits}).values_list("pk", "name"))
        for (building_id, category_id), (count, newest) in hits.items():
            building = buildings.get(building_id)
            found.append(Candidate(
                rule=WarningRuleKind.CASE_REPEAT, subject=f"building:{building_id}:category:{category_id}",
                newest=str(newest), path=dict(zip(PATH_IDS, paths[(building_id, category_id)])),
                building_id=building_id,
                title=_("%(n)d cases of “%(category)s” at %(building)s within %(days)d days")
                % {"n": count, "category": categories.get(category_id, category_id),
                   "building": building or building_id, "days": setting.window_days},
                evidence={"cases": numbers[(building_id, category_id)][-MAX_NUMBERS:], "count": count,
                          "category": categories.get(category_id, ""), "window_days": setting.window_days},
            ))
    return found


def grid_overdue_candidates(*, rules, now):
    found = []
    for setting, districts in _grouped(rules).items():
        late = Case.objects.filter(district_id__in=districts, status__in=CLOCKED_STATUSES, due_at__lt=now,
                                   grid_id__isnull=False)
        hits = list(late.values("grid_id", "district_id", "street_id", "community_id")
                    .annotate(n=Count("pk"), newest=Max("pk")).filter(n__gte=setting.threshold)
                    .values_list("grid_id", "district_id", "street_id", "community_id", "n", "newest").order_by())
        if not hits:
            continue
        grid_ids = [h[0] for h in hits]
        numbers = {}
        for grid_id, number in late.filter(grid_id__in=grid_ids).order_by("-pk").values_list("grid_id", "number"):
            numbers.setdefault(grid_id, [])
            if len(numbers[grid_id]) < MAX_NUMBERS:
                numbers[grid_id].append(number)
        names = dict(Area.objects.filter(pk__in=grid_ids).values_list("pk", "name"))
        for grid_id, district_id, street_id, community_id, count, newest in hits:
            found.append(Candidate(
                rule=WarningRuleKind.GRID_OVERDUE, subject=f"grid:{grid_id}", newest=str(newest),
                path={"district_id": district_id, "street_id": street_id, "community_id": community_id,
                      "grid_id": grid_id},
                title=_("%(n)d overdue cases in %(grid)s") % {"n": count, "grid": names.get(grid_id, grid_id)},
                evidence={"cases": numbers.get(grid_id, []), "count": count},
            ))
    return found


CASE_RULES = {
    WarningRuleKind.CASE_REPEAT: case_repeat_candidates,
    WarningRuleKind.GRID_OVERDUE: grid_overdue_candidates,
}


def case_rule_candidates(*, rules, now):
    """risks.hooks.case_warning_candidates: each case rule over the districts where it is enabled."""
    found = []
    for kind, settings_by_district in rules.items():
        found += CASE_RULES[kind](rules=settings_by_district, now=now)
    return found


def notify_staff(*, messages, now):
    """The warnings' notices as outbox rows, in the caller's transaction; sent after commit."""
    rows = []
    for recipients, subject, body in messages:
        rows += notifications.build_rows(recipients=recipients, subject=subject, body=body, now=now)
    return notifications.save_rows(rows) if rows else 0
