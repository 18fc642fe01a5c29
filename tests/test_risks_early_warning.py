"""The early-warning rules and sweep (risks/early_warning.py, hub/warning_rules.py) and the staff's
handling of a warning (risks/warning_actions.py): each rule at its threshold, the same evidence never
twice, runs repeated change nothing, notices go to the staff over the place through the outbox."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from cases.models import Delivery, DeliveryChannel
from grid.models import Role
from portal.errors import DomainError
from risks import early_warning, warning_actions
from risks.models import EarlyWarning, RiskType, WarningEvent, WarningRule, WarningRuleKind, WarningStatus

from .cases_factories import resident_report
from .risks_factories import NOW, people, register

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]

DAY = datetime.timedelta(days=1)


@pytest.fixture
def crew(city, make_user):
    crew = people(city, make_user)
    crew["official"] = make_user(Role.DISTRICT_OFFICIAL, city.district, full_name="区干部")
    crew["other_official"] = make_user(Role.DISTRICT_OFFICIAL, city.other_district, full_name="别区干部")
    return crew


def orange(city, crew, **kw):
    # L 4 × S 4 = 16: orange, reviewed every 15 days.
    return register(city, crew["worker"], **kw)


def sweep(now):
    return early_warning.warnings_sweep(now=now)


def test_an_orange_risk_past_its_review_raises_one_warning_for_the_street(city, crew):
    risk = orange(city, crew)
    assert risk.review_on == datetime.date(2026, 12, 8)
    on_the_day = NOW.replace(day=8, month=12)
    assert sweep(on_the_day)["raised"] == 0  # due today, not yet past
    day_after = on_the_day + DAY
    result = sweep(day_after)
    assert result == {"flagged": 1, "raised": 1, "notified": 1}
    warning = EarlyWarning.objects.get()
    assert (warning.rule, warning.risk_id, warning.status) == (WarningRuleKind.REVIEW_OVERDUE, risk.pk, "open")
    assert (warning.street_id, warning.community_id, warning.grid_id) == (city.street_a.pk, city.community_a.pk,
                                                                          city.grid_a.pk)
    assert warning.evidence == {"risks": [risk.pk], "grade": "2orange", "review_on": "2026-12-08",
                                "days_overdue": 1}
    assert "1号楼消防通道堆放杂物" in warning.title and "2026-12-08" in warning.title
    # The community and street staff are told (inbox; no e-mail addresses in these fixtures), not the worker.
    told = set(Delivery.objects.filter(channel=DeliveryChannel.INBOX).values_list("user_id", flat=True))
    assert told == {crew["staff"].pk, crew["street"].pk}
    # Twice more, a day later: nothing new, nobody told again.
    assert sweep(day_after) == {"flagged": 0, "raised": 0, "notified": 0}
    assert sweep(day_after + DAY) == {"flagged": 0, "raised": 0, "notified": 0}
    assert EarlyWarning.objects.count() == 1 and Delivery.objects.count() == 2


def test_yellow_and_blue_risks_raise_no_review_warning(city, crew):
    register(city, crew["worker"], likelihood=3, severity=4)  # 12: yellow, 30 days
    register(city, crew["worker"], likelihood=1, severity=2, title="blue")  # blue
    assert sweep(NOW + 200 * DAY)["raised"] == 0


def test_the_same_evidence_never_raises_twice_even_once_handled(city, crew):
    risk = orange(city, crew)
    later = NOW + 16 * DAY
    sweep(later)
    warning = EarlyWarning.objects.get()
    warning_actions.warning_acknowledge(warning=warning, note="已督促物业清理", acting_user=crew["street"], now=later)
    assert sweep(later + DAY)["raised"] == 0
    # A reassessment sets a new review; when that one passes, it is new evidence.
    from risks import services

    services.risk_reassess(risk=risk, method="matrix", likelihood=4, severity=4, acting_user=crew["worker"],
                           now=later + DAY)
    assert sweep(later + 17 * DAY)["raised"] == 1
    assert EarlyWarning.objects.filter(risk=risk).count() == 2


def test_a_cluster_of_one_type_in_a_grid(city, crew):
    for n in range(2):
        register(city, crew["worker"], kind=RiskType.EBIKE, title=f"电动车{n}", likelihood=2, severity=2,
                 now=NOW - n * DAY)
    register(city, crew["worker"], kind=RiskType.GAS, title="燃气", likelihood=2, severity=2)
    assert sweep(NOW)["raised"] == 0  # two of a kind, threshold 3
    third = register(city, crew["worker"], kind=RiskType.EBIKE, title="电动车2", likelihood=2, severity=2)
    assert sweep(NOW)["raised"] == 1
    warning = EarlyWarning.objects.get(rule=WarningRuleKind.RISK_CLUSTER)
    assert warning.subject == f"grid:{city.grid_a.pk}:ebike" and len(warning.evidence["risks"]) == 3
    assert warning.evidence_key.endswith(f":{third.pk}")
    # A fourth while the first is open: still one open warning for the grid and type.
    register(city, crew["worker"], kind=RiskType.EBIKE, title="电动车3", likelihood=2, severity=2)
    assert sweep(NOW)["raised"] == 0
    # Older than the window: out of the count.
    assert sweep(NOW + 40 * DAY)["raised"] == 0


def test_repeated_cases_of_one_category_at_one_building(city, crew):
    for n in range(3):
        resident_report(city, now=NOW - n * DAY)
    resident_report(city, building=city.building_b, now=NOW)
    assert sweep(NOW)["raised"] == 1
    warning = EarlyWarning.objects.get(rule=WarningRuleKind.CASE_REPEAT)
    assert warning.building_id == city.building_a.pk and warning.evidence["count"] == 3
    assert len(warning.evidence["cases"]) == 3
    # No reporter's name or phone, no description in what staff read.
    text = warning.title + str(warning.evidence)
    assert "张三" not in text and "13800000000" not in text and "小区门口" not in text


def test_thresholds_are_settings_per_district(city, crew):
    warning_actions.warning_rule_set(district=city.district, kind=WarningRuleKind.CASE_REPEAT, threshold=2,
                                     window_days=7, acting_user=crew["official"], now=NOW)
    for n in range(2):
        resident_report(city, now=NOW - n * DAY)
    assert sweep(NOW)["raised"] == 1
    warning_actions.warning_rule_set(district=city.district, kind=WarningRuleKind.RISK_CLUSTER, threshold=1,
                                     window_days=7, enabled=False, acting_user=crew["official"], now=NOW)
    register(city, crew["worker"])
    assert sweep(NOW)["raised"] == 0


@pytest.mark.parametrize("bad", [{"threshold": 0}, {"window_days": 0}, {"threshold": "x"}, {"threshold": -2},
                                 {"kind": "nonsense"}, {"threshold": 5000}])
def test_a_rule_with_zero_or_nonsense_is_refused(city, crew, bad):
    fields = {"district": city.district, "kind": WarningRuleKind.RISK_CLUSTER, "threshold": 3, "window_days": 30,
              **bad}
    with pytest.raises(DomainError):
        warning_actions.warning_rule_set(acting_user=crew["official"], now=NOW, **fields)
    assert not WarningRule.objects.exists()


def test_the_database_refuses_a_zero_threshold(city):
    with pytest.raises(IntegrityError), transaction.atomic():
        WarningRule.objects.create(district=city.district, kind=WarningRuleKind.RISK_CLUSTER, threshold=0)


def test_only_the_districts_officials_set_its_rules(city, crew):
    for user in (crew["other_official"], crew["street"], crew["staff"], crew["worker"]):
        with pytest.raises(DomainError):
            warning_actions.warning_rule_set(district=city.district, kind=WarningRuleKind.CASE_REPEAT,
                                             threshold=2, window_days=7, acting_user=user, now=NOW)
    with pytest.raises(DomainError):  # the city's default: administrators only
        warning_actions.warning_rule_set(district=None, kind=WarningRuleKind.CASE_REPEAT, threshold=2,
                                         window_days=7, acting_user=crew["official"], now=NOW)
    assert not WarningRule.objects.exists()


def test_acknowledge_and_dismiss_need_a_note_a_post_over_the_place_and_an_open_warning(city, crew):
    orange(city, crew)
    sweep(NOW + 16 * DAY)
    warning = EarlyWarning.objects.get()
    for user, note in ((crew["street"], "  "), (crew["outsider"], "看过了"), (crew["worker"], "看过了"),
                       (crew["chief"], "看过了")):
        with pytest.raises(DomainError):
            warning_actions.warning_acknowledge(warning=warning, note=note, acting_user=user, now=NOW + 16 * DAY)
    assert not WarningEvent.objects.exists()
    warning_actions.warning_dismiss(warning=warning, reason="已现场核实，风险已消除待销号", acting_user=crew["staff"],
                                    now=NOW + 16 * DAY)
    with pytest.raises(DomainError):
        warning_actions.warning_acknowledge(warning=warning, note="again", acting_user=crew["street"],
                                            now=NOW + 16 * DAY)
    warning.refresh_from_db()
    assert (warning.status, warning.handled_by, warning.note) == (WarningStatus.DISMISSED, crew["staff"],
                                                                  "已现场核实，风险已消除待销号")
    assert list(WarningEvent.objects.values_list("action", "by", "note")) == [
        ("dismissed", crew["staff"].pk, "已现场核实，风险已消除待销号")]


def test_the_database_keeps_one_open_warning_per_subject_and_each_evidence_once(city):
    fields = {"rule": "risk_cluster", "subject": "grid:1:gas", "title": "t", "raised_at": NOW,
              "district": city.district}
    EarlyWarning.objects.create(evidence_key="a", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        EarlyWarning.objects.create(evidence_key="b", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        EarlyWarning.objects.create(evidence_key="a", **{**fields, "subject": "other"})


def test_a_grid_with_many_overdue_cases(city, crew):
    from cases.models import Case

    warning_actions.warning_rule_set(district=city.district, kind=WarningRuleKind.GRID_OVERDUE, threshold=2,
                                     window_days=1, acting_user=crew["official"], now=NOW)
    first, second = resident_report(city, now=NOW - 9 * DAY), resident_report(city, now=NOW - 8 * DAY)
    Case.objects.filter(pk__in=[first.pk, second.pk]).update(status="dispatched", due_at=NOW - DAY)
    raised = early_warning.warnings_raise(now=NOW)
    warning = EarlyWarning.objects.get(rule=WarningRuleKind.GRID_OVERDUE)
    assert raised >= 1 and warning.grid_id == city.grid_a.pk and warning.evidence["count"] == 2
    assert sorted(warning.evidence["cases"]) == sorted([first.number, second.number])
    assert early_warning.warnings_raise(now=NOW) == 0


def test_assign_to_a_risk_of_the_place(city, crew):
    risk = orange(city, crew)
    sweep(NOW + 16 * DAY)
    warning = EarlyWarning.objects.get()
    with pytest.raises(DomainError):  # neither a case nor a risk
        warning_actions.warning_assign(warning=warning, note="x", acting_user=crew["staff"], now=NOW + 16 * DAY)
    other = register(city, crew["outsider"], building=city.building_b)
    with pytest.raises(DomainError):  # a risk outside the user's places
        warning_actions.warning_assign(warning=warning, note="x", risk=other, acting_user=crew["staff"],
                                       now=NOW + 16 * DAY)
    warning_actions.warning_assign(warning=warning, note="并入该风险整改", risk=risk, acting_user=crew["staff"],
                                   now=NOW + 16 * DAY)
    warning.refresh_from_db()
    assert (warning.status, warning.assigned_risk) == (WarningStatus.ASSIGNED, risk)
