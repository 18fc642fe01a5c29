"""四议两公开 with frozen time: the four steps in order, the seven-day publication, objections
answered within three working days, the result after that, and the escalation sweep."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from portal.errors import DomainError
from residents.participation import services, workflow
from residents.participation.models import Event, Objection, ProposalStatus, Track, TrackStage
from residents.participation.tasks import escalate_overdue as escalate_task

from .participation_factories import (  # noqa: F401
    MONDAY,
    at,
    cast,
    decided_track,
    fresh_calendar,
    in_deliberation,
    published_track,
)

pytestmark = pytest.mark.django_db


def refused(code, call, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value


def test_the_transition_table_is_the_only_order(cast):
    table = workflow.TABLES["track"]
    chain = [(n, table[n].sources, table[n].target) for n in ("propose", "discuss", "review", "decide",
                                                              "publish_decision", "publish_result")]
    stages = [TrackStage.OPENED, TrackStage.PROPOSED, TrackStage.DISCUSSED, TrackStage.REVIEWED,
              TrackStage.DECIDED, TrackStage.PUBLISHED, TrackStage.DONE]
    assert [(sources, target) for _n, sources, target in chain] == [
        (frozenset({a}), b) for a, b in zip(stages, stages[1:])]


def test_steps_are_recorded_in_order_and_none_is_skipped(cast):
    track = services.track_open(proposal=in_deliberation(cast), acting_user=cast.staff, now=MONDAY)
    assert track.due_at == at(2026, 12, 7, 9, 0)  # ten working days
    for skipped in ("discuss", "review"):
        refused("bad_state", services.track_step, track=track, step=skipped, note="跳步", acting_user=cast.staff,
                now=MONDAY)
    refused("bad_state", services.track_step, track=track, step="decide", note="跳步", votes=(9, 0, 0),
            decision_text="同意", acting_user=cast.staff, now=MONDAY)
    refused("bad_state", services.track_publish_decision, track=track, acting_user=cast.staff, now=MONDAY)
    refused("bad_step", services.track_step, track=track, step="publish", note="x", acting_user=cast.staff, now=MONDAY)
    refused("blank", services.track_step, track=track, step="propose", note=" ", acting_user=cast.staff, now=MONDAY)
    refused("forbidden", services.track_step, track=track, step="propose", note="x", acting_user=cast.staff_b,
            now=MONDAY)
    refused("forbidden", services.track_step, track=track, step="propose", note="x", acting_user=cast.worker,
            now=MONDAY)
    track = services.track_step(track=track, step="propose", note="支部提议", acting_user=cast.staff, now=MONDAY)
    refused("bad_state", services.track_step, track=track, step="propose", note="again", acting_user=cast.staff,
            now=MONDAY)
    assert Track.objects.get().stage == TrackStage.PROPOSED
    steps = list(Event.objects.filter(track=track).values_list("action", flat=True))
    assert steps == ["track.open", "track.propose"]


def test_the_assembly_decides_the_proposal_with_a_counted_vote(cast):
    track = services.track_open(proposal=in_deliberation(cast), acting_user=cast.staff, now=MONDAY)
    for step in ("propose", "discuss", "review"):
        track = services.track_step(track=track, step=step, note=step, acting_user=cast.staff, now=MONDAY)
    refused("no_votes", services.track_step, track=track, step="decide", note="大会", votes=(0, 0, 0),
            decision_text="同意", acting_user=cast.staff, now=MONDAY)
    refused("not_a_number", services.track_step, track=track, step="decide", note="大会", votes=("x", 0, 0),
            decision_text="同意", acting_user=cast.staff, now=MONDAY)
    track = services.track_step(track=track, step="decide", note="大会", votes=(8, 20, 0), decision_text="不同意",
                                acting_user=cast.staff, now=MONDAY)
    assert (track.stage, track.decision) == (TrackStage.DECIDED, "rejected")
    assert track.due_at == at(2026, 11, 25, 9, 0)  # publish within two working days
    track.proposal.refresh_from_db()
    assert track.proposal.status == ProposalStatus.REJECTED


def test_a_publication_shorter_than_seven_days_is_refused_here_and_in_the_database(cast):
    track = decided_track(cast)
    refused("out_of_range", services.track_publish_decision, track=track, days=6, acting_user=cast.staff, now=MONDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Track.objects.filter(pk=track.pk).update(published_at=MONDAY, publication_ends_at=MONDAY + timedelta(days=6))
    track = services.track_publish_decision(track=track, acting_user=cast.staff, now=MONDAY)
    assert (track.published_at, track.publication_ends_at, track.due_at) == (MONDAY, at(2026, 11, 30, 9, 0), None)


def test_objections_are_taken_only_during_publication_and_answered_in_three_working_days(cast):
    track = published_track(cast)
    friday = at(2026, 11, 27, 10, 0)
    objection = services.track_object(track=track, text="充电棚离窗户太近", resident=cast.residents[0],
                                      acting_user=cast.worker, now=friday)
    assert objection.answer_due_at == at(2026, 12, 2, 10, 0)  # Mon, Tue, Wed
    refused("not_resident", services.track_object, track=track, text="x", resident=cast.outsider,
            acting_user=cast.staff, now=friday)
    refused("blank", services.track_object, track=track, text="", acting_user=cast.staff, now=friday)
    refused("closed", services.track_object, track=track, text="太晚了", acting_user=cast.staff,
            now=at(2026, 11, 30, 9, 0))
    assert Objection.objects.count() == 1
    answered = services.track_answer(objection=objection, answer="已调整位置", acting_user=cast.staff,
                                     now=at(2026, 11, 30, 10, 0))
    assert answered.answered_at == at(2026, 11, 30, 10, 0)
    refused("duplicate", services.track_answer, objection=objection, answer="again", acting_user=cast.staff,
            now=at(2026, 11, 30, 11, 0))


def test_the_result_follows_only_after_seven_days_with_every_objection_answered(cast):
    track = published_track(cast)
    objection = services.track_object(track=track, text="有异议", acting_user=cast.staff, now=MONDAY)
    refused("too_early", services.track_publish_result, track=track, result_text="已建成", acting_user=cast.staff,
            now=at(2026, 11, 30, 8, 59))
    refused("open_objections", services.track_publish_result, track=track, result_text="已建成",
            acting_user=cast.staff, now=at(2026, 11, 30, 9, 0))
    services.track_answer(objection=objection, answer="已答复", acting_user=cast.staff, now=MONDAY)
    refused("blank", services.track_publish_result, track=track, result_text="", acting_user=cast.staff,
            now=at(2026, 11, 30, 9, 0))
    track = services.track_publish_result(track=track, result_text="充电棚已建成投用", acting_user=cast.staff,
                                          now=at(2026, 11, 30, 9, 0))
    assert (track.stage, track.result_published_at) == (TrackStage.DONE, at(2026, 11, 30, 9, 0))
    refused("bad_state", services.track_object, track=track, text="x", acting_user=cast.staff,
            now=at(2026, 11, 30, 9, 1))


def test_overdue_steps_climb_one_level_per_run_and_twice_is_harmless(cast):
    track = services.track_open(proposal=in_deliberation(cast), acting_user=cast.staff, now=MONDAY)
    assert services.escalate_overdue(now=track.due_at) == 0  # due, not yet overdue
    later = track.due_at + timedelta(minutes=1)
    assert services.escalate_overdue(now=later) == 1
    assert services.escalate_overdue(now=later) == 0
    track.refresh_from_db()
    assert (track.responsible_level, track.escalation_count) == ("street", 1)
    assert track.due_at == at(2026, 12, 21, 9, 1)
    services.escalate_overdue(now=track.due_at + timedelta(minutes=1))
    services.escalate_overdue(now=track.due_at + timedelta(days=60))
    track.refresh_from_db()
    assert (track.responsible_level, track.escalation_count) == ("district", 2)  # the top: it stays
    assert Event.objects.filter(track=track, action="track.escalate").count() == 2


def test_a_step_done_on_time_does_not_escalate(cast):
    track = services.track_open(proposal=in_deliberation(cast), acting_user=cast.staff, now=MONDAY)
    services.track_step(track=track, step="propose", note="按时", acting_user=cast.staff, now=at(2026, 12, 4))
    assert services.escalate_overdue(now=at(2026, 12, 8)) == 0


def test_unanswered_objections_escalate_once(cast):
    track = published_track(cast)
    objection = services.track_object(track=track, text="有异议", acting_user=cast.staff, now=MONDAY)
    assert services.escalate_overdue(now=at(2026, 11, 26, 9, 0)) == 0
    assert services.escalate_overdue(now=at(2026, 11, 26, 9, 1)) == 1
    assert services.escalate_overdue(now=at(2026, 11, 27, 9, 1)) == 0
    objection.refresh_from_db()
    assert objection.escalated_at == at(2026, 11, 26, 9, 1)
    # Still answerable afterwards; the answer is marked late on the timeline.
    services.track_answer(objection=objection, answer="迟复", acting_user=cast.staff, now=at(2026, 11, 27))
    assert Event.objects.filter(track=track, action="track.answer").get().data["late"] is True


def test_the_beat_task_runs_the_sweep_on_the_clock_and_is_idempotent(cast):
    long_ago = at(2025, 3, 3, 9, 0)
    track = services.track_open(proposal=in_deliberation(cast), acting_user=cast.staff, now=long_ago)
    assert escalate_task.delay().get() == 1
    assert escalate_task.delay().get() == 0
    track.refresh_from_db()
    assert (track.responsible_level, track.escalation_count) == ("street", 1)
