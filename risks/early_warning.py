"""预测预警: the rules that raise warnings for street and community staff, and the sweep that runs them.

Rules are data: one WarningRule row per (district, rule) sets its threshold and
window, a row without a district is the city's default, and DEFAULTS below
stand in where neither exists. The risks app evaluates its own two rules:

- review_overdue: a red or orange risk whose review is `threshold` days or more
  past (the hourly `risks_flag_overdue` has marked it overdue first);
- risk_cluster: `threshold` or more open risks of one type registered in one
  grid within `window_days`.

Four more read other apps, which this app may not import: case_repeat (the
same category of case at one building `threshold` times within `window_days`),
grid_overdue (`threshold` or more open cases past their deadline in one grid),
report_rise (resident reports of one category in one community rising against
the same weeks last year: at least `threshold` in the last `window_days` and
`growth_percent` more than a year before) and key_person_visit (a key person
not visited for `threshold` days). The top layer provides them through
`hooks.case_warning_candidates` (hub/warning_rules.py, hub/warning_rules_people.py).

Every candidate carries an evidence key (the rule, what it is about, the newest
item of its evidence). `warnings_raise` inserts them with ON CONFLICT DO NOTHING
against two unique constraints (the key; one open warning per subject), so a
second run, or two at once, raise nothing more, and evidence once raised (even
if acknowledged or dismissed since) never raises again. A new item (another
risk, another case) is new evidence and may raise a new warning once the old
one is handled.

`warnings_notify` then tells the community and street staff over each new
warning, once: it claims un-notified warnings with FOR UPDATE SKIP LOCKED and
a conditional UPDATE, and writes their messages through `hooks.notify_staff`
(the cases app's outbox) in the same transaction.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind, Post, Role

from . import hooks
from .grading import Grade
from .models import EarlyWarning, Risk, RiskStatus, RiskType, WarningRule, WarningRuleKind

# (threshold, window_days) where no WarningRule row says otherwise.
DEFAULTS = {
    WarningRuleKind.REVIEW_OVERDUE: (1, 1),
    WarningRuleKind.RISK_CLUSTER: (3, 30),
    WarningRuleKind.CASE_REPEAT: (3, 30),
    WarningRuleKind.GRID_OVERDUE: (10, 1),
    # 5 reports in the last four weeks (the same weekdays a year before: 52 weeks back).
    WarningRuleKind.REPORT_RISE: (5, 28),
    WarningRuleKind.KEY_PERSON_VISIT: (30, 1),
}
# report_rise: how much more than last year, in percent, where no WarningRule row says otherwise.
DEFAULT_GROWTH_PERCENT = 50
# The rules that read cases or residents: evaluated by the top layer (hooks.case_warning_candidates).
CASE_RULES = (WarningRuleKind.CASE_REPEAT, WarningRuleKind.GRID_OVERDUE, WarningRuleKind.REPORT_RISE,
              WarningRuleKind.KEY_PERSON_VISIT)
WARNED_GRADES = (Grade.RED, Grade.ORANGE)
NOTIFY_BATCH = 2000
# Who is told of a warning: the staff of its community and of its street.
NOTIFIED_ROLES = (Role.COMMUNITY_STAFF, Role.STREET_STAFF)
PATH_IDS = ("district_id", "street_id", "community_id", "grid_id")


@dataclass(frozen=True)
class RuleSetting:
    threshold: int
    window_days: int
    growth_percent: int | None = None


@dataclass
class Candidate:
    """One warning a rule would raise. `path` holds district_id … grid_id."""

    rule: str
    subject: str
    newest: str
    path: dict
    title: str
    evidence: dict = field(default_factory=dict)
    building_id: int | None = None
    risk_id: int | None = None

    @property
    def evidence_key(self):
        return f"{self.rule}:{self.subject}:{self.newest}"[:120]


def rule_settings(kind, *, district_ids=None):
    """{district_id: RuleSetting} for the active districts where rule `kind` is enabled."""
    rows = list(WarningRule.objects.filter(kind=kind).values_list("district_id", "threshold", "window_days",
                                                                 "enabled", "growth_percent"))
    growth = DEFAULT_GROWTH_PERCENT if kind == WarningRuleKind.REPORT_RISE else None
    default = next(((t, w, e, g) for d, t, w, e, g in rows if d is None), (*DEFAULTS[kind], True, growth))
    own = {d: (t, w, e, g) for d, t, w, e, g in rows if d is not None}
    if district_ids is None:
        district_ids = Area.objects.filter(kind=AreaKind.DISTRICT, is_active=True).values_list("pk", flat=True)
    settings_by_district = {}
    for pk in district_ids:
        threshold, window, enabled, percent = own.get(pk, default)
        if enabled:
            if kind == WarningRuleKind.REPORT_RISE:
                percent = percent or DEFAULT_GROWTH_PERCENT
            settings_by_district[pk] = RuleSetting(threshold, window, percent)
    return settings_by_district


def _grouped(settings_by_district):
    """{RuleSetting: [district ids]}: one query per distinct setting, not per district."""
    groups = defaultdict(list)
    for district_id, setting in settings_by_district.items():
        groups[setting].append(district_id)
    return groups


def _today(now):
    return timezone.localdate(now)


def review_overdue_candidates(*, rules, now):
    found = []
    grades = dict(Grade.choices)
    for setting, districts in _grouped(rules).items():
        cutoff = _today(now) - datetime.timedelta(days=setting.threshold)
        rows = (Risk.objects.filter(district_id__in=districts, status=RiskStatus.OPEN, grade__in=WARNED_GRADES,
                                    review_overdue_since__isnull=False, review_on__lte=cutoff)
                .values_list("pk", "grade", "review_on", "title", "building_id", *PATH_IDS))
        for pk, grade, review_on, title, building_id, *path in rows:
            days = (_today(now) - review_on).days
            found.append(Candidate(
                rule=WarningRuleKind.REVIEW_OVERDUE, subject=f"risk:{pk}", newest=review_on.isoformat(),
                path=dict(zip(PATH_IDS, path)), building_id=building_id, risk_id=pk,
                title=_("%(grade)s risk “%(title)s” is %(days)d day(s) past its review (due %(date)s)")
                % {"grade": grades[grade], "title": title, "days": days, "date": review_on.isoformat()},
                evidence={"risks": [pk], "grade": grade, "review_on": review_on.isoformat(), "days_overdue": days},
            ))
    return found


def risk_cluster_candidates(*, rules, now):
    found = []
    kinds = dict(RiskType.choices)
    for setting, districts in _grouped(rules).items():
        since = now - datetime.timedelta(days=setting.window_days)
        groups = defaultdict(list)
        rows = (Risk.objects.filter(district_id__in=districts, status=RiskStatus.OPEN, grid_id__isnull=False,
                                    created_at__gte=since)
                .values_list("grid_id", "kind", "pk", *PATH_IDS).order_by("grid_id", "kind", "pk"))
        for grid_id, kind, pk, *path in rows:
            groups[(grid_id, kind)].append((pk, path))
        hits = {key: items for key, items in groups.items() if len(items) >= setting.threshold}
        names = dict(Area.objects.filter(pk__in={g for g, _k in hits}).values_list("pk", "name"))
        for (grid_id, kind), items in hits.items():
            ids = [pk for pk, _path in items]
            found.append(Candidate(
                rule=WarningRuleKind.RISK_CLUSTER, subject=f"grid:{grid_id}:{kind}", newest=str(max(ids)),
                path=dict(zip(PATH_IDS, items[-1][1])),
                title=_("%(n)d risks of type “%(kind)s” in %(grid)s within %(days)d days")
                % {"n": len(ids), "kind": kinds.get(kind, kind), "grid": names.get(grid_id, grid_id),
                   "days": setting.window_days},
                evidence={"risks": ids, "kind": kind, "window_days": setting.window_days},
            ))
    return found


def candidates(*, now):
    """Every rule's candidates, over the whole city."""
    found = []
    own = ((WarningRuleKind.REVIEW_OVERDUE, review_overdue_candidates),
           (WarningRuleKind.RISK_CLUSTER, risk_cluster_candidates))
    for kind, evaluate in own:
        rules = rule_settings(kind)
        if rules:
            found += evaluate(rules=rules, now=now)
    case_rules = {kind: rule_settings(kind) for kind in CASE_RULES}
    case_rules = {kind: rules for kind, rules in case_rules.items() if rules}
    if case_rules:
        found += hooks.case_warning_candidates(rules=case_rules, now=now)
    return found


def warnings_raise(*, now):
    """Raise a warning for each candidate whose evidence has not raised one. Returns how many were new
    (an upper bound when another run inserts the same ones at the same moment)."""
    now = timezone.now() if now is None else now
    with translation.override(settings.LANGUAGE_CODE):
        found = candidates(now=now)
    if not found:
        return 0
    keys = [c.evidence_key for c in found]
    seen = set()
    for start in range(0, len(keys), 5000):
        seen.update(EarlyWarning.objects.filter(evidence_key__in=keys[start:start + 5000])
                    .values_list("evidence_key", flat=True))
    open_subjects = set(EarlyWarning.objects.filter(status="open", rule__in={c.rule for c in found})
                        .values_list("rule", "subject"))
    new = [EarlyWarning(rule=c.rule, subject=c.subject, evidence_key=c.evidence_key, title=c.title[:200],
                        evidence=c.evidence, building_id=c.building_id, risk_id=c.risk_id, raised_at=now, **c.path)
           for c in found if c.evidence_key not in seen and (c.rule, c.subject) not in open_subjects]
    # ON CONFLICT DO NOTHING: a run at the same moment may have inserted some of them.
    EarlyWarning.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


def _staff_by_area(area_ids):
    staff = defaultdict(list)
    rows = (Post.objects.filter(area_id__in=area_ids, role__in=NOTIFIED_ROLES, ended_at__isnull=True,
                                user__is_active=True)
            .values_list("area_id", "user_id", "user__email").order_by("user_id"))
    for area_id, user_id, email in rows:
        staff[area_id].append((user_id, email or ""))
    return staff


def warnings_notify(*, now):
    """Tell the community and street staff of each warning not yet told, once. Returns how many."""
    told = 0
    with translation.override(settings.LANGUAGE_CODE):
        subject_prefix = _("Early warning")
        body_tail = _("See the warnings panel to acknowledge or dismiss it.")
        while True:
            with transaction.atomic():
                batch = list(EarlyWarning.objects.select_for_update(skip_locked=True)
                             .filter(notified_at__isnull=True).order_by("pk")
                             .values_list("pk", "title", "community_id", "street_id")[:NOTIFY_BATCH])
                if not batch:
                    break
                claimed = EarlyWarning.objects.filter(pk__in=[b[0] for b in batch], notified_at__isnull=True).update(
                    notified_at=now)
                if not claimed:
                    break
                staff = _staff_by_area({a for b in batch for a in b[2:] if a})
                messages = []
                for _pk, title, community_id, street_id in batch:
                    recipients = list(dict.fromkeys(staff.get(community_id, []) + staff.get(street_id, [])))
                    if recipients:
                        messages.append((recipients, f"{subject_prefix}：{title}"[:200], f"{title}\n{body_tail}"))
                if messages:
                    hooks.notify_staff(messages=messages, now=now)
                told += len(batch)
    return told


def warnings_sweep(*, now):
    """The beat's run: mark overdue reviews, raise what the rules find, tell the staff. Each step commits
    on its own, and each is safe to repeat."""
    from .services import risks_flag_overdue

    flagged = risks_flag_overdue(now=now)
    raised = warnings_raise(now=now)
    told = warnings_notify(now=now)
    return {"flagged": flagged, "raised": raised, "notified": told}
