"""Participation services: proposals, supports, clusters of cases, meetings and votes, projects."""

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from portal.errors import DomainError
from residents.participation import selectors, services
from residents.participation.models import (
    AgendaItem,
    Event,
    MeetingKind,
    ProjectStatus,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Support,
)

from .cases_factories import png, resident_report
from .participation_factories import MONDAY, cast, fresh_calendar, in_deliberation, proposal  # noqa: F401

pytestmark = pytest.mark.django_db


def refused(code, call, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


# --- proposals and supports -----------------------------------------------------------------------

def test_a_resident_proposal_is_entered_on_their_behalf(cast):
    found = proposal(cast, proposer=cast.residents[0])
    assert found.origin == ProposalOrigin.RESIDENT
    assert (found.community_id, found.grid_id) == (cast.city.community_a.pk, cast.city.grid_a.pk)
    assert found.status == ProposalStatus.COLLECTING
    assert list(Event.objects.filter(proposal=found).values_list("action", flat=True)) == ["proposal.create"]


def test_a_grid_worker_may_enter_a_proposal_for_their_grid(cast):
    found = services.proposal_create(place=cast.city.grid_a, title="修路灯", description="3号路灯不亮",
                                     acting_user=cast.worker, now=MONDAY)
    assert found.origin == ProposalOrigin.STAFF


@pytest.mark.parametrize("changes,code", [
    ({"title": "  "}, "blank"),
    ({"description": ""}, "blank"),
    ({"title": "长" * 101}, "too_long"),
    ({"threshold": 0}, "out_of_range"),
    ({"threshold": "ten"}, "not_a_number"),
])
def test_bad_proposals_are_refused_and_nothing_is_saved(cast, changes, code):
    refused(code, proposal, cast=cast, **changes)
    assert not Proposal.objects.exists()


def test_proposals_outside_ones_place_or_from_outsiders_are_refused(cast):
    refused("forbidden", services.proposal_create, place=cast.city.grid_b, title="x", description="y",
            acting_user=cast.staff, now=MONDAY)
    refused("forbidden", services.proposal_create, place=cast.city.grid_a, title="x", description="y",
            acting_user=cast.chief, now=MONDAY)
    refused("not_resident", proposal, cast=cast, proposer=cast.outsider)
    refused("bad_place", services.proposal_create, place=cast.city.street_a, title="x", description="y",
            acting_user=cast.street, now=MONDAY)
    assert not Proposal.objects.exists()


def test_supports_count_once_per_resident_and_the_threshold_opens_deliberation(cast):
    found = proposal(cast, threshold=2)
    found = services.proposal_support(proposal=found, resident=cast.residents[0], acting_user=cast.worker, now=MONDAY)
    assert (found.support_count, found.status) == (1, ProposalStatus.COLLECTING)
    refused("duplicate", services.proposal_support, proposal=found, resident=cast.residents[0],
            acting_user=cast.staff, now=MONDAY)
    found.refresh_from_db()
    assert found.support_count == 1 and Support.objects.count() == 1
    found = services.proposal_support(proposal=found, resident=cast.residents[1], acting_user=cast.staff, now=MONDAY)
    assert (found.support_count, found.status, found.deliberation_at) == (2, ProposalStatus.DELIBERATION, MONDAY)
    # Collecting is over: a third support is refused, not counted.
    refused("bad_state", services.proposal_support, proposal=found, resident=cast.residents[2],
            acting_user=cast.staff, now=MONDAY)
    assert Support.objects.count() == 2


def test_the_database_holds_one_support_per_resident(cast):
    found = proposal(cast)
    services.proposal_support(proposal=found, resident=cast.residents[0], acting_user=cast.staff, now=MONDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Support.objects.create(proposal=found, resident=cast.residents[0], recorded_by=cast.staff, at=MONDAY)


def test_only_residents_of_the_place_may_support(cast):
    found = proposal(cast)
    refused("not_resident", services.proposal_support, proposal=found, resident=cast.outsider,
            acting_user=cast.staff, now=MONDAY)
    refused("forbidden", services.proposal_support, proposal=found, resident=cast.residents[0],
            acting_user=cast.staff_b, now=MONDAY)
    # The grid-A2 proposal's place holds none of grid A's residents.
    other = proposal(cast, place=cast.city.grid_a2)
    refused("not_resident", services.proposal_support, proposal=other, resident=cast.residents[0],
            acting_user=cast.staff, now=MONDAY)


def test_withdrawing_needs_a_reason_and_a_manager(cast):
    found = proposal(cast)
    refused("blank", services.proposal_withdraw, proposal=found, reason=" ", acting_user=cast.staff, now=MONDAY)
    refused("forbidden", services.proposal_withdraw, proposal=found, reason="重复", acting_user=cast.worker,
            now=MONDAY)
    assert services.proposal_withdraw(proposal=found, reason="重复", acting_user=cast.staff,
                                      now=MONDAY).status == ProposalStatus.WITHDRAWN


# --- recurring cases → proposal -------------------------------------------------------------------

def test_recurring_cases_become_a_proposal_with_one_click_once(cast):
    for _n in range(3):
        resident_report(cast.city, now=MONDAY)
    resident_report(cast.city, code="E0102", now=MONDAY)  # another category: not a cluster
    clusters = selectors.case_clusters(cast.staff, now=MONDAY)
    assert [(c["grid"].pk, c["category"].code, c["n"]) for c in clusters] == [(cast.city.grid_a.pk, "E0101", 3)]
    assert selectors.case_clusters(cast.staff_b, now=MONDAY) == []
    cluster = clusters[0]
    made = services.proposal_from_cases(grid=cluster["grid"], category=cluster["category"], acting_user=cast.staff,
                                        now=MONDAY)
    assert (made.origin, made.case_count, made.category_id) == (ProposalOrigin.CASES, 3, cluster["category"].pk)
    assert selectors.case_clusters(cast.staff, now=MONDAY)[0]["proposal"] == made
    refused("exists", services.proposal_from_cases, grid=cluster["grid"], category=cluster["category"],
            acting_user=cast.staff, now=MONDAY)
    assert Proposal.objects.count() == 1


def test_a_cluster_needs_three_cases_in_ones_scope(cast):
    from .cases_factories import category

    for _n in range(2):
        resident_report(cast.city, now=MONDAY)
    refused("no_cluster", services.proposal_from_cases, grid=cast.city.grid_a, category=category(),
            acting_user=cast.staff, now=MONDAY)
    resident_report(cast.city, now=MONDAY)
    refused("forbidden", services.proposal_from_cases, grid=cast.city.grid_a, category=category(),
            acting_user=cast.staff_b, now=MONDAY)
    refused("forbidden", services.proposal_from_cases, grid=cast.city.grid_a, category=category(),
            acting_user=cast.worker, now=MONDAY)
    assert not Proposal.objects.exists()


def test_mediations_never_make_a_cluster(cast):
    """Disputes are private: a proposal (and so the public board) must not name them."""
    from cases.models import Case, CaseKind, Category

    for _n in range(3):
        resident_report(cast.city, code="E0501", now=MONDAY)
    assert Case.objects.filter(kind=CaseKind.MEDIATION).count() == 3
    assert selectors.case_clusters(cast.staff, now=MONDAY) == []
    refused("no_cluster", services.proposal_from_cases, grid=cast.city.grid_a,
            category=Category.objects.get(code="E0501"), acting_user=cast.staff, now=MONDAY)
    assert not Proposal.objects.exists()


# --- meetings -------------------------------------------------------------------------------------

def meeting(cast, place=None):
    return services.meeting_create(place=place or cast.city.community_a, kind=MeetingKind.COURTYARD,
                                   title="幸福小区院坝会", held_at=MONDAY, location="1号楼前", acting_user=cast.staff,
                                   now=MONDAY)


def test_a_meeting_votes_on_its_agenda_and_the_majority_decides(cast):
    held = meeting(cast)
    first, second = in_deliberation(cast), in_deliberation(cast, title="楼道堆物清理")
    item = services.meeting_add_item(meeting=held, proposal=first, acting_user=cast.staff, now=MONDAY)
    other = services.meeting_add_item(meeting=held, proposal=second, acting_user=cast.staff, now=MONDAY)
    refused("duplicate", services.meeting_add_item, meeting=held, proposal=first, acting_user=cast.staff, now=MONDAY)
    held = services.meeting_record(meeting=held, participants="居民代表12人、物业2人、业委会1人", attendance=15,
                                   minutes="讨论了充电桩选址。", acting_user=cast.staff, now=MONDAY)
    refused("too_many_votes", services.meeting_vote, item=item, votes_for=10, votes_against=5, votes_abstain=1,
            decision_text="x", acting_user=cast.staff, now=MONDAY)
    refused("no_votes", services.meeting_vote, item=item, votes_for=0, votes_against=0, votes_abstain=0,
            decision_text="x", acting_user=cast.staff, now=MONDAY)
    refused("not_a_number", services.meeting_vote, item=item, votes_for="many", votes_against=0, votes_abstain=0,
            decision_text="x", acting_user=cast.staff, now=MONDAY)
    item = services.meeting_vote(item=item, votes_for=12, votes_against=2, votes_abstain=1,
                                 decision_text="同意在2号楼旁建设充电棚", acting_user=cast.staff, now=MONDAY)
    assert (item.decision, item.votes_for) == ("adopted", 12)
    first.refresh_from_db()
    assert (first.status, first.decided_at) == (ProposalStatus.ADOPTED, MONDAY)
    refused("duplicate", services.meeting_vote, item=item, votes_for=1, votes_against=0, votes_abstain=0,
            decision_text="again", acting_user=cast.staff, now=MONDAY)
    # A tie is not a majority.
    services.meeting_vote(item=other, votes_for=5, votes_against=5, votes_abstain=0, decision_text="暂缓",
                          acting_user=cast.staff, now=MONDAY)
    second.refresh_from_db()
    assert second.status == ProposalStatus.REJECTED
    services.meeting_close(meeting=held, acting_user=cast.staff, now=MONDAY)
    third = in_deliberation(cast, title="第三个")
    refused("closed", services.meeting_add_item, meeting=held, proposal=third, acting_user=cast.staff, now=MONDAY)


def test_the_agenda_takes_only_proposals_in_deliberation_from_the_meetings_place(cast):
    held = meeting(cast, place=cast.city.grid_a2)
    refused("other_place", services.meeting_add_item, meeting=held, proposal=in_deliberation(cast),
            acting_user=cast.staff, now=MONDAY)
    refused("bad_state", services.meeting_add_item, meeting=meeting(cast), proposal=proposal(cast),
            acting_user=cast.staff, now=MONDAY)
    refused("forbidden", services.meeting_create, place=cast.city.community_a, kind=MeetingKind.COUNCIL,
            title="议事会", held_at=MONDAY, acting_user=cast.staff_b, now=MONDAY)
    refused("bad_kind", services.meeting_create, place=cast.city.community_a, kind="party", title="议事会",
            held_at=MONDAY, acting_user=cast.staff, now=MONDAY)
    assert not AgendaItem.objects.exists()


def test_minutes_are_needed_to_close(cast):
    refused("no_minutes", services.meeting_close, meeting=meeting(cast), acting_user=cast.staff, now=MONDAY)


# --- projects -------------------------------------------------------------------------------------

def project(cast, **kwargs):
    kwargs.setdefault("budget", "52000.50")
    kwargs.setdefault("applicant", "幸福小区业委会")
    return services.project_apply(place=cast.city.grid_a, title="加装电动车充电棚", description="2号楼旁建充电棚",
                                  acting_user=cast.staff, now=MONDAY, **kwargs)


def test_a_project_goes_through_review_approval_work_and_evaluation(cast):
    found = project(cast)
    refused("bad_state", services.project_approve, project=found, acting_user=cast.staff, now=MONDAY)
    found = services.project_review(project=found, acting_user=cast.staff, now=MONDAY)
    found = services.project_approve(project=found, acting_user=cast.street, now=MONDAY)
    refused("bad_state", services.project_evaluate, project=found, resident=cast.residents[0], rating=5,
            acting_user=cast.staff, now=MONDAY)
    found = services.project_start(project=found, acting_user=cast.staff, now=MONDAY)
    update = services.project_report_progress(project=found, note="基础完工", progress=40, photos=[png()],
                                              acting_user=cast.worker, now=MONDAY)
    assert update.photos.count() == 1
    refused("out_of_range", services.project_report_progress, project=found, note="倒退", progress=10,
            acting_user=cast.worker, now=MONDAY)
    found = services.project_complete(project=found, acting_user=cast.staff, now=MONDAY)
    assert (found.status, found.progress) == (ProjectStatus.COMPLETED, 100)
    services.project_evaluate(project=found, resident=cast.residents[0], rating=5, comment="很方便",
                              acting_user=cast.worker, now=MONDAY)
    services.project_evaluate(project=found, resident=cast.residents[1], rating=4, acting_user=cast.staff, now=MONDAY)
    refused("duplicate", services.project_evaluate, project=found, resident=cast.residents[0], rating=1,
            acting_user=cast.staff, now=MONDAY)
    refused("out_of_range", services.project_evaluate, project=found, resident=cast.residents[2], rating=6,
            acting_user=cast.staff, now=MONDAY)
    refused("not_resident", services.project_evaluate, project=found, resident=cast.outsider, rating=3,
            acting_user=cast.staff, now=MONDAY)
    found.refresh_from_db()
    assert (found.rating_count, found.average_rating) == (2, 4.5)


def test_progress_photos_lose_their_exif_and_bad_files_are_refused(cast):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    found = services.project_start(project=services.project_approve(project=services.project_review(
        project=project(cast), acting_user=cast.staff, now=MONDAY), acting_user=cast.staff, now=MONDAY),
        acting_user=cast.staff, now=MONDAY)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(buffer, format="JPEG", exif=exif)
    photo = SimpleUploadedFile("site.jpg", buffer.getvalue(), content_type="image/jpeg")
    update = services.project_report_progress(project=found, note="进场", progress=10, photos=[photo],
                                              acting_user=cast.staff, now=MONDAY)
    with Image.open(update.photos.get().image) as saved:
        assert not saved.getexif()
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    refused("not_an_image", services.project_report_progress, project=found, note="再次", progress=20,
            photos=[fake], acting_user=cast.staff, now=MONDAY)
    found.refresh_from_db()
    assert found.progress == 10 and found.updates.count() == 1


@pytest.mark.parametrize("changes,code", [
    ({"budget": "-1"}, "bad_budget"), ({"budget": "abc"}, "bad_budget"), ({"budget": "NaN"}, "bad_budget"),
    ({"applicant": ""}, "blank"),
])
def test_bad_project_applications_are_refused(cast, changes, code):
    refused(code, project, cast=cast, **changes)


def test_a_project_from_a_proposal_needs_an_adopted_one(cast):
    refused("bad_proposal", project, cast=cast, proposal=proposal(cast))


def test_the_timeline_is_append_only(cast):
    proposal(cast)
    event = Event.objects.get()
    # The trigger's own error (SQLite: RAISE(ABORT); PostgreSQL: RAISE EXCEPTION), not any failure.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.get(pk=event.pk).note == event.note


# --- the tree changes under them --------------------------------------------------------------------

def test_records_follow_their_grid_when_it_moves_or_merges(cast):
    from grid import services as grid_services

    found = proposal(cast)
    project_row = project(cast)
    grid_services.area_move(area=cast.city.grid_a, new_parent=cast.city.community_b)
    found.refresh_from_db()
    assert (found.community_id, found.street_id, found.place_id) == (
        cast.city.community_b.pk, cast.city.street_b.pk, cast.city.grid_a.pk)
    assert selectors.proposals_visible_to(cast.staff_b).filter(pk=found.pk).exists()
    assert not selectors.proposals_visible_to(cast.staff).filter(pk=found.pk).exists()
    grid_services.area_merge(source=cast.city.grid_a, target=cast.city.grid_b)
    found.refresh_from_db()
    project_row.refresh_from_db()
    assert found.place == cast.city.grid_b and project_row.place_id == cast.city.grid_b.pk
