"""The early-warning rule that needs cases, and the warnings' way into the cases app's outbox.

Both are risks.hooks, registered in hub/wiring.py: the risks app runs the sweep
(risks/early_warning.py) and names no case; this top-layer module reads cases
for it and writes its notices through cases/notifications.py.

case_repeat: the same category of case at the same building `threshold` times
or more within `window_days` (duplicates folded into another case do not
count). The evidence is the case numbers (no description, no reporter: the
warning is read by staff who may not see every case), its key the newest case.
"""

import datetime
from collections import defaultdict

from django.db.models import Count, Max
from django.utils.translation import gettext as _

from cases import notifications
from cases.models import Case, Category
from grid.models import Building
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


def notify_staff(*, messages, now):
    """The warnings' notices as outbox rows, in the caller's transaction; sent after commit."""
    rows = []
    for recipients, subject, body in messages:
        rows += notifications.build_rows(recipients=recipients, subject=subject, body=body, now=now)
    return notifications.save_rows(rows) if rows else 0
