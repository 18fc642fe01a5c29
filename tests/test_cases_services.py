"""Intake, transitions and their bad inputs; races; tree changes carry cases along."""

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from cases import oversight, selectors, services, services_report
from cases.mediation import mediation_conclude, mediation_open, mediation_record_session
from cases.models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseNumberCounter,
    CasePhoto,
    Channel,
    Delivery,
    ExtensionRequest,
    ExtensionStatus,
    Mediation,
    MediationOutcome,
    Status,
    TimeUnit,
)
from grid import services as grid_services
from grid.models import AreaKind, Role
from portal.errors import DomainError

from .cases_factories import (  # noqa: F401
    MONDAY,
    at,
    category,
    fresh_calendar,
    people,
    png,
    resident_report,
    to_status,
)


def nothing_saved():
    return (Case.objects.count(), CaseEvent.objects.count(), CasePhoto.objects.count(), Delivery.objects.count())


# --- intake ---------------------------------------------------------------------------

def test_resident_report_waits_for_registration_with_the_community(city, people):
    case = resident_report(city, photos=[png()])
    assert case.status == Status.REPORTED
    assert case.responsible_level == AreaKind.COMMUNITY
    assert (case.district_id, case.street_id, case.community_id, case.grid_id) == (
        city.district.pk, city.street_a.pk, city.community_a.pk, city.grid_a.pk)
    assert case.building == city.building_a
    assert case.address == city.building_a.address
    # Dispatch limit of 暴露垃圾 is 1 working hour.
    assert case.due_at == at(2026, 11, 23, 10, 0)
    assert case.number == "2026112300001"
    assert case.photos.get().stage == "report"
    assert Delivery.objects.filter(user=people.community).exists()


def test_unit_fills_building_and_grid(city):
    case = services_report.case_report(category=category(), channel=Channel.QR, unit=city.unit_b, description="楼道灯坏了",
                                       now=MONDAY)
    assert (case.building, case.grid_id, case.street_id) == (city.building_b, city.grid_b.pk, city.street_b.pk)


def test_hotline_report_is_registered_and_dispatched_at_once(city, people):
    case = services_report.case_report(category=category("E0302"), channel=Channel.HOTLINE, building=city.building_a,
                                       description="车辆堵住消防通道", reporter_name="李四", reporter_phone="139 0000 0000",
                                       acting_user=people.community, now=MONDAY)
    assert case.status == Status.DISPATCHED
    assert case.responsible_level == AreaKind.GRID
    assert case.assignee == people.worker  # nobody has any load: the earlier account
    assert case.reporter_kind == "hotline_operator"
    assert list(case.events.values_list("action", flat=True)) == ["report", "register", "dispatch"]


def test_patrol_report_only_where_the_worker_works(city, people):
    case = services_report.case_report(category=category(), channel=Channel.PATROL, building=city.building_a,
                                       description="路边暴露垃圾", acting_user=people.worker, now=MONDAY)
    assert case.status == Status.DISPATCHED and case.reporter == people.worker
    before = nothing_saved()
    with pytest.raises(DomainError) as refused:
        services_report.case_report(category=category(), channel=Channel.PATROL, building=city.building_b,
                                    description="路边暴露垃圾", acting_user=people.worker, now=MONDAY)
    assert refused.value.code == "forbidden"
    assert nothing_saved() == before


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": None}, "unknown_category"),
        ({"category": "NOPE"}, "unknown_category"),
        ({"building": None}, "no_place"),
        ({"description": "   "}, "blank"),
        ({"description": "x" * 5000}, "too_long"),
        ({"reporter_phone": "<b>13800</b>"}, "bad_phone"),
        ({"latitude": "91"}, "bad_coordinate"),
        ({"latitude": "north"}, "bad_coordinate"),
        ({"channel": "carrier-pigeon"}, "bad_channel"),
        ({"photos": [SimpleUploadedFile("x.png", b"<script>alert(1)</script>", content_type="image/png")]},
         "not_an_image"),
        ({"photos": [png()] * 10}, "too_many_photos"),
    ],
)
def test_bad_reports_are_refused_with_nothing_saved(city, change, code):
    arguments = dict(category=category(), channel=Channel.WEB, building=city.building_a, description="暴露垃圾",
                     reporter_phone="13800000000", now=MONDAY)
    arguments.update(change)
    with pytest.raises(DomainError) as refused:
        services_report.case_report(**arguments)
    assert refused.value.code == code
    assert str(refused.value)  # a message for the user
    assert nothing_saved() == (0, 0, 0, 0)
    assert not CaseNumberCounter.objects.exists()


def test_oversized_photo_is_refused(city, settings):
    settings.CASE_PHOTO_MAX_BYTES = 50
    with pytest.raises(DomainError) as refused:
        resident_report(city, photos=[png(size=(64, 64))])
    assert refused.value.code == "photo_too_large"
    assert nothing_saved() == (0, 0, 0, 0)


def test_inactive_category_is_unknown(city):
    cat = category("E0102")
    cat.is_active = False
    cat.save()
    with pytest.raises(DomainError) as refused:
        resident_report(city, code="E0102")
    assert refused.value.code == "unknown_category"


def test_building_outside_chosen_grid_is_refused(city):
    with pytest.raises(DomainError) as refused:
        services_report.case_report(category=category(), channel=Channel.WEB, grid=city.grid_b,
                                    building=city.building_a, description="垃圾", now=MONDAY)
    assert refused.value.code == "bad_place"


def test_markup_is_stored_as_typed(city):
    # Escaping is the template's job on output; the service keeps the resident's words intact.
    case = resident_report(city, description="<script>alert('x')</script> 垃圾")
    assert case.description == "<script>alert('x')</script> 垃圾"


def test_case_numbers_count_per_day_and_tracking_codes_are_unguessable(city):
    first = resident_report(city, now=MONDAY)
    second = resident_report(city, now=MONDAY + timedelta(hours=3))
    next_day = resident_report(city, now=at(2026, 11, 24, 0, 5))
    assert [first.number, second.number, next_day.number] == ["2026112300001", "2026112300002", "2026112400001"]
    codes = {first.tracking_code, second.tracking_code, next_day.tracking_code}
    assert len(codes) == 3
    for code in codes:
        assert len(code) == 13 and set(code) <= set(services.TRACKING_ALPHABET)
    # 31 symbols, 13 of them: at least 60 bits.
    import math

    assert services.TRACKING_LENGTH * math.log2(len(services.TRACKING_ALPHABET)) >= 60
    assert services.normalise_tracking_code(" " + first.tracking_code_display.lower() + " ") == first.tracking_code


def test_a_day_starts_in_shanghai_not_utc(city):
    # 07:30 in Shanghai is still the previous day in UTC.
    case = resident_report(city, now=at(2026, 11, 24, 7, 30))
    assert case.number.startswith("20261124")


# --- accepting, at once ------------------------------------------------------------------

def _pooled(city, people):
    """A case waiting unassigned in grid A's pool."""
    case = to_status(city, people, Status.DISPATCHED)
    return services.case_redispatch(case=case, acting_user=people.community, level=AreaKind.GRID, now=MONDAY)


def test_redispatching_to_where_the_case_already_is_is_refused_and_writes_nothing(city, people):
    case = _pooled(city, people)  # in grid A's pool, no one named
    events = case.events.count()
    with pytest.raises(DomainError) as refused:
        services.case_redispatch(case=case, acting_user=people.community, level=AreaKind.GRID, now=MONDAY)
    assert refused.value.code == "same_target" and case.events.count() == events
    # Routing names one of the grid's workers: a move. Naming that worker again is not.
    moved = services.case_redispatch(case=case, acting_user=people.community, now=MONDAY)
    assert moved.responsible_level == AreaKind.GRID and moved.assignee in (people.worker, people.worker2)
    events = case.events.count()
    with pytest.raises(DomainError) as refused:
        services.case_redispatch(case=moved, acting_user=people.community, assignee=moved.assignee, now=MONDAY)
    assert refused.value.code == "same_target" and case.events.count() == events


def test_two_workers_accept_one_wins_the_other_is_told_who(city, people):
    case = _pooled(city, people)
    assert case.assignee is None
    seen_by_first, seen_by_second = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    services.case_accept(case=seen_by_first, acting_user=people.worker, now=MONDAY)
    with pytest.raises(DomainError) as refused:
        services.case_accept(case=seen_by_second, acting_user=people.worker2, now=MONDAY)
    assert refused.value.code == "taken"
    assert people.worker.full_name in refused.value.message
    case.refresh_from_db()
    assert case.assignee == people.worker
    assert case.events.filter(action="accept").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_accept_at_the_same_instant(on_postgres, monkeypatch, make_user):
    """Both pass the checks before either writes; the conditional UPDATE lets one through."""
    from cases import workflow

    from .factories import build_city

    city = build_city()
    w1 = make_user(Role.GRID_WORKER, city.grid_a)
    w2 = make_user(Role.GRID_WORKER, city.grid_a)
    staff = make_user(Role.COMMUNITY_STAFF, city.community_a)
    case = resident_report(city)
    case = services.case_register(case=case, acting_user=staff, now=MONDAY)
    case = services.case_redispatch(case=case, acting_user=staff, level=AreaKind.GRID, now=MONDAY)

    barrier = threading.Barrier(2, timeout=10)
    real_check = workflow.check

    def check_then_wait(name, *args, **kwargs):
        result = real_check(name, *args, **kwargs)
        if name == "accept":
            barrier.wait()
        return result

    monkeypatch.setattr(workflow, "check", check_then_wait)
    outcomes = {}

    def accept(user):
        try:
            services.case_accept(case=case, acting_user=user, now=MONDAY)
            outcomes[user.pk] = "won"
        except DomainError as refusal:
            outcomes[user.pk] = refusal
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(u,)) for u in (w1, w2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [pk for pk, outcome in outcomes.items() if outcome == "won"]
    losers = [outcome for outcome in outcomes.values() if outcome != "won"]
    assert len(winners) == 1 and len(losers) == 1
    winner = w1 if winners[0] == w1.pk else w2
    assert losers[0].code == "taken" and winner.full_name in losers[0].message
    case.refresh_from_db()
    assert case.assignee_id == winners[0]
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1


# --- the rest of the loop -------------------------------------------------------------------

def test_resolve_needs_a_photo(city, people):
    case = to_status(city, people, Status.HANDLING)
    with pytest.raises(DomainError) as refused:
        services.case_resolve(case=case, acting_user=case.assignee, note="已处理", now=MONDAY)
    assert refused.value.code == "no_photo"
    case.refresh_from_db()
    assert case.status == Status.HANDLING


def test_deadlines_follow_the_stages(city, people):
    case = to_status(city, people, Status.DISPATCHED, now=at(2026, 11, 27, 16, 0))
    # 1 working hour to accept from Friday 16:00: Friday 17:00.
    assert case.due_at == at(2026, 11, 27, 17, 0)
    case = services.case_accept(case=case, acting_user=case.assignee, now=at(2026, 11, 27, 16, 30))
    # 4 working hours to handle: 1 h on Friday, 3 h on Monday → Monday 11:30.
    assert case.due_at == case.handle_due_at == at(2026, 11, 30, 11, 30)


def test_return_goes_back_to_the_community_with_a_reason(city, people):
    case = to_status(city, people, Status.DISPATCHED)
    worker = case.assignee
    with pytest.raises(DomainError):
        services.case_return(case=case, acting_user=worker, reason=" ", now=MONDAY)
    case = services.case_return(case=case, acting_user=worker, reason="属于物业管理范围", now=MONDAY)
    assert (case.status, case.responsible_level, case.assignee) == (Status.REGISTERED, AreaKind.COMMUNITY, None)
    event = case.events.get(action="return")
    assert event.note == "属于物业管理范围" and not event.is_public
    case = services.case_dispatch(case=case, acting_user=people.community, assignee=people.worker2, now=MONDAY)
    assert case.assignee == people.worker2 and case.responsible_level == AreaKind.GRID


def test_dispatch_refuses_people_who_do_not_work_there(city, people):
    case = to_status(city, people, Status.REGISTERED)
    with pytest.raises(DomainError) as refused:
        services.case_dispatch(case=case, acting_user=people.community, assignee=people.worker_b, now=MONDAY)
    assert refused.value.code == "bad_assignee"
    # Community staff cannot push a case up to the street by "dispatching" it.
    with pytest.raises(DomainError) as refused:
        services.case_dispatch(case=case, acting_user=people.community, level=AreaKind.STREET, now=MONDAY)
    assert refused.value.code == "forbidden"


def test_extension_approved_by_the_level_above(city, people):
    case = to_status(city, people, Status.HANDLING)
    handler = case.assignee
    due = case.due_at
    request = oversight.case_request_extension(case=case, acting_user=handler, value=2, unit=TimeUnit.WORKING_DAYS,
                                               reason="需要等待配件", now=MONDAY)
    with pytest.raises(DomainError) as refused:
        oversight.case_request_extension(case=case, acting_user=handler, value=1, unit=TimeUnit.WORKING_DAYS,
                                         reason="再延", now=MONDAY)
    assert refused.value.code == "pending"
    # The handler's own grid colleague is not the level above.
    with pytest.raises(DomainError):
        oversight.case_decide_extension(extension=request, acting_user=people.worker2 if handler == people.worker
                                        else people.worker, approve=True, now=MONDAY)
    request = oversight.case_decide_extension(extension=request, acting_user=people.community, approve=True,
                                              note="同意", now=MONDAY)
    assert request.status == ExtensionStatus.APPROVED
    case.refresh_from_db()
    assert case.extension_count == 1
    # Four working hours were due Monday 14:30; two working days later: Wednesday 14:30.
    assert due == at(2026, 11, 23, 14, 30)
    assert case.due_at == case.handle_due_at == at(2026, 11, 25, 14, 30)


def test_extension_rejected_and_lapsed(city, people):
    case = to_status(city, people, Status.HANDLING)
    request = oversight.case_request_extension(case=case, acting_user=case.assignee, value=1,
                                               unit=TimeUnit.WORKING_DAYS, reason="配件", now=MONDAY)
    request = oversight.case_decide_extension(extension=request, acting_user=people.community, approve=False,
                                              note="请按期完成", now=MONDAY)
    assert request.status == ExtensionStatus.REJECTED
    case.refresh_from_db()
    assert case.extension_count == 0
    pending = oversight.case_request_extension(case=case, acting_user=case.assignee, value=1,
                                               unit=TimeUnit.WORKING_DAYS, reason="配件", now=MONDAY)
    services.case_escalate(case=case, acting_user=case.assignee, reason="超出网格能力", now=MONDAY)
    pending.refresh_from_db()
    assert pending.status == ExtensionStatus.LAPSED


@pytest.mark.parametrize("value", [0, -1, "many", None])
def test_extension_needs_a_positive_amount(city, people, value):
    case = to_status(city, people, Status.HANDLING)
    with pytest.raises(DomainError) as refused:
        oversight.case_request_extension(case=case, acting_user=case.assignee, value=value,
                                         unit=TimeUnit.WORKING_DAYS, reason="x", now=MONDAY)
    assert refused.value.code == "bad_extension"
    assert not ExtensionRequest.objects.exists()


def test_duplicates_point_at_the_original(city, people):
    original = resident_report(city)
    first = resident_report(city)
    second = resident_report(city)
    services.case_mark_duplicate(case=first, duplicate_of=original, acting_user=people.community, now=MONDAY)
    # Marking a duplicate of a duplicate follows the chain to the original.
    second = services.case_mark_duplicate(case=second, duplicate_of=first, acting_user=people.community, now=MONDAY)
    assert second.duplicate_of == original
    with pytest.raises(DomainError) as refused:
        services.case_mark_duplicate(case=original, duplicate_of=original, acting_user=people.community, now=MONDAY)
    assert refused.value.code == "self"
    # A case in another community is "no such case" to this staff member.
    elsewhere = resident_report(city, building=city.building_b)
    with pytest.raises(DomainError) as refused:
        services.case_mark_duplicate(case=original, duplicate_of=elsewhere, acting_user=people.community, now=MONDAY)
    assert refused.value.code == "no_case"


def test_supervise_and_carry_over_flags(city, people):
    case = to_status(city, people, Status.HANDLING)
    case = oversight.case_supervise(case=case, acting_user=people.street, note="尽快处理", now=MONDAY)
    assert case.supervised_by == people.street and case.supervised_at == MONDAY
    with pytest.raises(DomainError):
        oversight.case_supervise(case=case, acting_user=people.district, now=MONDAY)
    with pytest.raises(DomainError):
        oversight.case_carry_over(case=case, acting_user=people.community, reason="", now=MONDAY)
    case = oversight.case_carry_over(case=case, acting_user=people.community, reason="需列入改造计划", now=MONDAY)
    assert case.carried_over_reason == "需列入改造计划"
    later = at(2026, 11, 30, 9, 0)
    # Paused: past its stage's due time, yet not overdue on any list while it is carried over.
    assert case.due_at < later and not case.is_overdue(later)
    assert not Case.objects.filter(selectors.overdue_q(later), pk=case.pk).exists()
    case = oversight.case_lift_carry_over(case=case, acting_user=people.community, now=later)
    assert case.carried_over_at is None
    # The clock restarts: 4 working hours from Monday 09:00.
    assert case.due_at == at(2026, 11, 30, 14, 30)


def test_rate_by_unknown_code_or_out_of_range(city, people):
    case = to_status(city, people, Status.CLOSED)
    with pytest.raises(DomainError) as refused:
        services.case_rate(tracking_code="AAAA-BBBB-CCCC-D", rating=5, now=MONDAY)
    assert refused.value.code == "no_case"
    for bad in (0, 6, "five", None):
        with pytest.raises(DomainError) as refused:
            services.case_rate(tracking_code=case.tracking_code, rating=bad, now=MONDAY)
        assert refused.value.code == "bad_rating"
    open_case = to_status(city, people, Status.HANDLING)
    with pytest.raises(DomainError) as refused:
        services.case_rate(tracking_code=open_case.tracking_code, rating=5, now=MONDAY)
    assert refused.value.code == "bad_state"


# --- alarms (微天网) ---------------------------------------------------------------------------

def test_alarms_are_folded_within_the_window(city, people):
    first, created = services_report.case_report_alarm(category=category("E0404"), building=city.building_a,
                                                       description="烟感报警", device_id="cam-7", now=MONDAY)
    assert created and first.status == Status.DISPATCHED and first.alarm_count == 1
    again, created = services_report.case_report_alarm(category=category("E0404"), building=city.building_a,
                                                       description="烟感报警", device_id="cam-7",
                                                       now=MONDAY + timedelta(minutes=10))
    assert not created and again.pk == first.pk and again.alarm_count == 2
    assert again.events.filter(action="alarm_repeat").count() == 1
    other_kind, created = services_report.case_report_alarm(category=category("E0402"), building=city.building_a,
                                                            description="燃气报警", now=MONDAY + timedelta(minutes=11))
    assert created
    much_later, created = services_report.case_report_alarm(category=category("E0404"), building=city.building_a,
                                                            description="烟感报警", now=MONDAY + timedelta(minutes=45))
    assert created and much_later.pk != first.pk


# --- mediation ----------------------------------------------------------------------------------

def test_mediation_case_goes_to_the_community_and_needs_an_outcome(city, people):
    case = services_report.case_report(category=category("E0501"), channel=Channel.HOTLINE, building=city.building_a,
                                       description="楼上漏水引发邻里纠纷", parties=[{"name": "王五", "phone": "13911112222"},
                                                                          {"name": "赵六"}],
                                       acting_user=people.community, now=MONDAY)
    assert case.kind == CaseKind.MEDIATION
    assert (case.status, case.responsible_level, case.assignee) == (Status.DISPATCHED, AreaKind.COMMUNITY, None)
    parties = list(case.mediation.parties.order_by("id"))
    assert [(p.name, p.role, p.phone_masked) for p in parties] == [
        ("王五", "applicant", "139****2222"), ("赵六", "respondent", "")]
    case = services.case_accept(case=case, acting_user=people.community, now=MONDAY)
    assert list(case.mediation.mediators.all()) == [people.community]
    mediation_open(case=case, acting_user=people.community, dispute_type="neighbour", now=MONDAY)
    mediation_record_session(case=case, acting_user=people.community, held_at=MONDAY, notes="双方到场",
                             location="社区调解室", now=MONDAY)
    with pytest.raises(DomainError) as refused:
        services.case_resolve(case=case, acting_user=people.community, note="调解完毕", now=MONDAY)
    assert refused.value.code == "no_outcome"
    with pytest.raises(DomainError) as refused:
        mediation_conclude(case=case, acting_user=people.community, outcome=MediationOutcome.AGREED,
                           consent_recorded=True, performance_deadline=MONDAY.date(), now=MONDAY)
    assert refused.value.code == "no_agreement"
    mediation_conclude(case=case, acting_user=people.community, agreement_text="楼上住户负责维修",
                       outcome=MediationOutcome.AGREED, consent_recorded=True,
                       performance_deadline=MONDAY.date(), now=MONDAY)
    case = services.case_resolve(case=case, acting_user=people.community, note="调解成功", now=MONDAY)
    assert case.status == Status.RESOLVED
    mediation = Mediation.objects.get(case=case)
    assert mediation.sessions.count() == 1 and mediation.concluded_at == MONDAY
    # The grid worker of that grid has no business in the mediation.
    with pytest.raises(DomainError):
        mediation_record_session(case=case, acting_user=people.worker, held_at=MONDAY, notes="x", now=MONDAY)


def test_a_report_with_a_bad_party_phone_saves_nothing(city, people):
    before = nothing_saved()
    with pytest.raises(DomainError) as refused:
        services_report.case_report(category=category("E0501"), channel=Channel.HOTLINE, building=city.building_a,
                                    description="邻里纠纷", parties=[{"name": "王五", "phone": "12345"}],
                                    acting_user=people.community, now=MONDAY)
    assert refused.value.code == "bad_phone"
    assert nothing_saved() == before


# --- tree changes carry the cases -------------------------------------------------------------

def test_moving_a_community_carries_its_cases(city, people, assert_trees_sound):
    case = to_status(city, people, Status.HANDLING)
    grid_services.area_move(area=city.community_a, new_parent=city.street_b)
    case.refresh_from_db()
    assert (case.district_id, case.street_id, case.community_id, case.grid_id) == (
        city.district.pk, city.street_b.pk, city.community_a.pk, city.grid_a.pk)
    assert_trees_sound()
    # Street B's staff now see it; street A's do not.
    from cases.selectors import cases_visible_to

    from .factories import user_with_post

    assert not cases_visible_to(people.street).filter(pk=case.pk).exists()
    street_b = user_with_post(Role.STREET_STAFF, city.street_b)
    assert cases_visible_to(street_b).filter(pk=case.pk).exists()


def test_merging_grids_carries_cases_and_the_handler_continues(city, people, make_user):
    worker_a2 = make_user(Role.GRID_WORKER, city.grid_a2)
    case = resident_report(city, building=city.building_a2)
    case = services.case_register(case=case, acting_user=people.community, now=MONDAY)
    assert case.assignee == worker_a2
    grid_services.area_merge(source=city.grid_a2, target=city.grid_a)
    case.refresh_from_db()
    assert case.grid_id == city.grid_a.pk and case.responsible_area_id == city.grid_a.pk
    # The worker's post moved to the merged grid with them: they take the case as before.
    worker_a2.refresh_from_db()
    case = services.case_accept(case=case, acting_user=worker_a2, now=MONDAY)
    assert case.status == Status.HANDLING


def test_splitting_a_grid_moves_cases_with_their_buildings(city, people):
    extra = grid_services.building_add(grid=city.grid_a, number="2号楼")
    case = resident_report(city, building=extra)
    new_grid = grid_services.grid_split(grid=city.grid_a, name="幸福第三网格", buildings=[extra])
    case.refresh_from_db()
    assert case.grid_id == new_grid.pk and case.community_id == city.community_a.pk


# --- a broker that is down ------------------------------------------------------------------------

def test_broker_down_still_saves_the_report(city, people, monkeypatch, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from cases import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", broker_down)
    monkeypatch.setattr(tasks.deliver_pending_notifications, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case = resident_report(city)
    assert callbacks  # the enqueue ran, and failed quietly
    assert Case.objects.filter(pk=case.pk).exists()
    pending = Delivery.objects.filter(case=case)
    assert pending.exists() and set(pending.values_list("status", flat=True)) == {"pending"}


def test_unreachable_broker_url_still_saves_the_report(city, people, caplog, django_capture_on_commit_callbacks):
    """The real Celery app, not eager, pointed at a port nobody listens on."""
    from portal.celery import app

    def fresh_pools():
        # The app caches its connection and producer pools; drop the references so
        # the new URL is used (kombu keeps one pool per URL, still open for others).
        app._pool = None
        app.amqp._producer_pool = None

    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "task_publish_retry")}
    app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0", task_publish_retry=False)
    fresh_pools()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            case = resident_report(city)
    finally:
        app.conf.update(saved)
        fresh_pools()
    assert Case.objects.filter(pk=case.pk).exists()
    assert Delivery.objects.filter(case=case, status="pending").exists()
    warned = [r.getMessage() for r in caplog.records if r.name == "cases.notifications"]
    assert warned and "could not enqueue" in warned[0]
    assert "closed pool" not in warned[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_report_during_a_merge_stores_the_merged_path(on_postgres):
    """The report waits for the merge holding its district's tree, then reads the place afresh."""
    import time

    from django.db import transaction

    from grid.services import area_merge

    from .factories import build_city

    city = build_city()
    merged, report_started = threading.Event(), threading.Event()
    found = {}

    def merge():
        try:
            with transaction.atomic():
                area_merge(source=city.community_a, target=city.community_b, acting_user=None, now=MONDAY)
                merged.set()
                report_started.wait(10)
                time.sleep(0.5)  # the report is waiting for the tree lock by now
        finally:
            connection.close()

    def report():
        try:
            merged.wait(10)
            report_started.set()
            found["case"] = resident_report(city)
        except Exception as exc:  # noqa: BLE001 — surfaced by the assertion below
            found["error"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=merge), threading.Thread(target=report)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert "error" not in found, found.get("error")
    case = Case.objects.get(pk=found["case"].pk)
    assert (case.street_id, case.community_id, case.grid_id) == (
        city.street_b.pk, city.community_b.pk, city.grid_a.pk)
