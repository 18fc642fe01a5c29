"""Concurrent writers on PostgreSQL (threads, own connections, released together): supports
racing to a threshold, a double submit racing itself, two sweeps at once. Skipped on SQLite."""


import pytest

from residents.participation import services
from residents.participation.models import Event, Proposal, ProposalStatus, Support, Track

from .participation_factories import MONDAY, at, cast, fresh_calendar, in_deliberation, proposal  # noqa: F401
from .test_tree_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def attempt(call, **kwargs):
    from portal.errors import DomainError

    try:
        call(**kwargs)
        return "ok"
    except DomainError as error:
        return error.code


@pytest.fixture(autouse=True)
def flushable(on_postgres):
    yield  # PostgreSQL flushes with TRUNCATE, which the append-only triggers do not see


def test_supports_racing_to_the_threshold_are_all_counted_and_move_it_once(cast):
    found = proposal(cast, threshold=3)
    jobs = [lambda r=r: attempt(services.proposal_support, proposal=found, resident=r, acting_user=cast.staff,
                                now=MONDAY) for r in cast.residents]
    assert run_together(*jobs) == ["ok", "ok", "ok"]
    found = Proposal.objects.get(pk=found.pk)
    assert (found.support_count, found.status) == (3, ProposalStatus.DELIBERATION)
    assert Event.objects.filter(proposal=found, action="proposal.reach_threshold").count() == 1


def test_a_double_submit_racing_itself_counts_once(cast):
    found = proposal(cast, threshold=5)
    job = lambda: attempt(services.proposal_support, proposal=found, resident=cast.residents[0],  # noqa: E731
                          acting_user=cast.staff, now=MONDAY)
    assert sorted(run_together(job, job)) == ["duplicate", "ok"]
    assert Support.objects.count() == 1 and Proposal.objects.get(pk=found.pk).support_count == 1


def test_two_sweeps_at_once_escalate_each_track_once(cast):
    tracks = [services.track_open(proposal=in_deliberation(cast, title=f"议题{n}"), acting_user=cast.staff,
                                  now=MONDAY) for n in range(6)]
    later = at(2026, 12, 8)
    moved = run_together(lambda: services.escalate_overdue(now=later, batch=2),
                         lambda: services.escalate_overdue(now=later, batch=2))
    assert sum(moved) == len(tracks)
    assert set(Track.objects.values_list("responsible_level", "escalation_count")) == {("street", 1)}
    assert Event.objects.filter(action="track.escalate").count() == len(tracks)


