"""Word to the level a case left: "this case went up to the community, and why" (issue #21).

The sweep and the hand escalation tell the staff of the level the case rose to
(cases/escalation.py, services.case_escalate). The grid worker it left saw it
vanish from her queue with no word. Here the handlers of the level below hear of
it too: one inbox message per person (a digest when one run moved several of
hers), and her queue shows the escalations of the last days from the timeline
(`left_my_queue`), each with its reason.

Writing is part of the escalation's notification step (the sweep's notices are
worded by a Celery task after the commit), so it adds nothing to the sweep's
own transaction.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grid.models import AreaKind, Post
from grid.selectors import scope_of

from . import notifications
from .models import LEVELS, Case, CaseEvent
from .workflow import HANDLING_ROLES

# How long an escalation stays in the queue's "left your queue" panel.
LEFT_SHOWN_FOR = timedelta(days=7)
LEFT_SHOWN_AT_MOST = 10
DIGEST_LINES = 50


def level_below(level):
    index = LEVELS.index(level)
    return LEVELS[index - 1] if index > 0 else None


def handlers_by_place(places):
    """{(level, area id): [(user id, email), ...]}: the handlers (not the managers) posted there now."""
    wanted = {(level, area_id) for level, area_id in places if area_id}
    if not wanted:
        return {}
    found = {key: [] for key in wanted}
    posts = (Post.objects.filter(area_id__in={a for _l, a in wanted}, ended_at__isnull=True, user__is_active=True)
             .order_by("user_id").values_list("area__kind", "area_id", "role", "user_id", "user__email"))
    for kind, area_id, role, user_id, email in posts:
        key = (kind, area_id)
        if key in found and role in HANDLING_ROLES[kind] and (user_id, email) not in found[key]:
            found[key].append((user_id, email))
    return found


def _subject_one(number, upper):
    return _("Case %(number)s left your queue for the %(level)s level") % {
        "number": number, "level": AreaKind(upper).label}


def build_left_rows(moved, *, now, reason, skip_user_id=None):
    """Outbox rows (notifications.build_rows tuples) telling the level below about cases that rose.

    `moved` holds (case id, number, new level, {level: place id} of the case).
    """
    places = {}
    for pk, number, upper, path in moved:
        lower = level_below(upper)
        if lower is not None and path.get(lower):
            places[pk] = (lower, path[lower])
    staff = handlers_by_place(places.values())
    per_user = {}
    for pk, number, upper, _path in moved:
        if pk not in places:
            continue
        for user_id, email in staff.get(places[pk], ()):
            if user_id != skip_user_id:
                per_user.setdefault(user_id, (email, []))[1].append((pk, number, upper))
    rows = []
    for user_id, (email, lines) in per_user.items():
        recipient = [(user_id, email)]
        if len(lines) == 1:
            pk, number, upper = lines[0]
            subject = _subject_one(number, upper)
            # The inbox keeps the body only: it starts with the subject.
            rows += notifications.build_rows(recipients=recipient, case_id=pk, now=now,
                                             subject=subject, body=f"{subject}\n{reason}")
            continue
        shown = [f"{number} → {AreaKind(upper).label}" for _pk, number, upper in lines[:DIGEST_LINES]]
        if len(lines) > DIGEST_LINES:
            shown.append(_("…and %(n)d more.") % {"n": len(lines) - DIGEST_LINES})
        subject = ngettext("%(n)d case left your queue for the level above",
                           "%(n)d cases left your queue for the level above", len(lines)) % {"n": len(lines)}
        rows += notifications.build_rows(recipients=recipient, case_id=None, now=now, subject=subject,
                                         body="\n".join([subject, reason, *shown]))
    return rows


def _paths(case_ids):
    rows = Case.objects.filter(pk__in=case_ids).values_list("pk", "number", "grid_id", "community_id", "street_id")
    return {pk: (number, {AreaKind.GRID: g, AreaKind.COMMUNITY: c, AreaKind.STREET: s})
            for pk, number, g, c, s in rows}


def left_rows_for_sweep(moved, *, now, reason):
    """Outbox rows for the sweep's notice, once worded (escalation.escalation_notices_expand, which
    writes them with its own): `moved` is the notice's [[case id, new level, place], ...]."""
    paths = _paths([m[0] for m in moved])
    rows = [(pk, paths[pk][0], upper, paths[pk][1]) for pk, upper, _place in moved if pk in paths]
    return build_left_rows(rows, now=now, reason=reason)


def notify_left_by_hand(*, case, upper, now, reason, acting_user):
    """A hand escalation (services.case_escalate): the level below hears of it, except who did it."""
    path = {AreaKind.GRID: case.grid_id, AreaKind.COMMUNITY: case.community_id, AreaKind.STREET: case.street_id}
    rows = build_left_rows([(case.pk, case.number, upper, path)], now=now, reason=reason,
                           skip_user_id=getattr(acting_user, "pk", None))
    notifications.save_rows(rows)


def left_my_queue(user, *, now, limit=LEFT_SHOWN_AT_MOST):
    """Escalations of the last days away from the places where the user handles cases (newest first):
    [{"case": case, "at": when, "to_level": label, "reason": note, "by_hand": bool}]."""
    spans = [s for s in scope_of(user).spans if s.role in HANDLING_ROLES.get(s.kind, ())]
    reach = Q()
    for span in spans:
        if span.kind == AreaKind.DISTRICT:
            continue  # nothing rises above the district
        reach |= Q(**{f"case__{span.kind}_id": span.area_id, "data__from_level": span.kind})
    if not spans or reach == Q():
        return []
    events = (CaseEvent.objects.filter(reach, action=CaseEvent.Action.ESCALATE, at__gte=now - LEFT_SHOWN_FOR,
                                       at__lte=now)
              .select_related("case", "case__category").order_by("-at", "-pk")[:limit])
    return [{"case": e.case, "at": e.at, "to_level": AreaKind(e.data.get("to_level")).label
             if e.data.get("to_level") in AreaKind.values else "",
             "reason": e.note, "by_hand": bool(e.data.get("by_hand"))} for e in events]
