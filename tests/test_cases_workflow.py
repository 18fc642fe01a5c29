"""The transition table, move by move: every allowed move through its service, every
forbidden one refused with nothing written; and who may take each move."""

import pytest
from django.utils import translation

from cases import oversight, services, services_orgs, workflow
from cases.models import CaseEvent, ExtensionRequest, OrgAssignment, Status, TimeUnit
from portal.errors import DomainError

from .cases_factories import MONDAY, at, fresh_calendar, people, png, resident_report, to_status  # noqa: F401
from .orgs_factories import build_orgs

LATER = at(2026, 11, 23, 10, 0)


def _as_big_matter(case, orgs, *, held=True, returned=False):
    """Make `case` a big matter at the street (held by 城管 unless `held` is false), in the database:
    the precondition of the organisation's moves, whatever status the case is in."""
    values = {"triage_class": "public", "responsible_level": "street", "assignee": None}
    if held:
        row = OrgAssignment.objects.create(case=case, organisation=orgs.chengguan, role="lead", assigned_at=MONDAY)
        values.update(organisation=orgs.chengguan, org_assignment=row)
    if returned:
        values["returned_at"] = MONDAY
    type(case).objects.filter(pk=case.pk).update(**values)
    case.refresh_from_db()
    return case


def _handler(case, people):
    return case.assignee or people.worker


def _summons(case, p, city, *, due):
    """A whistle of the street with one summoned 城管 (rows written directly: the move under test comes next)."""
    from cases.models import Summons, Whistle
    from grid.models import Role

    from .factories import make_organisation, user_with_post

    org = make_organisation(seat=city.street_a, areas=[city.street_a])
    whistle = Whistle.objects.create(case=case, place=city.street_a, situation="pressing", report_in_minutes=30,
                                     reason="联合处置", raised_by=p.street, raised_at=MONDAY)
    staff = user_with_post(Role.ORG_STAFF, org)
    return Summons.objects.create(whistle=whistle, organisation=org, due_at=due), staff


def _run_whistle(name, case, p, city, now):
    from cases import whistles

    if name == "whistle":
        from .factories import make_organisation

        org = make_organisation(seat=city.street_a, areas=[city.street_a])
        return whistles.whistle_blow(case=case, organisations=[org], acting_user=p.street, reason="联合执法",
                                     situation="enforcement", now=now)
    summons, staff = _summons(case, p, city, due=MONDAY)
    if name == "report_in":
        return whistles.summons_report_in(summons=summons, acting_user=staff, now=now)
    if name == "no_show":
        if whistles.summonses_mark_no_shows(now=now) != 1:  # the sweep skips what it may not mark
            raise DomainError("not marked", code="bad_state")
        return None
    return whistles.whistle_rate(whistle=summons.whistle, ratings={summons.pk: (4, "")}, acting_user=p.street,
                                 now=now)


def _run_hotline(name, case, p, now):
    from datetime import timedelta

    from cases.hotline import services as hotline
    from cases.hotline.models import HotlineOrder
    from cases.models import Case

    Case.objects.filter(pk=case.pk).update(channel="hotline", external_ref=f"GD{case.pk}")
    case.refresh_from_db()
    if name == "hotline_reply":
        return hotline.order_reply(case=case, text="已办结", acting_user=p.community, now=now)
    HotlineOrder.objects.create(case=case, order_number=f"GD{case.pk}", received_at=MONDAY,
                                return_due_at=MONDAY + timedelta(days=30), reply_text="已办结", replied_at=MONDAY)
    if name == "hotline_return":
        return hotline.order_return(case=case, reason="不属于本辖区", acting_user=p.community, now=now)
    return hotline.order_visit(case=case, result="satisfied", acting_user=p.community, now=now)


def _run_follow_up_close(case, p, now):
    """The case made a mediation whose agreement a follow-up found performed (rows written directly)."""
    from cases.mediation_followup import mediation_close_at_follow_up
    from cases.models import Case, Mediation

    Case.objects.filter(pk=case.pk).update(kind="mediation")
    Mediation.objects.create(case=case, outcome="agreed", agreement_text="赔偿800元", consent_recorded=True,
                             concluded_at=MONDAY, followed_up_at=MONDAY, performance="performed")
    case.refresh_from_db()
    return mediation_close_at_follow_up(case=case, now=now)


def _run(name, case, people, city):
    """Take transition `name` on `case` through its service, as a user who may."""
    p = people
    now = LATER
    if name == "follow_up_close":
        return _run_follow_up_close(case, p, now)
    if name == "register":
        return services.case_register(case=case, acting_user=p.community, now=now)
    if name == "reject":
        return services.case_reject(case=case, acting_user=p.community, reason="不属于受理范围", now=now)
    if name == "dispatch":
        return services.case_dispatch(case=case, acting_user=p.community, assignee=p.worker2, now=now)
    if name == "redispatch":
        return services.case_redispatch(case=case, acting_user=p.community, assignee=p.worker2, now=now)
    if name == "accept":
        return services.case_accept(case=case, acting_user=_handler(case, p), now=now)
    if name == "return":
        return services.case_return(case=case, acting_user=_handler(case, p), reason="不是我们的事", now=now)
    if name == "note":
        return services.case_note(case=case, acting_user=p.community, note="已联系物业", now=now)
    if name == "request_extension":
        return oversight.case_request_extension(case=case, acting_user=_handler(case, p), value=1,
                                                unit=TimeUnit.WORKING_DAYS, reason="需要等待配件", now=now)
    if name == "decide_extension":
        extension = ExtensionRequest.objects.create(case=case, requested_by=_handler(case, p), requested_at=now,
                                                    value=1, unit=TimeUnit.WORKING_DAYS, reason="配件")
        return oversight.case_decide_extension(extension=extension, acting_user=p.community, approve=True, now=now)
    if name == "resolve":
        return services.case_resolve(case=case, acting_user=_handler(case, p), note="已处理", photos=[png()],
                                     now=now)
    if name == "verify":
        return services.case_verify(case=case, acting_user=p.community, passed=True, now=now)
    if name == "verify_fail":
        return services.case_verify(case=case, acting_user=p.community, passed=False, note="仍有垃圾", now=now)
    if name == "close":
        return services.case_close(case=case, acting_user=p.community, now=now)
    if name == "reopen":
        return services.case_reopen(case=case, acting_user=p.community, reason="居民来电表示不满意", now=now)
    if name == "mark_duplicate":
        original = resident_report(city, now=MONDAY)
        return services.case_mark_duplicate(case=case, duplicate_of=original, acting_user=p.community, now=now)
    if name == "supervise":
        return oversight.case_supervise(case=case, acting_user=p.district, now=now)
    if name in ("whistle", "report_in", "no_show", "rate_summons"):
        return _run_whistle(name, case, p, city, now)
    if name.startswith("hotline_"):
        return _run_hotline(name, case, p, now)
    if name == "carry_over":
        return oversight.case_carry_over(case=case, acting_user=p.community, reason="需纳入年度计划", now=now)
    if name == "lift_carry_over":
        type(case).objects.filter(pk=case.pk).update(carried_over_at=MONDAY, carried_over_reason="挂账")
        return oversight.case_lift_carry_over(case=case, acting_user=p.community, now=now)
    if name == "escalate":
        return services.case_escalate(case=case, acting_user=p.community, reason="超出社区能力", now=now)
    if name == "rate":
        return services.case_rate(tracking_code=case.tracking_code, rating=5, now=now)
    # The organisation track (cases/services_orgs.py).
    if name == "reclassify":
        return services_orgs.case_reclassify(case=case, acting_user=p.community, triage="public", reason="涉及执法",
                                             now=now)
    if name == "refer":
        return services_orgs.case_refer(case=case, acting_user=p.community, referred_to="parties",
                                        told="已告知当事人自行协商", reason="属家庭内部事务", now=now)
    orgs = build_orgs(city)
    if name == "org_dispatch":
        case = _as_big_matter(case, orgs, held=case.status != "registered")
        return services_orgs.case_org_dispatch(case=case, acting_user=p.street, lead=orgs.police, now=now)
    if name == "org_rule":
        case = _as_big_matter(case, orgs, held=case.status != "registered", returned=case.status == "registered")
        return services_orgs.case_org_rule(case=case, acting_user=p.street, lead=orgs.police, reason="属治安",
                                           now=now)
    case = _as_big_matter(case, orgs)
    if name == "org_sign_in":
        return services_orgs.case_org_sign_in(case=case, acting_user=orgs.cg_staff, now=now)
    if name == "org_reply":
        return services_orgs.case_org_reply(case=case, acting_user=orgs.cg_staff, note="已处置", photos=[png()],
                                            now=now)
    if name == "org_return":
        return services_orgs.case_org_return(case=case, acting_user=orgs.cg_staff, reason="非本单位职责", now=now)
    raise AssertionError(f"no driver for {name}")


def test_every_transition_has_a_driver_and_sources():
    assert set(workflow.TRANSITIONS) == {t.name for t in workflow.TABLE}
    for t in workflow.TABLE:
        assert t.sources, t.name
        assert t.sources <= set(Status.values), t.name
        if isinstance(t.target, dict):
            assert set(t.target) == set(t.sources), t.name


STATUSES = ["reported", "registered", "dispatched", "handling", "resolved", "verified", "closed", "rejected",
            "duplicate", "referred"]
STAYS = "stays"  # the move adds a line to the timeline or sets a flag; the status does not change
# Written out by hand from the workflow's description (not read from workflow.TABLE), so a
# changed source or target in the table fails here: name -> {from: to}. Any other status refuses.
EXPECTED_MOVES = {
    # The main path: 信息收集 → 案卷建立 → 任务派遣 → 任务处理 → 处理反馈 → 核查结案 → 综合评价.
    "register": {"reported": "registered"},
    "dispatch": {"registered": "dispatched"},
    "accept": {"dispatched": "handling"},
    "resolve": {"handling": "resolved"},
    "verify": {"resolved": "verified"},
    "close": {"verified": "closed"},
    "rate": {"closed": STAYS},  # a low rating with reopen is test_reopen_by_unsatisfied_reporter_counts_rework
    # Off the main path.
    "reject": {"reported": "rejected"},
    "redispatch": {"dispatched": "dispatched", "handling": "dispatched"},
    "return": {"dispatched": "registered", "handling": "registered"},
    "verify_fail": {"resolved": "handling"},  # rework
    "reopen": {"closed": "handling"},
    "mark_duplicate": {"reported": "duplicate", "registered": "duplicate", "dispatched": "duplicate",
                       "handling": "duplicate"},
    # The level above must accept it afresh; before that, the case keeps its state.
    "escalate": {"reported": "reported", "registered": "registered", "dispatched": "dispatched",
                 "handling": "dispatched"},
    # 三事分流 and the organisations (职能部门): the class, referral, dispatch to organisations,
    # their sign-in, reply and return, and the street's ruling on a return.
    "reclassify": {"reported": STAYS, "registered": STAYS},
    "refer": {"reported": "referred", "registered": "referred"},
    "org_dispatch": {"registered": "dispatched", "dispatched": "dispatched", "handling": "dispatched"},
    "org_rule": {"registered": "dispatched"},
    "org_sign_in": {"dispatched": "handling"},
    "org_reply": {"handling": "resolved"},
    "org_return": {"dispatched": "registered", "handling": "registered"},
    # Timeline lines and flags.
    "note": {"reported": STAYS, "registered": STAYS, "dispatched": STAYS, "handling": STAYS, "resolved": STAYS,
             "verified": STAYS},
    "supervise": {"reported": STAYS, "registered": STAYS, "dispatched": STAYS, "handling": STAYS,
                  "resolved": STAYS, "verified": STAYS},
    "request_extension": {"handling": STAYS},
    "decide_extension": {"handling": STAYS},
    "carry_over": {"reported": STAYS, "registered": STAYS, "dispatched": STAYS, "handling": STAYS},
    "lift_carry_over": {"reported": STAYS, "registered": STAYS, "dispatched": STAYS, "handling": STAYS},
    # 吹哨报到: the summons rows move (tests/test_cases_whistles.py), the case's status stays.
    "whistle": {"reported": STAYS, "registered": STAYS, "dispatched": STAYS, "handling": STAYS, "resolved": STAYS},
    "report_in": {"reported": STAYS, "registered": STAYS, "dispatched": STAYS, "handling": STAYS, "resolved": STAYS,
                  "verified": STAYS},
    "no_show": {"reported": STAYS, "registered": STAYS, "dispatched": STAYS, "handling": STAYS, "resolved": STAYS,
                "verified": STAYS},
    "rate_summons": {"closed": STAYS},
    # 12345 docking (tests/test_hotline.py): a hand-back ends the case here.
    "hotline_reply": {"resolved": STAYS, "verified": STAYS, "closed": STAYS},
    "hotline_return": {"registered": "rejected", "dispatched": "rejected", "handling": "rejected"},
    "hotline_visit": {"resolved": STAYS, "verified": STAYS, "closed": STAYS},
    # 回访 of a mediation's agreement found performed (tests/test_cases_mediation_closing.py).
    "follow_up_close": {"resolved": "closed", "verified": "closed"},
}
# Moves whose timeline line carries another action's name.
EVENT_ACTION = {"follow_up_close": "close"}


def test_the_expected_moves_cover_the_whole_table():
    assert sorted(Status.values) == sorted(STATUSES)
    assert sorted(workflow.TRANSITIONS) == sorted(EXPECTED_MOVES)


MOVES = [(name, status) for name in EXPECTED_MOVES for status in STATUSES]


@pytest.mark.parametrize(("name", "status"), MOVES, ids=[f"{n}-from-{s}" for n, s in MOVES])
def test_move(name, status, city, people):
    case = to_status(city, people, status)
    before = CaseEvent.objects.filter(case=case).count()
    last_id = CaseEvent.objects.order_by("-id").values_list("id", flat=True).first()
    if status in EXPECTED_MOVES[name]:
        target = EXPECTED_MOVES[name][status]
        _run(name, case, people, city)
        event = CaseEvent.objects.filter(case=case, action=EVENT_ACTION.get(name, name),
                                         id__gt=last_id).order_by("id").first()
        assert event is not None and event.at == LATER
        assert event.from_status == status
        assert event.to_status == ("" if target == STAYS else target)
        case.refresh_from_db()
        if name == "register":  # registering routes at once: the same call dispatches it
            assert case.status == "dispatched"
        else:
            assert case.status == (status if target == STAYS else target)
    else:
        with pytest.raises(DomainError) as refused:
            _run(name, case, people, city)
        # Accepting a case already in hand says who holds it instead of naming the state.
        expected = "taken" if (name, status) == ("accept", "handling") else "bad_state"
        assert refused.value.code == expected, refused.value.message
        fresh = type(case).objects.get(pk=case.pk)
        assert fresh.status == status
        assert CaseEvent.objects.filter(case=case).count() == before


# --- who may act ----------------------------------------------------------------------

def test_grid_worker_cannot_close_or_dispatch(city, people):
    case = to_status(city, people, Status.VERIFIED)
    with pytest.raises(DomainError) as refused:
        services.case_close(case=case, acting_user=people.worker, now=LATER)
    assert refused.value.code == "forbidden"


def test_worker_of_another_grid_cannot_accept(city, people):
    case = to_status(city, people, Status.DISPATCHED)
    with translation.override("zh-hans"), pytest.raises(DomainError) as refused:
        services.case_accept(case=case, acting_user=people.worker_b, now=LATER)
    # check() names the holder to anyone who is not the assignee, even a stranger; the pages never
    # let a stranger this far (they answer 404), so only the service sees it.
    assert refused.value.code == "taken"
    assert refused.value.message == f"此案件已指派给{case.assignee}。"
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED


def test_the_handler_cannot_verify_own_work(city, people, make_user):
    from grid.models import Role

    case = to_status(city, people, Status.RESOLVED)
    # Even holding a staff post, the one who resolved it does not verify it.
    make_user  # noqa: B018 (fixture used for symmetry with other tests)
    from grid import services as grid_services

    grid_services.post_grant(user=case.resolved_by, role=Role.COMMUNITY_STAFF, place=city.community_a)
    case.resolved_by.refresh_from_db()
    with translation.override("en"), pytest.raises(DomainError) as refused:
        services.case_verify(case=case, acting_user=case.resolved_by, passed=True, now=LATER)
    assert refused.value.message == "Someone other than the handler who resolved it must verify it on site."


def test_only_the_reporter_rates_and_only_once(city, people):
    case = to_status(city, people, Status.CLOSED)
    services.case_rate(tracking_code=case.tracking_code, rating=4, now=LATER)
    with pytest.raises(DomainError) as refused:
        services.case_rate(tracking_code=case.tracking_code, rating=5, now=LATER)
    assert refused.value.code == "refused"
    case.refresh_from_db()
    assert case.rating == 4


def test_stranger_is_refused_everything(city, people, make_user):
    from grid.models import Role

    stranger = make_user(Role.COMMUNITY_STAFF, city.community_b)
    case = to_status(city, people, Status.HANDLING)
    assert workflow.allowed(case, stranger) == []
    with pytest.raises(DomainError):
        oversight.case_supervise(case=case, acting_user=stranger, now=LATER)


def test_allowed_lists_the_buttons(city, people):
    case = to_status(city, people, Status.DISPATCHED)
    assert "accept" in workflow.allowed(case, case.assignee)
    assert "close" not in workflow.allowed(case, case.assignee)
    assert "supervise" in workflow.allowed(case, people.district)
    assert "escalate" in workflow.allowed(case, people.community)


def test_district_level_case_cannot_escalate(city, people):
    case = to_status(city, people, Status.DISPATCHED)
    for user in (people.community, people.street, people.district):
        case = services.case_escalate(case=case, acting_user=user, reason="超出本级能力", now=LATER)
    assert case.responsible_level == "district"
    assert case.escalation_count == 3
    with translation.override("en"), pytest.raises(DomainError) as refused:
        services.case_escalate(case=case, acting_user=people.district, reason="再升级", now=LATER)
    assert refused.value.message == "This case is already at district level; it cannot be escalated further."


def test_reopen_by_unsatisfied_reporter_counts_rework(city, people):
    case = to_status(city, people, Status.CLOSED)
    case = services.case_rate(tracking_code=case.tracking_code_display.lower(), rating=1, comment="没有处理干净",
                              reopen=True, now=LATER)
    assert case.status == Status.HANDLING
    assert case.rework_count == 1
    # Issue #18: a reopen erases no rating; the case keeps it as its latest, the history keeps them all.
    assert (case.rating, case.rating_count, case.satisfied_count) == (1, 1, 0)
    assert list(case.ratings.values_list("rating", "comment")) == [(1, "没有处理干净")]
    rate = CaseEvent.objects.get(case=case, action="rate")
    assert rate.data == {"rating": 1, "solved": None}
    # A rating above 2 never reopens: asking for it is refused, nothing kept (not dropped unsaid).
    other = to_status(city, people, Status.CLOSED)
    with pytest.raises(DomainError) as refused:
        services.case_rate(tracking_code=other.tracking_code, rating=3, reopen=True, now=LATER)
    assert refused.value.code == "reopen_rating"
    other.refresh_from_db()
    assert other.status == Status.CLOSED and other.rated_at is None


def test_verify_fail_is_rework_back_to_the_handler(city, people):
    case = to_status(city, people, Status.RESOLVED)
    handler = case.resolved_by
    case = services.case_verify(case=case, acting_user=people.building_chief, passed=False, note="垃圾还在",
                                now=LATER)
    assert case.status == Status.HANDLING
    assert case.assignee == handler
    assert case.rework_count == 1
    assert case.resolved_at is None


def test_nothing_else_assigns_status():
    """Only services.py writes Case.status, and the escalation sweep cut out of it (escalation.py)
    (grep the sources; the seed writes rows in bulk). oversight.py, also cut out of services.py,
    writes only an extension request's status. services_report.py (case_report, cut out of
    services.py) and services_intake.py's batch registration write new cases in their first
    status only, REPORTED (the batch pinned row by row to case_report by
    tests/test_cases_intake_batch.py), and the test below holds them to that."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    offenders = []
    for path in list(root.glob("cases/*.py")) + list(root.glob("grid/*.py")) + list(root.glob("grid/admin/*.py")):
        if path.name in {"services.py", "escalation.py", "oversight.py", "seed.py", "models.py"}:
            continue
        text = path.read_text(encoding="utf-8")
        if path.name in {"services_report.py", "services_intake.py"}:
            # A new case's first status (case_report's, and the batch's in bulk; every later move is
            # services.py's) and its REPORT event's to_status (the timeline's, not the case's); any
            # other status assignment still counts.
            text = text.replace("to_status=Status.REPORTED,", "").replace("status=Status.REPORTED,", "")
        if path.name == "whistles.py":
            # A summons's own status (its moves are the table's summons column), never a case's.
            text = re.sub(r"Summons\.objects\.filter\([^)]*\)\.update\([^)]*\)", "", text)
        if re.search(r"\.status\s*=(?!=)|(?<!Q\()status=Status\.|update\([^)]*\bstatus=", text):
            if path.name in {"notifications.py"} and "DeliveryStatus" in text:
                continue
            offenders.append(path.name)
    assert offenders == []
