"""Reads of mediation files (调解卷宗) that depend on who asks.

A file is seen by whoever sees its case (cases_visible_to: the mediators named
on it, its assignee, the managing staff of its place and above), except staff who
reach the case only through an organisation (sent to it, or summoned by a whistle):
they work on the matter, not on the parties' file. Nothing here widens that.
Working on a file and revealing a party's full ID number or phone are narrower
still (see `may_work_on` and `may_reveal`).
"""

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone

from grid.models import Post
from grid.selectors import areas_visible_to, scope_of

from . import workflow
from .models import (
    OPEN_STATUSES,
    CaseKind,
    Mediation,
    MediationFile,
    MediationParty,
    MediationReferrer,
    MediationRoom,
    MediationSession,
    MediationSource,
    SessionState,
)
from .selectors import cases_visible_to


def mediations_visible_to(user, *, managing=False):
    """The files of the mediation cases `user` sees (with `managing=True`, through managing posts: the admin)."""
    return Mediation.objects.filter(case__in=file_cases_visible_to(user, managing=managing).values("pk"))


def file_cases_visible_to(user, *, managing=False):
    """The mediation cases whose file `user` may open: not those reached only through an organisation."""
    return cases_visible_to(user, managing=managing, through_organisations=False).filter(kind=CaseKind.MEDIATION)


def rooms_visible_to(user, *, managing=False):
    """Mediation rooms of the places the user reaches."""
    return MediationRoom.objects.filter(area__in=areas_visible_to(user, managing=managing).values("pk"))


def referrers_visible_to(user, *, managing=False):
    """The referring bodies (诉调/警调/访调对接) whose keys are bound to places the user reaches."""
    return MediationReferrer.objects.filter(client__area__in=areas_visible_to(user, managing=managing).values("pk"))


def is_mediator(mediation, user):
    return user is not None and user.is_authenticated and mediation.mediators.filter(pk=user.pk).exists()


def may_work_on(case, mediation, user):
    """Its mediators, the case's handler and the staff who dispatch it (the services check the same)."""
    if case.status not in OPEN_STATUSES:
        return False
    if is_mediator(mediation, user):
        return True
    return bool(workflow.actor_kinds(case, user) & {workflow.HANDLER, workflow.DISPATCHER})


def may_reveal(case, mediation, user):
    """Who may see a party's full ID number or phone: the file's mediators (they call the parties and
    write the agreement) and community staff or above over the place. Superusers are not special."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if is_mediator(mediation, user):
        return True
    managing = [s for s in scope_of(user).spans if s.role in workflow.MANAGING_ROLES]
    return any(getattr(case, f"{s.kind}_id") == s.area_id for s in managing)


def may_appoint(case, user):
    """Naming a file's mediators is for the staff who dispatch the case."""
    return case.status in OPEN_STATUSES and workflow.DISPATCHER in workflow.actor_kinds(case, user)


def mediator_candidates(case):
    """Users who may be named mediators: posted on the case's community or street as a mediator or staff."""
    places = [pk for pk in (case.community_id, case.street_id) if pk]
    user_ids = Post.objects.filter(area_id__in=places, role__in=workflow.MEDIATOR_CANDIDATE_ROLES,
                                   ended_at__isnull=True).values("user_id")
    return get_user_model().objects.filter(pk__in=user_ids, is_active=True).order_by("full_name", "username")


def rooms_for(case):
    """The mediation rooms of the case's community and street."""
    places = [pk for pk in (case.community_id, case.street_id) if pk]
    return MediationRoom.objects.filter(area_id__in=places, is_active=True).select_related("area")


def committee_for(case):
    """The people's mediation committee keeping the file: the community's, else the street's."""
    return case.community if case.community_id else case.street


def file_detail(mediation_pk):
    """One file with what its page and its documents show (call only with a visible case's pk)."""
    return (
        Mediation.objects.select_related("case", "case__category", "case__community", "case__street",
                                         "committee", "room")
        .prefetch_related(
            "mediators",
            Prefetch("parties", queryset=MediationParty.objects.defer("id_number", "phone").order_by("id")),
            Prefetch("sessions", queryset=MediationSession.objects.select_related("room", "recorded_by")),
            Prefetch("files", queryset=MediationFile.objects.select_related("uploaded_by")),
        )
        .filter(pk=mediation_pk)
        .first()
    )


def my_files(user, *, source=None, outcome=None, mine_only=False):
    """The files the user sees, the open ones first, newest first; filters for the list page."""
    files = mediations_visible_to(user).select_related("case", "case__category", "committee")
    if mine_only:
        files = files.filter(mediators=user)
    if source:
        files = files.filter(source=source)
    if outcome:
        files = files.filter(outcome=outcome)
    return files.order_by("-case__created_at", "-pk")


def sessions_on(user, day: datetime.date):
    """The sessions of the user's files held or scheduled on `day` (local), soonest first."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = start + datetime.timedelta(days=1)
    return (
        MediationSession.objects.filter(mediation__in=mediations_visible_to(user).values("pk"),
                                        held_at__gte=start, held_at__lt=end)
        .exclude(state=SessionState.CANCELLED)
        .select_related("mediation__case", "room")
        .order_by("held_at", "id")
    )


def follow_ups_due(user, *, on):
    """Agreements of the user's files whose follow-up (回访) is due by `on`, soonest first."""
    return (
        mediations_visible_to(user).filter(follow_up_due_on__lte=on, followed_up_at__isnull=True)
        .select_related("case", "committee").order_by("follow_up_due_on", "pk")
    )


def mediation_work_for(user, *, today):
    """What waits for a mediator today, as counts for their queue page: sessions still to hold today,
    follow-ups due, replies owed to referring bodies (the mediation list shows each)."""
    return {
        "sessions": sessions_on(user, today).filter(state=SessionState.SCHEDULED).count(),
        "follow_ups": follow_ups_due(user, on=today).count(),
        "replies": replies_due(user).count(),
    }


def replies_due(user):
    """Referred files whose referring body still waits for the written reply, soonest due first."""
    return (
        mediations_visible_to(user).exclude(source=MediationSource.DIRECT).filter(replied_at__isnull=True)
        .select_related("case", "committee").order_by("reply_due_on", "pk")
    )
