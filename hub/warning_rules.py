"""The early-warning rules that need cases (or residents), and the warnings' way into the cases app's outbox.

Both are risks.hooks, registered in hub/wiring.py: the risks app runs the sweep
(risks/early_warning.py) and names no case; this top-layer module reads cases
for it and writes its notices through cases/notifications.py.

case_repeat: the same category of case at the same building `threshold` times
or more within `window_days` (duplicates folded into another case do not
count). grid_overdue: `threshold` or more open cases on the clock past their
deadline in one grid (no window). report_rise: resident reports (web, QR,
Open311, 12345 calls) of one category in one community, `threshold` or more in
the last `window_days` and `growth_percent` more than in the same weeks a year
before (52 weeks back, so the same weekdays; duplicates not counted). Counted
per community, not per grid: a grid's few reports a month are too few to
compare year on year. The evidence is case numbers (no description, no
reporter: the warning is read by staff who may not see every case), the key
the newest case. key_person_visit reads residents: hub/warning_rules_people.py.
"""

import datetime
from collections import defaultdict

from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import notifications
from cases.models import CLOCKED_STATUSES, Case, Category, Channel
from grid.models import Area, Building
from risks.early_warning import PATH_IDS, Candidate, _grouped
from risks.models import WarningRuleKind

from .warning_rules_people import key_person_visit_candidates

MAX_NUMBERS = 20  # case numbers kept as evidence per warning
# What residents report themselves: on the web, by QR code, through Open311, or by calling 12345.
RESIDENT_CHANNELS = (Channel.WEB, Channel.QR, Channel.OPEN311, Channel.HOTLINE)
# "The same weeks last year": 52 weeks back, so the period starts on the same weekday.
LAST_YEAR = datetime.timedelta(weeks=52)


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


def _rising(this_year, last_year, setting):
    """At least `threshold` now, and `growth_percent` more than a year before (any number over none)."""
    return this_year >= setting.threshold and this_year * 100 >= last_year * (100 + setting.growth_percent)


def report_rise_candidates(*, rules, now):
    found = []
    for setting, districts in _grouped(rules).items():
        since = now - datetime.timedelta(days=setting.window_days)
        reports = Case.objects.filter(district_id__in=districts, channel__in=RESIDENT_CHANNELS,
                                      community_id__isnull=False, duplicate_of__isnull=True)
        this_year = reports.filter(created_at__gte=since, created_at__lt=now)
        counts = {(c, cat): (n, newest) for c, cat, n, newest in (
            this_year.values("community_id", "category_id").annotate(n=Count("pk"), newest=Max("pk"))
            .filter(n__gte=setting.threshold).values_list("community_id", "category_id", "n", "newest").order_by())}
        if not counts:
            continue
        before = dict(((c, cat), n) for c, cat, n in (
            reports.filter(created_at__gte=since - LAST_YEAR, created_at__lt=now - LAST_YEAR,
                           community_id__in={c for c, _cat in counts}, category_id__in={cat for _c, cat in counts})
            .values("community_id", "category_id").annotate(n=Count("pk"))
            .values_list("community_id", "category_id", "n").order_by()))
        hits = {key: value for key, value in counts.items() if _rising(value[0], before.get(key, 0), setting)}
        if not hits:
            continue
        cases, paths = defaultdict(list), {}
        rows = (this_year.filter(community_id__in={c for c, _cat in hits}, category_id__in={cat for _c, cat in hits})
                .values_list("community_id", "category_id", "pk", "number", "district_id", "street_id")
                .order_by("pk"))
        for community_id, category_id, pk, number, district_id, street_id in rows:
            key = (community_id, category_id)
            if key in hits:
                cases[key].append((pk, number))
                paths[key] = {"district_id": district_id, "street_id": street_id, "community_id": community_id,
                              "grid_id": None}
        names = dict(Area.objects.filter(pk__in={c for c, _cat in hits}).values_list("pk", "name"))
        categories = dict(Category.objects.filter(pk__in={cat for _c, cat in hits}).values_list("pk", "name"))
        today, start = timezone.localdate(now), timezone.localdate(since)
        for (community_id, category_id), (count, newest) in hits.items():
            key, last = (community_id, category_id), before.get((community_id, category_id), 0)
            kept = cases[key][-MAX_NUMBERS:]
            found.append(Candidate(
                rule=WarningRuleKind.REPORT_RISE, subject=f"community:{community_id}:category:{category_id}",
                newest=str(newest), path=paths[key],
                title=_("%(n)d resident reports of “%(category)s” in %(place)s in %(days)d days, "
                        "against %(last)d in the same weeks last year")
                % {"n": count, "category": categories.get(category_id, category_id),
                   "place": names.get(community_id, community_id), "days": setting.window_days, "last": last},
                evidence={"cases": [number for _pk, number in kept], "case_ids": [pk for pk, _n in kept],
                          "count": count, "this_year": count, "last_year": last,
                          "period": [start.isoformat(), today.isoformat()],
                          "last_year_period": [(start - LAST_YEAR).isoformat(), (today - LAST_YEAR).isoformat()],
                          "growth_percent": setting.growth_percent, "window_days": setting.window_days,
                          "category": categories.get(category_id, "")},
            ))
    return found


CASE_RULES = {
    WarningRuleKind.CASE_REPEAT: case_repeat_candidates,
    WarningRuleKind.GRID_OVERDUE: grid_overdue_candidates,
    WarningRuleKind.REPORT_RISE: report_rise_candidates,
    WarningRuleKind.KEY_PERSON_VISIT: key_person_visit_candidates,
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
