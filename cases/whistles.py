"""吹哨报到: blow the whistle on a case, report in, mark no-shows, rate the response.

Writes only; the reads are cases/selectors_whistle.py. Like the other modules cut
out of cases/services.py, this one uses its shared helpers (`_now`, `_fresh`,
`_event`) and services never imports it. Each move asks cases/workflow.py
(`whistle`, `report_in`, `no_show`, `rate_summons`) on a freshly locked case,
changes the summons rows with a conditional UPDATE on their status, and writes
its timeline line and notifications in the same transaction. A refusal raises
DomainError and leaves nothing behind.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from grid.models import Organisation
from grid.selectors import organisations_covering, scope_of
from portal.errors import DomainError
from portal.text import clean_text

from . import notifications, routing, workflow
from .models import Case, CaseEvent, Summons, SummonsStatus, Whistle, WhistleSituation
from .services import _event, _now

A = CaseEvent.Action
SS = SummonsStatus

MAX_ORGANISATIONS = 12
# A whistle asks for people on site: a week is the longest report-in time anyone sets.
MINUTES_MAX = 7 * 24 * 60
RATING_CHOICES = (1, 2, 3, 4, 5)


def default_minutes(urgent):
    """Report-in time when the whistler sets none (settings; Pinggu: 30 minutes when urgent)."""
    return settings.WHISTLE_URGENT_REPORT_IN_MINUTES if urgent else settings.WHISTLE_REPORT_IN_MINUTES


def _locked_case(case):
    return Case.objects.select_for_update().select_related("category").get(pk=getattr(case, "pk", case))


def _case_place(case):
    """The deepest place on the case's path (what an organisation must cover)."""
    return case.grid or case.community or case.street or case.district


def whistling_place(case, user):
    """The community or street on the case's path from which `user` blows the whistle (the most
    local post wins: a community's staff whistle as the community); None if they may not."""
    if user is None:
        return None
    if user.is_superuser:
        return case.community or case.street
    found = None
    for span in scope_of(user).spans:
        if span.role in workflow.WHISTLING_ROLES.get(span.kind, ()) and getattr(case, f"{span.kind}_id") == span.area_id:
            if found is None or span.kind == "community":
                found = span
    if found is None:
        return None
    return case.community if found.kind == "community" else case.street


def organisation_staff(organisation_ids):
    return list(get_user_model().objects.filter(
        posts__organisation_id__in=organisation_ids, posts__ended_at__isnull=True, is_active=True,
    ).distinct().order_by("pk"))


def _minutes(minutes, urgent):
    if minutes in (None, ""):
        return default_minutes(urgent)
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= MINUTES_MAX:
        raise DomainError(_("The report-in time must be from 1 to %(n)d minutes.") % {"n": MINUTES_MAX},
                          code="bad_minutes")
    return value


def _summonable(case, organisations):
    """The organisations as rows, each checked: active and covering the matter's place."""
    ids = []
    for org in organisations or ():
        pk = getattr(org, "pk", org)
        if pk not in ids:
            ids.append(pk)
    if not ids:
        raise DomainError(_("Choose at least one organisation to summon."), code="no_organisations")
    if len(ids) > MAX_ORGANISATIONS:
        raise DomainError(_("At most %(n)d organisations per whistle.") % {"n": MAX_ORGANISATIONS},
                          code="too_many")
    place = _case_place(case)
    covering = set(organisations_covering(area=place, building=case.building).filter(pk__in=ids)
                   .values_list("pk", flat=True))
    outside = [pk for pk in ids if pk not in covering]
    if outside:
        names = list(Organisation.objects.filter(pk__in=outside).values_list("name", flat=True)) or [
            _("an unknown organisation")]
        raise DomainError(
            _("%(names)s does not cover this matter's place (%(place)s): only active organisations whose "
              "jurisdiction covers it can be summoned.") % {"names": "、".join(names), "place": place.name},
            code="outside_jurisdiction",
        )
    already = list(Summons.objects.filter(whistle__case=case, organisation_id__in=ids)
                   .values_list("organisation__name", flat=True))
    if already:
        raise DomainError(_("%(names)s is already summoned to this matter.") % {"names": "、".join(already)},
                          code="already_summoned")
    return list(Organisation.objects.filter(pk__in=ids).order_by("pk"))


@transaction.atomic
def whistle_blow(*, case, organisations, acting_user, reason, situation, urgent=False, minutes=None, now=None):
    """吹哨: summon organisations to a case; one summons each, due `minutes` from now."""
    now = _now(now)
    case = _locked_case(case)
    workflow.check("whistle", case, acting_user)
    place = whistling_place(case, acting_user)
    if place is None:
        raise DomainError(_("Only staff of the case's community or street may blow the whistle."), code="forbidden")
    reason = clean_text(reason, field=_("reason"))
    if situation not in WhistleSituation.values:
        raise DomainError(_("Choose the situation."), code="bad_situation")
    urgent = bool(urgent)
    minutes = _minutes(minutes, urgent)
    orgs = _summonable(case, organisations)
    whistle = Whistle.objects.create(case=case, place=place, situation=situation, urgent=urgent,
                                     report_in_minutes=minutes, reason=reason, raised_by=acting_user, raised_at=now)
    due = now + timedelta(minutes=minutes)
    Summons.objects.bulk_create([Summons(whistle=whistle, organisation=org, due_at=due) for org in orgs])
    _event(case, A.WHISTLE, actor=acting_user, now=now, note=reason, from_status=case.status,
           data={"whistle": whistle.pk, "organisations": [o.pk for o in orgs], "due_at": due.isoformat()})
    notifications.notify(
        users=organisation_staff([o.pk for o in orgs]), case=case, now=now, chat=urgent,
        subject=_("Whistle on case %(number)s: report in by %(due)s")
        % {"number": case.number, "due": due.strftime("%Y-%m-%d %H:%M")},
        body=f"{place.name}: {reason}",
    )
    return whistle


@transaction.atomic
def summons_report_in(*, summons, acting_user, note="", now=None):
    """报到: the organisation's staff report in on site. A no-show may still report in (late)."""
    now = _now(now)
    summons = Summons.objects.select_related("organisation", "whistle").get(pk=getattr(summons, "pk", summons))
    if acting_user is None or summons.organisation_id not in scope_of(acting_user).organisation_ids:
        raise DomainError(_("You are not on the staff of %(org)s; only its staff can report in for it.")
                          % {"org": summons.organisation.name}, code="forbidden")
    case = _locked_case(summons.whistle.case_id)
    transition = workflow.check("report_in", case, acting_user, kinds={workflow.SUMMONED})
    note = clean_text(note, field=_("note"), required=False, limit=200)
    sources, target = transition.summons
    changed = Summons.objects.filter(pk=summons.pk, status__in=sources).update(
        status=target, reported_in_at=now, reported_in_by=acting_user, report_note=note)
    if changed != 1:
        raise DomainError(_("%(org)s has already reported in.") % {"org": summons.organisation.name},
                          code="already")
    late = now > summons.due_at
    _event(case, A.REPORT_IN, actor=acting_user, now=now, note=note, from_status=case.status,
           data={"summons": summons.pk, "organisation": summons.organisation_id, "late": late})
    summons.refresh_from_db()
    return summons


def summonses_mark_no_shows(*, now=None, limit=500):
    """The sweep (every minute): summonses past their deadline with nobody reported in on an
    open case become no-shows, each with its timeline line and a notice to the whistling place.

    Idempotent: each row moves by a conditional UPDATE (status still `summoned`), so a second
    or concurrent run changes nothing twice. Returns how many were marked.
    """
    now = _now(now)
    transition = workflow.TRANSITIONS["no_show"]
    sources, target = transition.summons
    candidates = list(
        Summons.objects.filter(status__in=sources, due_at__lt=now, whistle__case__status__in=transition.sources)
        .order_by("due_at", "pk").values_list("pk", flat=True)[:limit]
    )
    marked = 0
    for pk in candidates:
        marked += _mark_no_show(pk, now, sources, target)
    return marked


@transaction.atomic
def _mark_no_show(pk, now, sources, target):
    summons = Summons.objects.select_related("organisation", "whistle", "whistle__place").get(pk=pk)
    case = _locked_case(summons.whistle.case_id)
    try:
        workflow.check("no_show", case, None, actor=workflow.SYSTEM)
    except DomainError:
        return 0  # closed meanwhile: nobody is late for a finished matter
    if Summons.objects.filter(pk=pk, status__in=sources, due_at__lt=now).update(status=target, no_show_at=now) != 1:
        return 0
    _event(case, A.NO_SHOW, actor=None, now=now, from_status=case.status,
           data={"summons": pk, "organisation": summons.organisation_id})
    place = summons.whistle.place
    notifications.notify(
        users=routing.responsible_staff(case, level=place.kind), case=case, now=now,
        subject=_("%(org)s did not report in on case %(number)s")
        % {"org": summons.organisation.name, "number": case.number},
        body=_("The report-in deadline was %(due)s.") % {"due": summons.due_at.strftime("%Y-%m-%d %H:%M")},
    )
    return 1


def _may_rate(whistle, user):
    if user is not None and user.is_superuser:
        return True
    return any(span.area_id == whistle.place_id and span.role in workflow.WHISTLING_ROLES.get(span.kind, ())
               for span in scope_of(user).spans)


def _rating(value):
    try:
        rating = int(value)
    except (TypeError, ValueError):
        rating = 0
    if rating not in RATING_CHOICES:
        raise DomainError(_("A rating is a whole number from 1 to 5."), code="bad_rating")
    return rating


@transaction.atomic
def whistle_rate(*, whistle, ratings, acting_user, now=None):
    """评价权: the whistling place rates each summoned organisation's response once the case is closed.

    `ratings` maps summons ids to (rating 1–5, comment). All are checked before any is written;
    a summons already rated is refused.
    """
    now = _now(now)
    whistle = Whistle.objects.select_related("place").get(pk=getattr(whistle, "pk", whistle))
    case = _locked_case(whistle.case_id)
    workflow.check("rate_summons", case, acting_user)
    if not _may_rate(whistle, acting_user):
        raise DomainError(_("Only the place that blew the whistle (%(place)s) rates the response.")
                          % {"place": whistle.place.name}, code="forbidden")
    if not ratings:
        raise DomainError(_("Rate at least one organisation."), code="no_ratings")
    rows = {s.pk: s for s in Summons.objects.filter(whistle=whistle).select_related("organisation")}
    cleaned = {}
    for pk, (value, comment) in ratings.items():
        summons = rows.get(pk)
        if summons is None:
            raise DomainError(_("That organisation was not summoned by this whistle."), code="bad_summons")
        if summons.rated_at is not None:
            raise DomainError(_("%(org)s has already been rated.") % {"org": summons.organisation.name},
                              code="already")
        cleaned[pk] = (_rating(value), clean_text(comment, field=_("comment"), required=False, limit=1000))
    for pk, (rating, comment) in cleaned.items():
        if Summons.objects.filter(pk=pk, rated_at__isnull=True).update(
                rating=rating, rating_comment=comment, rated_at=now, rated_by=acting_user) != 1:
            raise DomainError(_("%(org)s has already been rated.") % {"org": rows[pk].organisation.name},
                              code="already")
    _event(case, A.RATE_SUMMONS, actor=acting_user, now=now, from_status=case.status,
           data={"whistle": whistle.pk, "ratings": {str(pk): r for pk, (r, _c) in cleaned.items()}})
    return whistle
