"""residents/participation/seed.py: a year of resident participation for seed_city.

The demo city is seeded through `manage.py seed_city` (residents, cases and
participation) and checked from every side: every state of every machine, each
row on a consistent path in its own community, every timeline line a legal move
of workflow.py that ends in the row's stored state, the database's constraints,
the public board without personal data, and a second run adding nothing.
"""

import random
from collections import Counter, defaultdict
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import timezone

from grid.management.commands import seed_city
from grid.models import Area, AreaKind, User
from residents.models import Resident, ResidentStatus
from residents.participation import seed as participation_seed
from residents.participation import services, workflow
from residents.participation.models import (
    PUBLICATION_MIN,
    AgendaItem,
    Evaluation,
    Event,
    Meeting,
    Objection,
    Project,
    ProjectStatus,
    ProjectUpdate,
    Proposal,
    ProposalStatus,
    Support,
    Track,
    TrackStage,
)


from .clock import FROZEN, HARD_DATES


def seed_demo(monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("residents", "cases", "participation"))
    out = StringIO()
    call_command("seed_city", scale="demo", seed=4, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db, monkeypatch):
    """The demo city seeded at a fixed moment; the clock stays there (ticking) for the test."""
    with time_machine.travel(FROZEN, tick=True):
        yield seed_demo(monkeypatch)


def communities():
    return list(Area.objects.filter(kind=AreaKind.COMMUNITY))


def test_every_state_in_every_community_at_plausible_rates(demo):
    assert "proposals" in demo and "四议两公开 tracks" in demo and "timeline events" in demo
    connection.check_constraints()
    assert set(Proposal.objects.values_list("status", flat=True)) == set(ProposalStatus.values)
    assert set(Project.objects.values_list("status", flat=True)) == set(ProjectStatus.values)
    assert Proposal.objects.filter(origin="cases").exists()
    assert Proposal.objects.filter(origin="resident").exists() and Proposal.objects.filter(origin="staff").exists()
    for community in communities():
        mine = {"community_id": community.pk}
        stages = Counter(Track.objects.filter(**mine).values_list("stage", flat=True))
        assert stages == Counter(TrackStage.values), community
        statuses = set(Proposal.objects.filter(**mine).values_list("status", flat=True))
        assert {"collecting", "deliberation", "adopted"} <= statuses
        # DOMAIN.md: about six meetings and nine proposals (plus the tracks') a year; 3–5 projects.
        assert 4 <= Meeting.objects.filter(**mine).count() <= 8
        assert 10 <= Proposal.objects.filter(**mine).count() <= 30
        assert 3 <= Project.objects.filter(**mine).count() <= 5
        assert Project.objects.filter(**mine, status="completed", proposal__isnull=False).exists()
        assert Support.objects.filter(proposal__community_id=community.pk).exists()
        assert Meeting.objects.filter(**mine, closed_at__isnull=True, held_at__gt=timezone.now()).count() == 1
    published = Track.objects.filter(stage=TrackStage.PUBLISHED)
    assert Objection.objects.filter(track__in=published, answered_at__isnull=False).count() == published.count()
    assert not Objection.objects.filter(answered_at__isnull=True).exists()
    assert ProjectUpdate.objects.exists() and Evaluation.objects.exists()


def test_rows_sit_on_consistent_paths_in_their_own_place(demo):
    parent = dict(Area.objects.values_list("id", "parent_id"))
    kind = dict(Area.objects.values_list("id", "kind"))
    for model in (Proposal, Meeting, Track, Project):
        for district, street, community, grid in model.objects.values_list("district_id", "street_id",
                                                                           "community_id", "grid_id"):
            assert kind[community] == AreaKind.COMMUNITY and parent[community] == street
            assert parent[street] == district and kind[district] == AreaKind.DISTRICT
            assert grid is None or parent[grid] == community
    path = ("district_id", "street_id", "community_id", "grid_id")
    for track in Track.objects.select_related("proposal"):
        assert [getattr(track, f) for f in path] == [getattr(track.proposal, f) for f in path]
    for item in AgendaItem.objects.select_related("meeting", "proposal"):
        assert item.proposal.community_id == item.meeting.community_id
        assert item.meeting.grid_id is None or item.proposal.grid_id == item.meeting.grid_id
    for project in Project.objects.filter(proposal__isnull=False).select_related("proposal"):
        assert project.proposal.status == "adopted" and project.proposal.community_id == project.community_id
        assert project.created_at > project.proposal.decided_at

    # Supports, evaluations and objections come from living residents of the row's place.
    residents = {pk: (grid, community, status) for pk, grid, community, status in
                 Resident.objects.values_list("id", "grid_id", "community_id", "status")}

    def lives_in(resident_id, row):
        grid, community, status = residents[resident_id]
        return status == ResidentStatus.LIVING and (grid == row.grid_id if row.grid_id else
                                                    community == row.community_id)

    for support in Support.objects.select_related("proposal"):
        assert lives_in(support.resident_id, support.proposal)
        assert support.at >= support.proposal.created_at
    for proposal in Proposal.objects.filter(proposer__isnull=False):
        assert lives_in(proposal.proposer_id, proposal)
    for evaluation in Evaluation.objects.select_related("project"):
        assert lives_in(evaluation.resident_id, evaluation.project)
    for objection in Objection.objects.filter(resident__isnull=False).select_related("track"):
        assert lives_in(objection.resident_id, objection.track)

    # Cached counters are what the rows say.
    supports = dict(Support.objects.values_list("proposal_id").annotate(n=Count("id")).order_by())
    for pk, count in Proposal.objects.values_list("id", "support_count"):
        assert supports.get(pk, 0) == count
    ratings = {row["project_id"]: row for row in Evaluation.objects.values("project_id").annotate(
        n=Count("id"), total=Sum("rating")).order_by()}
    latest = dict(ProjectUpdate.objects.values_list("project_id").annotate(p=Max("progress")).order_by())
    for project in Project.objects.all():
        found = ratings.get(project.pk, {"n": 0, "total": 0})
        assert (project.rating_count, project.rating_total) == (found["n"], found["total"] or 0)
        if project.status == ProjectStatus.IMPLEMENTING:
            assert project.progress == latest[project.pk] < 100
        if project.status == ProjectStatus.COMPLETED:
            assert project.progress == 100 and project.completed_at is not None


def test_the_timeline_replays_the_workflow_tables_to_the_stored_state(demo):
    now = timezone.now()
    stored = {"proposal": dict(Proposal.objects.values_list("id", "status")),
              "track": dict(Track.objects.values_list("id", "stage")),
              "project": dict(Project.objects.values_list("id", "status"))}
    state = {machine: {} for machine in stored}
    creations = Counter()
    for event in Event.objects.order_by("at", "id"):
        assert event.at <= now
        machine, _sep, name = event.action.partition(".")
        transition = workflow.TABLES.get(machine, {}).get(name)
        if transition is None:
            assert event.action in workflow.OTHER_ACTIONS, event.action
            creations[event.action] += 1
            continue
        pk = getattr(event, f"{machine}_id")
        before = state[machine].get(pk, {"proposal": "collecting", "track": "opened", "project": "applied"}[machine])
        assert before in transition.sources, (event.action, before)
        if event.action == "proposal.support":  # the service notes the count, not a move
            assert set(event.data) == {"supports"}
            continue
        assert event.data["from"] == before, (event.action, pk)
        assert before in transition.sources, (event.action, before)
        assert event.data["to"] == transition.target_from(before)
        assert (event.actor_id is None) == (workflow.SYSTEM in transition.actors)
        state[machine][pk] = event.data["to"]
    for machine, rows in stored.items():
        for pk, status in rows.items():
            assert state[machine].get(pk, status) == status, (machine, pk)
    assert creations["proposal.create"] + creations["proposal.from_cases"] == Proposal.objects.count()
    assert creations["track.open"] == Track.objects.count()
    assert creations["project.apply"] == Project.objects.count()
    assert creations["meeting.create"] == Meeting.objects.count()
    # Votes decide by a majority of the votes cast, within the attendance.
    for item in AgendaItem.objects.filter(decided_at__isnull=False).select_related("meeting"):
        cast = item.votes_for + item.votes_against + item.votes_abstain
        assert 0 < cast <= item.meeting.attendance
        assert item.decision == ("adopted" if item.votes_for * 2 > cast else "rejected")
        assert Proposal.objects.get(pk=item.proposal_id).status == item.decision
    for track in Track.objects.exclude(published_at=None):
        assert track.publication_ends_at - track.published_at >= PUBLICATION_MIN
    # Every deadline still lies ahead: the sweep finds nothing to escalate in a fresh demo.
    assert services.escalate_overdue(now=now) == 0


@pytest.mark.parametrize("moment", HARD_DATES)
def test_a_fresh_seed_leaves_nothing_overdue_whatever_the_date(db, monkeypatch, moment):
    """Seeded at any moment (holiday edges, a 调休 Saturday, past the shipped holiday data),
    every participation deadline lies ahead: the sweep has nothing to escalate."""
    with time_machine.travel(moment, tick=False):
        seed_demo(monkeypatch)
        now = timezone.now()
        assert Track.objects.exclude(stage=TrackStage.DONE).exclude(due_at=None).count() > 0
        late = list(Track.objects.exclude(stage=TrackStage.DONE).filter(due_at__lte=now)
                    .values_list("stage", "due_at"))
        assert late == []
        assert services.escalate_overdue(now=now) == 0


def test_the_seeded_rows_take_the_next_service_call(demo):
    """A seeded proposal collecting support takes a support from a resident of its place."""
    proposal = Proposal.objects.filter(status="collecting", origin__in=["resident", "staff"]).first()
    place = proposal.grid or proposal.community
    resident = (Resident.objects.filter(status=ResidentStatus.LIVING, **{f"{place.kind}_id": place.pk})
                .exclude(pk__in=proposal.supports.values("resident_id")).first())
    admin = User.objects.get(username="admin")
    before = proposal.support_count
    assert services.proposal_support(proposal=proposal, resident=resident, acting_user=admin).support_count \
        == before + 1


def test_the_public_board_of_a_seeded_community_shows_it_without_personal_data(demo, client):
    community = Proposal.objects.filter(origin="resident").first().community
    page = client.get(reverse("participation:board", args=[community.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    mine = {"community_id": community.pk}
    assert Proposal.objects.filter(**mine).exclude(status="withdrawn").latest("created_at").title in html
    assert Project.objects.filter(**mine, status="completed").get().title in html
    people = set(Proposal.objects.filter(**mine).values_list("proposer_id", flat=True))
    people |= set(Support.objects.filter(proposal__community_id=community.pk).values_list("resident_id", flat=True))
    people |= set(Evaluation.objects.filter(project__community_id=community.pk).values_list("resident_id", flat=True))
    people.discard(None)
    assert people
    for name, phone, id_masked in Resident.objects.filter(pk__in=people).values_list("name", "phone_masked",
                                                                                     "id_masked"):
        assert name not in html
        assert not phone or phone not in html
        assert not id_masked or id_masked not in html
    for user in User.objects.filter(pk__in=Proposal.objects.filter(**mine).values("created_by_id")):
        assert user.username not in html and (not user.full_name or user.full_name not in html)
    for participants in Meeting.objects.filter(**mine).exclude(participants="").values_list("participants",
                                                                                          flat=True):
        assert participants not in html


def test_seeding_twice_adds_nothing(demo):
    before = (Proposal.objects.count(), Event.objects.count(), User.objects.count())
    out = StringIO()
    participation_seed.seed(scale=seed_city.seeding.SCALES["demo"], rng=random.Random(1), stdout=out,
                            now=timezone.now())
    assert "already" in out.getvalue()
    assert (Proposal.objects.count(), Event.objects.count(), User.objects.count()) == before


def test_without_residents_proposals_are_staff_ones_and_organisers_enter_them(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("participation",))
    call_command("seed_city", scale="demo", seed=2, accounts=False, stdout=StringIO())
    connection.check_constraints()
    assert Proposal.objects.exists()
    assert not Proposal.objects.exclude(origin="staff").exists()
    assert not Support.objects.exists() and not Evaluation.objects.exists()
    creators = defaultdict(set)
    for community_id, user_id in Proposal.objects.values_list("community_id", "created_by_id"):
        creators[community_id].add(user_id)
    assert all(len(users) == 1 for users in creators.values())
    assert len({next(iter(users)) for users in creators.values()}) == len(communities())


def test_the_staff_pages_of_seeded_records_render(demo, client):
    client.force_login(User.objects.get(username="community"))
    community = User.objects.get(username="community").posts.get().area
    mine = {"community_id": community.pk}
    pages = [reverse("participation:index")]
    for model, name in ((Proposal, "proposal"), (Meeting, "meeting"), (Track, "track"), (Project, "project")):
        pages += [reverse(f"participation:{name}", args=[pk])
                  for pk in model.objects.filter(**mine).values_list("pk", flat=True)]
    for url in pages:
        assert client.get(url).status_code == 200, url
    other = Proposal.objects.exclude(**mine).first()
    assert client.get(reverse("participation:proposal", args=[other.pk])).status_code == 404
