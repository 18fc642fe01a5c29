"""Participation pages: every scoped page with a record inside and one outside the user's
subtree (404 outside), bad input (a message, nothing saved, never a 500), and the public
board with no personal data."""

import pytest
from django.urls import reverse

from residents.participation import services
from residents.participation.models import MeetingKind, Proposal, ProposalStatus, Support

from .cases_factories import resident_report
from .participation_factories import MONDAY, cast, fresh_calendar, in_deliberation, proposal  # noqa: F401

pytestmark = pytest.mark.django_db
PASSWORD = "pw-Portal-2026"


def signed_in(client, user):
    client.force_login(user)
    return client


def records(cast, place):
    """One of everything on `place`, made by whoever manages it."""
    ours = (cast.city.grid_a.pk, cast.city.grid_a2.pk, cast.city.community_a.pk)
    staff = cast.staff if place.pk in ours else cast.staff_b
    found = services.proposal_create(place=place, title="加装充电桩", description="飞线充电", acting_user=staff,
                                     threshold=5, now=MONDAY)
    found = services.proposal_deliberate(proposal=found, acting_user=staff, now=MONDAY)
    meeting = services.meeting_create(place=place, kind=MeetingKind.COUNCIL, title="议事会", held_at=MONDAY,
                                      acting_user=staff, now=MONDAY)
    track = services.track_open(proposal=found, acting_user=staff, now=MONDAY)
    project = services.project_apply(place=place, title="修缮", description="楼道修缮", applicant="业委会",
                                     acting_user=staff, now=MONDAY)
    return {"proposal": found, "meeting": meeting, "track": track, "project": project}


@pytest.fixture
def both(cast):
    return records(cast, cast.city.grid_a), records(cast, cast.city.grid_b)


@pytest.mark.parametrize("kind", ["proposal", "meeting", "track", "project"])
def test_detail_pages_show_what_is_inside_and_404_outside(client, cast, both, kind):
    inside, outside = both
    signed_in(client, cast.staff)
    page = client.get(reverse(f"participation:{kind}", args=[inside[kind].pk]))
    assert page.status_code == 200
    assert client.get(reverse(f"participation:{kind}", args=[outside[kind].pk])).status_code == 404
    assert client.get(reverse(f"participation:{kind}", args=[999999])).status_code == 404


@pytest.mark.parametrize("kind,action", [("proposal", "withdraw"), ("meeting", "close"), ("track", "step"),
                                         ("project", "review")])
def test_buttons_outside_the_scope_answer_404_and_change_nothing(client, cast, both, kind, action):
    _inside, outside = both
    signed_in(client, cast.staff)
    response = client.post(reverse(f"participation:{kind}_act", args=[outside[kind].pk, action]),
                           {"reason": "x", "step": "propose", "note": "x"})
    assert response.status_code == 404
    row = type(outside[kind]).objects.get(pk=outside[kind].pk)
    assert getattr(row, "status", getattr(row, "stage", None)) == getattr(
        outside[kind], "status", getattr(outside[kind], "stage", None))


def test_the_overview_lists_only_the_users_subtree(client, cast, both, django_assert_max_num_queries):
    inside, outside = both
    for _n in range(5):
        records(cast, cast.city.grid_a2)
    signed_in(client, cast.staff)
    with django_assert_max_num_queries(14):  # no query per row
        page = client.get(reverse("participation:index")).content.decode()
    assert 'href="%s"' % reverse("participation:index") in page  # the staff layout's navigation
    assert reverse("participation:proposal", args=[inside["proposal"].pk]) in page
    assert reverse("participation:proposal", args=[outside["proposal"].pk]) not in page
    assert reverse("participation:project", args=[outside["project"].pk]) not in page
    assert reverse("participation:meeting", args=[outside["meeting"].pk]) not in page


def test_pages_need_a_sign_in_and_chiefs_see_nothing(client, cast, both):
    inside, _outside = both
    url = reverse("participation:proposal", args=[inside["proposal"].pk])
    assert client.get(url).status_code == 302
    signed_in(client, cast.chief)
    assert client.get(url).status_code == 404


def test_supports_through_the_page_count_once(client, cast):
    found = proposal(cast, threshold=3)
    signed_in(client, cast.worker)
    page = client.get(reverse("participation:proposal", args=[found.pk]), {"q": "李"}).content.decode()
    assert "李秀英" in page and "孙志刚" not in page
    url = reverse("participation:proposal_act", args=[found.pk, "support"])
    client.post(url, {"resident": cast.residents[0].pk})
    client.post(url, {"resident": cast.residents[0].pk})  # a double submit
    client.post(url, {"resident": cast.outsider.pk})
    response = client.post(url, {"resident": "not-a-number"}, follow=True)
    assert response.status_code == 200
    assert Support.objects.filter(proposal=found).count() == 1
    found.refresh_from_db()
    assert found.support_count == 1


def test_the_proposal_form_refuses_bad_input_and_saves_nothing(client, cast):
    signed_in(client, cast.staff)
    url = reverse("participation:proposal_new")
    assert client.get(url).status_code == 200
    for data in ({"place": cast.city.grid_a.pk, "title": "", "description": "x", "threshold": 3},
                 {"place": cast.city.grid_b.pk, "title": "x", "description": "x", "threshold": 3},
                 {"place": cast.city.grid_a.pk, "title": "x", "description": "x", "threshold": -1},
                 {"place": "abc", "title": "x", "description": "x", "threshold": 3}):
        assert client.post(url, data).status_code == 400
    assert not Proposal.objects.exists()
    response = client.post(url, {"place": cast.city.grid_a.pk, "title": "修路灯", "description": "不亮",
                                 "threshold": 3})
    made = Proposal.objects.get()
    assert response.status_code == 302 and response["Location"] == made.get_absolute_url()


def test_the_meeting_form_and_bad_votes(client, cast):
    signed_in(client, cast.staff)
    response = client.post(reverse("participation:meeting_new"), {
        "place": cast.city.community_a.pk, "kind": "courtyard", "title": "院坝会", "held_at": "2026-11-25T19:00"})
    assert response.status_code == 302
    assert client.post(reverse("participation:meeting_new"), {
        "place": cast.city.community_a.pk, "kind": "party", "title": "x", "held_at": "yesterday"}).status_code == 400
    year_one = client.post(reverse("participation:meeting_new"), {
        "place": cast.city.community_a.pk, "kind": "courtyard", "title": "x", "held_at": "0001-01-01T00:00"})
    assert year_one.status_code == 400  # not a 500 from the time-zone arithmetic
    from residents.participation.models import Meeting

    meeting = Meeting.objects.get()
    found = in_deliberation(cast)
    client.post(reverse("participation:meeting_act", args=[meeting.pk, "add_item"]), {"proposal": found.pk})
    item = meeting.items.get()
    url = reverse("participation:meeting_act", args=[meeting.pk, "vote"])
    page = client.post(url, {"item": item.pk, "votes_for": "-3", "votes_against": "0", "votes_abstain": "0",
                             "decision_text": "x"}, follow=True)
    assert page.status_code == 200 and "0" in page.content.decode()
    assert client.post(url, {"item": 999999}).status_code == 404
    item.refresh_from_db()
    assert item.decided_at is None
    client.post(url, {"item": item.pk, "votes_for": "9", "votes_against": "1", "votes_abstain": "0",
                      "decision_text": "同意"})
    found.refresh_from_db()
    assert found.status == ProposalStatus.ADOPTED


def test_unknown_buttons_and_gets_are_refused(client, cast, both):
    inside, _outside = both
    signed_in(client, cast.staff)
    pk = inside["proposal"].pk
    assert client.post(reverse("participation:proposal_act", args=[pk, "explode"])).status_code == 404
    assert client.get(reverse("participation:proposal_act", args=[pk, "withdraw"])).status_code == 405


def test_clusters_page_is_scoped_and_one_click_makes_one_proposal(client, cast):
    for _n in range(3):
        resident_report(cast.city, now=MONDAY)
    from .cases_factories import category

    signed_in(client, cast.staff_b)
    assert "幸福第一网格" not in client.get(reverse("participation:clusters")).content.decode()
    assert client.post(reverse("participation:cluster_make"),
                       {"grid": cast.city.grid_a.pk, "category": category().pk}).status_code == 404
    signed_in(client, cast.staff)
    page = client.get(reverse("participation:clusters")).content.decode()
    assert "幸福第一网格" in page
    make = {"grid": cast.city.grid_a.pk, "category": category().pk}
    client.post(reverse("participation:cluster_make"), make)
    client.post(reverse("participation:cluster_make"), make)
    client.post(reverse("participation:cluster_make"), {"grid": cast.city.grid_a.pk, "category": "x"})
    assert Proposal.objects.count() == 1


def test_progress_with_a_fake_photo_is_refused(client, cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    project = services.project_apply(place=cast.city.grid_a, title="修缮", description="楼道", applicant="业委会",
                                     acting_user=cast.staff, now=MONDAY)
    for step in (services.project_review, services.project_approve, services.project_start):
        project = step(project=project, acting_user=cast.staff, now=MONDAY)
    signed_in(client, cast.worker)
    url = reverse("participation:project_act", args=[project.pk, "progress"])
    fake = SimpleUploadedFile("a.jpg", b"<?php evil ?>", content_type="image/jpeg")
    assert client.post(url, {"note": "进场", "progress": "20", "photo": fake}, follow=True).status_code == 200
    assert client.post(url, {"note": "进场", "progress": "abc"}, follow=True).status_code == 200
    project.refresh_from_db()
    assert project.progress == 0 and not project.updates.exists()


# --- the public board -----------------------------------------------------------------------------

def test_the_public_board_needs_no_login_and_shows_no_personal_data(client, cast):
    found = proposal(cast, threshold=2, proposer=cast.residents[0])
    services.proposal_support(proposal=found, resident=cast.residents[1], acting_user=cast.staff, now=MONDAY)
    services.proposal_support(proposal=found, resident=cast.residents[2], acting_user=cast.staff, now=MONDAY)
    meeting = services.meeting_create(place=cast.city.community_a, kind=MeetingKind.COURTYARD, title="院坝会",
                                      held_at=MONDAY, acting_user=cast.staff, now=MONDAY)
    item = services.meeting_add_item(meeting=meeting, proposal=found, acting_user=cast.staff, now=MONDAY)
    services.meeting_record(meeting=meeting, participants="居民代表李秀英等", attendance=20, minutes="讨论",
                            acting_user=cast.staff, now=MONDAY)
    services.meeting_vote(item=item, votes_for=15, votes_against=3, votes_abstain=2, decision_text="同意建设",
                          acting_user=cast.staff, now=MONDAY)
    project = services.project_apply(place=cast.city.grid_a, title="建设充电棚", description="2号楼旁",
                                      applicant="幸福小区业委会", proposal=found, acting_user=cast.staff, now=MONDAY)
    project = services.project_complete(project=services.project_start(project=services.project_approve(
        project=services.project_review(project=project, acting_user=cast.staff, now=MONDAY),
        acting_user=cast.staff, now=MONDAY), acting_user=cast.staff, now=MONDAY), acting_user=cast.staff, now=MONDAY)
    services.project_evaluate(project=project, resident=cast.residents[0], rating=5, comment="我是李秀英，电话13900000000",
                              acting_user=cast.staff, now=MONDAY)
    other = records(cast, cast.city.grid_b)

    response = client.get(reverse("participation:board", args=[cast.city.community_a.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "小区加装电动车充电桩" in page and "建设充电棚" in page and "同意建设" in page
    assert "15" in page and "5.0" in page
    for person in [*cast.residents, cast.outsider]:
        assert person.name not in page
        assert person.phone_masked not in page and person.id_masked not in page
    for staff in (cast.staff, cast.worker):
        assert staff.full_name not in page and staff.phone not in page and staff.username not in page
    assert "13900000000" not in page and "居民代表李秀英" not in page
    assert client.get(reverse("participation:board", args=[cast.city.grid_a.pk])).status_code == 404
    assert client.get(reverse("participation:board", args=[999999])).status_code == 404


def test_the_board_shows_only_its_community(client, cast):
    mine, _theirs = records(cast, cast.city.grid_a), records(cast, cast.city.grid_b)
    services.project_apply(place=cast.city.grid_b, title="和平社区路面修补", description="x", applicant="和平小区",
                           acting_user=cast.staff_b, now=MONDAY)
    page = client.get(reverse("participation:board", args=[cast.city.community_a.pk])).content.decode()
    assert mine["project"].title in page
    assert "和平社区路面修补" not in page


def test_a_proposal_on_a_residents_behalf_names_only_a_resident_one_reaches(client, cast):
    from residents.participation.models import ProposalOrigin

    signed_in(client, cast.staff)
    url = reverse("participation:proposal_new")
    page = client.get(url, {"q": "秀英"}).content.decode()
    assert f"?proposer={cast.residents[0].pk}" in page
    assert "孙志刚" not in client.get(url, {"q": "孙"}).content.decode()
    chosen = client.get(url, {"proposer": cast.residents[0].pk}).content.decode()
    assert "李秀英" in chosen
    assert "孙志刚" not in client.get(url, {"proposer": cast.outsider.pk}).content.decode()
    data = {"place": cast.city.grid_a.pk, "title": "增设休息座椅", "description": "老人散步累了没处坐", "threshold": 3}
    assert client.post(url, {**data, "proposer": cast.outsider.pk}).status_code == 400
    assert client.post(url, {**data, "place": cast.city.grid_a2.pk, "proposer": cast.residents[0].pk}).status_code == 400
    assert not Proposal.objects.exists()
    client.post(url, {**data, "proposer": cast.residents[0].pk})
    made = Proposal.objects.get()
    assert (made.origin, made.proposer_id) == (ProposalOrigin.RESIDENT, cast.residents[0].pk)


def test_the_track_pages_buttons_keep_the_order_and_refuse_bad_input(client, cast):
    from residents.participation.models import Objection, Track, TrackStage

    track = services.track_open(proposal=in_deliberation(cast), acting_user=cast.staff, now=MONDAY)
    signed_in(client, cast.staff)
    url = reverse("participation:track_act", args=[track.pk, "step"])
    page = client.get(reverse("participation:track", args=[track.pk])).content.decode()
    assert 'value="propose"' in page and 'value="discuss"' not in page
    client.post(url, {"step": "discuss", "note": "跳过提议"})  # out of order
    client.post(url, {"step": "propose", "note": ""})  # no record
    client.post(url, {"step": "nonsense", "note": "x"})
    assert Track.objects.get().stage == TrackStage.OPENED
    for step in ("propose", "discuss", "review"):
        client.post(url, {"step": step, "note": f"{step} 记录"})
    response = client.post(url, {"step": "decide", "note": "大会", "votes_for": "many", "votes_against": "0",
                                 "votes_abstain": "0", "decision_text": "同意"}, follow=True)
    assert response.status_code == 200 and Track.objects.get().stage == TrackStage.REVIEWED
    client.post(url, {"step": "decide", "note": "大会", "votes_for": "30", "votes_against": "1",
                      "votes_abstain": "0", "decision_text": "同意"})
    publish = reverse("participation:track_act", args=[track.pk, "publish_decision"])
    for days in ("6", "x", ""):
        client.post(publish, {"days": days})
    assert Track.objects.get().stage == TrackStage.DECIDED
    client.post(publish, {"days": "7"})
    track.refresh_from_db()
    assert track.stage == TrackStage.PUBLISHED
    obj = reverse("participation:track_act", args=[track.pk, "object"])
    client.post(obj, {"text": ""})
    client.post(obj, {"text": "有异议", "resident": cast.outsider.pk})
    assert not Objection.objects.exists()
    client.post(obj, {"text": "离窗户太近"})
    objection = Objection.objects.get()
    answer = reverse("participation:track_act", args=[track.pk, "answer"])
    assert client.post(answer, {"objection": 999999, "answer": "x"}).status_code == 404
    client.post(answer, {"objection": objection.pk, "answer": ""})
    objection.refresh_from_db()
    assert objection.answered_at is None
    # Too early for the result: a message, nothing published.
    client.post(reverse("participation:track_act", args=[track.pk, "publish_result"]), {"result_text": "已建成"})
    assert Track.objects.get().result_published_at is None
    signed_in(client, cast.worker)  # a grid worker records objections but answers none
    client.post(answer, {"objection": objection.pk, "answer": "我来答复"})
    objection.refresh_from_db()
    assert objection.answered_at is None


def test_evaluations_through_the_page_refuse_bad_ratings_and_doubles(client, cast):
    from residents.participation.models import Evaluation

    project = services.project_apply(place=cast.city.grid_a, title="修缮", description="楼道", applicant="业委会",
                                     acting_user=cast.staff, now=MONDAY)
    for step in (services.project_review, services.project_approve, services.project_start,
                 services.project_complete):
        project = step(project=project, acting_user=cast.staff, now=MONDAY)
    signed_in(client, cast.worker)
    url = reverse("participation:project_act", args=[project.pk, "evaluate"])
    page = client.get(reverse("participation:project", args=[project.pk]), {"q": "王"}).content.decode()
    assert "王建国" in page
    for rating in ("0", "6", "five", ""):
        client.post(url, {"resident": cast.residents[1].pk, "rating": rating})
    client.post(url, {"resident": cast.outsider.pk, "rating": "3"})
    assert not Evaluation.objects.exists()
    client.post(url, {"resident": cast.residents[1].pk, "rating": "4", "comment": "不错"})
    client.post(url, {"resident": cast.residents[1].pk, "rating": "1"})
    project.refresh_from_db()
    assert (Evaluation.objects.count(), project.rating_count, project.rating_total) == (1, 1, 4)
    # Only a manager moves a project: the worker's "review" of another project is refused.
    other = services.project_apply(place=cast.city.grid_a, title="绿化", description="补种", applicant="业委会",
                                   acting_user=cast.staff, now=MONDAY)
    client.post(reverse("participation:project_act", args=[other.pk, "review"]))
    other.refresh_from_db()
    assert other.status == "applied"
