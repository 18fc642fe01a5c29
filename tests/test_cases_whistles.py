"""吹哨报到 (cases/whistles.py): whistle, report-in, no-show sweep, rating; and who sees what.

Times are relative to MONDAY (frozen); each refusal leaves nothing written.
"""

from datetime import timedelta

import pytest

from cases import whistles, workflow
from cases.models import CaseEvent, Status, Summons, SummonsStatus, Whistle
from cases.selectors import cases_visible_to
from grid.models import Role
from portal.errors import DomainError

from .cases_factories import MONDAY, people, to_status  # noqa: F401
from .factories import make_organisation, user_with_post

pytestmark = pytest.mark.django_db
A = CaseEvent.Action


@pytest.fixture
def orgs(city, make_user):
    """城管 covering street A, 供电 covering the whole district, a 物业 of building A, and a police
    station of street B (outside street A's cases)."""
    o = type("Orgs", (), {})()
    o.chengguan = make_organisation(seat=city.street_a, name="城北执法中队", areas=[city.street_a])
    o.power = make_organisation(seat=city.district, name="供电公司", kind="utility", function="power",
                                areas=[city.district])
    o.wuye = make_organisation(seat=city.community_a, name="幸福物业", kind="property", function="property",
                               buildings=[city.building_a])
    o.police_b = make_organisation(seat=city.street_b, name="城南派出所", function="police", areas=[city.street_b])
    o.cg_staff = make_user(Role.ORG_STAFF, o.chengguan, username="cg_staff")
    o.power_staff = make_user(Role.ORG_STAFF, o.power, username="power_staff")
    o.police_staff = make_user(Role.ORG_STAFF, o.police_b, username="police_staff")
    return o


def blow(case, user, organisations, *, now=MONDAY, **kwargs):
    kwargs.setdefault("reason", "占道经营反复，需联合执法")
    kwargs.setdefault("situation", "enforcement")
    return whistles.whistle_blow(case=case, organisations=organisations, acting_user=user, now=now, **kwargs)


def test_whistle_summons_each_organisation_with_its_deadline(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    whistle = blow(case, people.street, [orgs.chengguan, orgs.power], urgent=True)
    assert whistle.place == city.street_a and whistle.report_in_minutes == 30
    rows = list(Summons.objects.filter(whistle=whistle).order_by("organisation_id"))
    assert [r.organisation for r in rows] == [orgs.chengguan, orgs.power]
    assert all(r.due_at == MONDAY + timedelta(minutes=30) and r.status == SummonsStatus.SUMMONED for r in rows)
    assert case.events.filter(action=A.WHISTLE).count() == 1
    case.refresh_from_db()
    assert case.status == Status.HANDLING  # a whistle leaves the case's status alone


def test_community_whistles_as_community_and_not_urgent_default(city, people, orgs, settings):
    settings.WHISTLE_REPORT_IN_MINUTES = 90
    case = to_status(city, people, Status.DISPATCHED)
    whistle = blow(case, people.community, [orgs.wuye])
    assert whistle.place == city.community_a and whistle.report_in_minutes == 90


def test_minutes_can_be_set(city, people, orgs):
    case = to_status(city, people, Status.DISPATCHED)
    assert blow(case, people.street, [orgs.power], minutes=45).report_in_minutes == 45


@pytest.mark.parametrize("bad, code", [
    ({"organisations": []}, "no_organisations"),
    ({"reason": "  "}, "blank"),
    ({"situation": "party"}, "bad_situation"),
    ({"minutes": 0}, "bad_minutes"),
    ({"minutes": "soon"}, "bad_minutes"),
    ({"minutes": 10**6}, "bad_minutes"),
])
def test_bad_whistle_is_refused_and_writes_nothing(city, people, orgs, bad, code):
    case = to_status(city, people, Status.HANDLING)
    events = case.events.count()
    kwargs = {"organisations": [orgs.chengguan], **bad}
    organisations = kwargs.pop("organisations")
    with pytest.raises(DomainError) as refused:
        blow(case, people.street, organisations, **kwargs)
    assert refused.value.code == code
    assert not Whistle.objects.exists() and not Summons.objects.exists() and case.events.count() == events


def test_organisation_outside_the_street_is_refused_with_its_name(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    with pytest.raises(DomainError) as refused:
        blow(case, people.street, [orgs.chengguan, orgs.police_b])
    assert refused.value.code == "outside_jurisdiction"
    assert "城南派出所" in str(refused.value)
    assert not Whistle.objects.exists() and not Summons.objects.exists()


def test_inactive_organisation_is_refused(city, people, orgs):
    orgs.chengguan.is_active = False
    orgs.chengguan.save()
    case = to_status(city, people, Status.HANDLING)
    with pytest.raises(DomainError, match="城北执法中队"):
        blow(case, people.street, [orgs.chengguan])


def test_the_same_organisation_is_summoned_once_per_case(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    blow(case, people.street, [orgs.chengguan])
    with pytest.raises(DomainError) as refused:
        blow(case, people.community, [orgs.chengguan, orgs.power])
    assert refused.value.code == "already_summoned"
    assert Summons.objects.count() == 1


@pytest.mark.parametrize("who", ["worker", "district", "community_b", "building_chief"])
def test_only_the_cases_community_or_street_may_whistle(city, people, orgs, who):
    case = to_status(city, people, Status.HANDLING)
    with pytest.raises(DomainError) as refused:
        blow(case, getattr(people, who), [orgs.chengguan])
    assert refused.value.code == "forbidden"
    assert not Whistle.objects.exists()


def test_closed_case_cannot_be_whistled(city, people, orgs):
    case = to_status(city, people, Status.CLOSED)
    with pytest.raises(DomainError) as refused:
        blow(case, people.street, [orgs.chengguan])
    assert refused.value.code == "bad_state"


def test_report_in_on_time_and_late(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    whistle = blow(case, people.street, [orgs.chengguan, orgs.power], urgent=True)
    cg = whistle.summons.get(organisation=orgs.chengguan)
    power = whistle.summons.get(organisation=orgs.power)
    done = whistles.summons_report_in(summons=cg, acting_user=orgs.cg_staff, note="两名队员到场",
                                      now=MONDAY + timedelta(minutes=20))
    assert done.status == SummonsStatus.REPORTED_IN and not done.is_late
    late = whistles.summons_report_in(summons=power, acting_user=orgs.power_staff,
                                      now=MONDAY + timedelta(minutes=50))
    assert late.is_late
    assert [e.data["late"] for e in case.events.filter(action=A.REPORT_IN).order_by("at")] == [False, True]


def test_report_in_by_someone_not_on_the_organisation_is_refused(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    cg = blow(case, people.street, [orgs.chengguan]).summons.get()
    for stranger in (orgs.power_staff, people.street, people.worker):
        with pytest.raises(DomainError) as refused:
            whistles.summons_report_in(summons=cg, acting_user=stranger, now=MONDAY)
        assert refused.value.code == "forbidden" and "城北执法中队" in str(refused.value)
    cg.refresh_from_db()
    assert cg.status == SummonsStatus.SUMMONED and not case.events.filter(action=A.REPORT_IN).exists()


def test_report_in_twice_is_refused(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    cg = blow(case, people.street, [orgs.chengguan]).summons.get()
    whistles.summons_report_in(summons=cg, acting_user=orgs.cg_staff, now=MONDAY)
    with pytest.raises(DomainError) as refused:
        whistles.summons_report_in(summons=cg, acting_user=orgs.cg_staff, now=MONDAY)
    assert refused.value.code == "already"


def test_no_show_sweep_is_idempotent_and_late_report_in_still_counts(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    whistle = blow(case, people.street, [orgs.chengguan, orgs.power], urgent=True)
    assert whistles.summonses_mark_no_shows(now=MONDAY + timedelta(minutes=29)) == 0
    whistles.summons_report_in(summons=whistle.summons.get(organisation=orgs.power), acting_user=orgs.power_staff,
                               now=MONDAY + timedelta(minutes=10))
    assert whistles.summonses_mark_no_shows(now=MONDAY + timedelta(minutes=31)) == 1
    assert whistles.summonses_mark_no_shows(now=MONDAY + timedelta(minutes=32)) == 0
    cg = whistle.summons.get(organisation=orgs.chengguan)
    assert cg.status == SummonsStatus.NO_SHOW
    assert case.events.filter(action=A.NO_SHOW).count() == 1
    late = whistles.summons_report_in(summons=cg, acting_user=orgs.cg_staff, now=MONDAY + timedelta(minutes=40))
    assert late.status == SummonsStatus.REPORTED_IN and late.is_late and late.no_show_at is not None


def test_sweep_leaves_closed_cases_alone(city, people, orgs):
    case = to_status(city, people, Status.RESOLVED)
    blow(case, people.street, [orgs.chengguan])
    from cases import services

    services.case_verify(case=case, acting_user=people.community, passed=True, now=MONDAY)
    services.case_close(case=case, acting_user=people.community, now=MONDAY)
    assert whistles.summonses_mark_no_shows(now=MONDAY + timedelta(days=1)) == 0


def test_the_task_runs_the_sweep(city, people, orgs):
    from cases import tasks

    case = to_status(city, people, Status.HANDLING)
    blow(case, people.street, [orgs.chengguan], now=MONDAY - timedelta(days=400))
    assert tasks.mark_no_shows() == 1
    assert tasks.mark_no_shows() == 0


def closed_with_whistle(city, people, orgs):
    from cases import services

    case = to_status(city, people, Status.RESOLVED)
    whistle = blow(case, people.street, [orgs.chengguan, orgs.power])
    services.case_verify(case=case, acting_user=people.community, passed=True, now=MONDAY)
    services.case_close(case=case, acting_user=people.community, now=MONDAY)
    return case, whistle


def test_the_whistling_place_rates_after_close(city, people, orgs):
    case, whistle = closed_with_whistle(city, people, orgs)
    cg, power = whistle.summons.get(organisation=orgs.chengguan), whistle.summons.get(organisation=orgs.power)
    whistles.whistle_rate(whistle=whistle, ratings={cg.pk: (5, "到场快"), power.pk: (2, "")},
                          acting_user=people.street, now=MONDAY)
    cg.refresh_from_db()
    power.refresh_from_db()
    assert (cg.rating, cg.rating_comment, power.rating) == (5, "到场快", 2)
    with pytest.raises(DomainError) as refused:
        whistles.whistle_rate(whistle=whistle, ratings={cg.pk: (4, "")}, acting_user=people.street, now=MONDAY)
    assert refused.value.code == "already"


@pytest.mark.parametrize("ratings, code", [({}, "no_ratings"), ("bad-rating", "bad_rating"),
                                           ("foreign", "bad_summons")])
def test_bad_ratings_write_nothing(city, people, orgs, ratings, code):
    case, whistle = closed_with_whistle(city, people, orgs)
    cg = whistle.summons.get(organisation=orgs.chengguan)
    power = whistle.summons.get(organisation=orgs.power)
    if ratings == "bad-rating":
        ratings = {cg.pk: (5, ""), power.pk: (9, "")}
    elif ratings == "foreign":
        ratings = {cg.pk: (5, ""), 10**6: (3, "")}
    with pytest.raises(DomainError) as refused:
        whistles.whistle_rate(whistle=whistle, ratings=ratings, acting_user=people.street, now=MONDAY)
    assert refused.value.code == code
    assert not Summons.objects.filter(rated_at__isnull=False).exists()


def test_only_the_whistling_place_rates_and_only_after_close(city, people, orgs):
    case, whistle = closed_with_whistle(city, people, orgs)
    cg = whistle.summons.get(organisation=orgs.chengguan)
    # The community sits under the street but did not blow this whistle.
    with pytest.raises(DomainError) as refused:
        whistles.whistle_rate(whistle=whistle, ratings={cg.pk: (5, "")}, acting_user=people.community, now=MONDAY)
    assert refused.value.code == "forbidden"
    with pytest.raises(DomainError):
        whistles.whistle_rate(whistle=whistle, ratings={cg.pk: (5, "")}, acting_user=orgs.cg_staff, now=MONDAY)
    open_case = to_status(city, people, Status.HANDLING)
    open_whistle = blow(open_case, people.street, [orgs.chengguan])
    with pytest.raises(DomainError) as refused:
        whistles.whistle_rate(whistle=open_whistle, ratings={open_whistle.summons.get().pk: (5, "")},
                              acting_user=people.street, now=MONDAY)
    assert refused.value.code == "bad_state"


def test_summoned_organisation_staff_see_the_case_and_no_other(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    other = to_status(city, people, Status.HANDLING)
    assert not cases_visible_to(orgs.cg_staff).exists()
    blow(case, people.street, [orgs.chengguan])
    assert list(cases_visible_to(orgs.cg_staff)) == [case]
    assert not cases_visible_to(orgs.power_staff).filter(pk=other.pk).exists()
    assert not cases_visible_to(orgs.police_staff).exists()


def test_workflow_table_rows_for_summonses():
    table = workflow.TRANSITIONS
    assert table["whistle"].summons == (frozenset(), SummonsStatus.SUMMONED)
    assert table["report_in"].summons == (frozenset({SummonsStatus.SUMMONED, SummonsStatus.NO_SHOW}),
                                          SummonsStatus.REPORTED_IN)
    assert table["no_show"].summons == (frozenset({SummonsStatus.SUMMONED}), SummonsStatus.NO_SHOW)
    assert table["no_show"].actors == {workflow.SYSTEM}
    assert table["report_in"].actors == {workflow.SUMMONED}
    assert Status.CLOSED not in table["report_in"].sources
    assert table["rate_summons"].sources == {Status.CLOSED}
    assert not any(table[n].changes_status for n in ("whistle", "report_in", "no_show", "rate_summons"))


def test_whistler_kind_is_only_on_the_cases_path(city, people, orgs, make_user):
    case = to_status(city, people, Status.HANDLING)
    assert workflow.WHISTLER in workflow.actor_kinds(case, people.street)
    assert workflow.WHISTLER in workflow.actor_kinds(case, people.community)
    assert workflow.WHISTLER not in workflow.actor_kinds(case, people.community_b)
    assert workflow.WHISTLER not in workflow.actor_kinds(case, user_with_post(Role.STREET_STAFF, city.street_b))
