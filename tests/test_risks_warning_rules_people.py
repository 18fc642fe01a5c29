"""The two rules on people (hub/warning_rules.py report_rise, hub/warning_rules_people.py key_person_visit):
each raises at its threshold and not below, raises once however often it runs, is a setting per district
that refuses zero, and its warnings reach only the staff over the place."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from grid.models import Role
from hub.warning_rules import LAST_YEAR
from portal.errors import DomainError
from residents import services as resident_services
from residents.models import Resident
from risks import early_warning, warning_actions
from risks.models import EarlyWarning, WarningRule, WarningRuleKind

from .cases_factories import resident_report
from .residents_factories import household_in, resident_in, tag
from .risks_factories import NOW, people

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]

DAY = datetime.timedelta(days=1)


@pytest.fixture
def crew(city, make_user):
    crew = people(city, make_user)
    crew["official"] = make_user(Role.DISTRICT_OFFICIAL, city.district, full_name="区干部")
    crew["street_b"] = make_user(Role.STREET_STAFF, city.street_b, full_name="城南街道干部")
    return crew


RULES = (WarningRuleKind.REPORT_RISE, WarningRuleKind.KEY_PERSON_VISIT)


def raise_now(now=NOW):
    """How many warnings of these two rules a run raised (the other rules may see the same cases)."""
    before = EarlyWarning.objects.filter(rule__in=RULES).count()
    early_warning.warnings_raise(now=now)
    return EarlyWarning.objects.filter(rule__in=RULES).count() - before


def reports(city, n, *, at, building=None, code="E0101"):
    return [resident_report(city, building=building, code=code, now=at - i * DAY) for i in range(n)]


# --- report_rise ----------------------------------------------------------------------------------

def test_reports_rising_against_the_same_weeks_last_year_raise_one_warning(city, crew):
    # Default: at least 5 in the last 28 days and 50 % more than in the same 28 days 52 weeks before.
    now_cases = reports(city, 5, at=NOW - DAY)
    last_year = reports(city, 3, at=NOW - LAST_YEAR - DAY)  # 5 × 100 ≥ 3 × 150 = 450
    reports(city, 4, at=NOW - LAST_YEAR - 40 * DAY)  # before last year's window: not counted
    assert raise_now() == 1
    warning = EarlyWarning.objects.get(rule=WarningRuleKind.REPORT_RISE)
    assert (warning.district_id, warning.street_id, warning.community_id, warning.grid_id) == (
        city.district.pk, city.street_a.pk, city.community_a.pk, None)
    assert warning.subject == f"community:{city.community_a.pk}:category:{now_cases[0].category_id}"
    evidence = warning.evidence
    assert (evidence["this_year"], evidence["last_year"], evidence["growth_percent"]) == (5, 3, 50)
    assert sorted(evidence["case_ids"]) == sorted(c.pk for c in now_cases)
    assert sorted(evidence["cases"]) == sorted(c.number for c in now_cases)
    assert not set(evidence["case_ids"]) & {c.pk for c in last_year}
    assert evidence["period"] == ["2026-10-26", "2026-11-23"]
    assert evidence["last_year_period"] == ["2025-10-27", "2025-11-24"]  # 52 weeks back: also Mondays
    assert warning.evidence_key.endswith(f":{max(c.pk for c in now_cases)}")
    # No reporter and no description in what staff read.
    text = warning.title + str(evidence)
    assert "张三" not in text and "13800000000" not in text and "小区门口" not in text
    # Run again, and again the next hour: nothing new.
    assert raise_now() == 0 and raise_now(NOW + datetime.timedelta(hours=1)) == 0
    assert EarlyWarning.objects.filter(rule=WarningRuleKind.REPORT_RISE).count() == 1


@pytest.mark.parametrize("now_n, last_n", [(4, 0), (5, 4), (6, 4)])
def test_too_few_or_not_rising_enough_raises_nothing(city, crew, now_n, last_n):
    # 4 < 5; 5 × 100 < 4 × 150 = 600; 6 × 100 = 600 is on the edge and raises.
    reports(city, now_n, at=NOW - DAY)
    reports(city, last_n, at=NOW - LAST_YEAR - DAY)
    expected = 1 if (now_n, last_n) == (6, 4) else 0
    assert raise_now() == expected


def test_reports_by_staff_duplicates_and_other_categories_do_not_count(city, crew):
    from cases.models import Case, Channel

    cases = reports(city, 4, at=NOW - DAY)
    reports(city, 1, at=NOW - DAY, code="E0201")  # another category
    extra = reports(city, 2, at=NOW - DAY)
    Case.objects.filter(pk=extra[0].pk).update(channel=Channel.PATROL)  # a grid worker's, not a resident's
    Case.objects.filter(pk=extra[1].pk).update(duplicate_of=cases[0], status="duplicate", closed_at=NOW - DAY)
    assert raise_now() == 0


def test_the_growth_and_count_are_settings_per_district_and_zero_is_refused(city, crew):
    reports(city, 3, at=NOW - DAY)
    reports(city, 2, at=NOW - LAST_YEAR - DAY)
    assert raise_now() == 0
    for bad in ({"threshold": 0}, {"growth_percent": 0}, {"growth_percent": -5}, {"growth_percent": "x"},
                {"window_days": 0}):
        fields = {"threshold": 3, "window_days": 28, "growth_percent": 50, **bad}
        with pytest.raises(DomainError):
            warning_actions.warning_rule_set(district=city.district, kind=WarningRuleKind.REPORT_RISE,
                                             acting_user=crew["official"], now=NOW, **fields)
    assert not WarningRule.objects.exists()
    warning_actions.warning_rule_set(district=city.district, kind=WarningRuleKind.REPORT_RISE, threshold=3,
                                     window_days=28, growth_percent=60, acting_user=crew["official"], now=NOW)
    assert raise_now() == 0  # 3 × 100 < 2 × 160 = 320
    warning_actions.warning_rule_set(district=city.district, kind=WarningRuleKind.REPORT_RISE, threshold=3,
                                     window_days=28, growth_percent=50, acting_user=crew["official"], now=NOW)
    assert raise_now() == 1  # 300 ≥ 300
    # One row, the district's own: the other district and the city default are untouched.
    assert list(WarningRule.objects.values_list("district_id", "growth_percent")) == [(city.district.pk, 50)]


def test_the_database_refuses_a_zero_growth(city):
    with pytest.raises(IntegrityError), transaction.atomic():
        WarningRule.objects.create(district=city.district, kind=WarningRuleKind.REPORT_RISE, threshold=5,
                                   growth_percent=0)


def test_the_rules_page_refuses_a_zero_growth_and_writes_nothing(client, city, crew):
    client.force_login(crew["official"])
    url = reverse("risks:warning_rules", args=[city.district.pk])
    response = client.post(url, {"kind": "report_rise", "report_rise-threshold": "5",
                                 "report_rise-window_days": "28", "report_rise-growth_percent": "0",
                                 "report_rise-enabled": "on"})
    assert response.status_code == 400 and not WarningRule.objects.exists()
    response = client.post(url, {"kind": "report_rise", "report_rise-threshold": "5",
                                 "report_rise-window_days": "28", "report_rise-growth_percent": "80",
                                 "report_rise-enabled": "on"})
    assert response.status_code == 302 and WarningRule.objects.get().growth_percent == 80


def test_street_staff_see_report_warnings_only_in_their_street(client, city, crew):
    reports(city, 5, at=NOW - DAY)
    reports(city, 5, at=NOW - DAY, building=city.building_b)
    assert raise_now() == 2
    mine = EarlyWarning.objects.get(rule=WarningRuleKind.REPORT_RISE, community=city.community_a)
    other = EarlyWarning.objects.get(rule=WarningRuleKind.REPORT_RISE, community=city.community_b)
    client.force_login(crew["street"])
    page = client.get(reverse("risks:warnings")).content.decode()
    assert reverse("risks:warning", args=[mine.pk]) in page
    assert reverse("risks:warning", args=[other.pk]) not in page
    detail = client.get(reverse("risks:warning", args=[mine.pk]))
    assert detail.status_code == 200 and mine.evidence["cases"][0] in detail.content.decode()
    assert client.get(reverse("risks:warning", args=[other.pk])).status_code == 404
    client.force_login(crew["street_b"])
    assert client.get(reverse("risks:warning", args=[other.pk])).status_code == 200
    assert client.get(reverse("risks:warning", args=[mine.pk])).status_code == 404


# --- key_person_visit -----------------------------------------------------------------------------

def key_person(city, *, registered, unit=None, name="李四"):
    marked = tag("community_correction")
    if not marked.key_person:  # a transactional test elsewhere may have flushed the migrated flag
        marked.key_person = True
        marked.save(update_fields=["key_person"])
    unit = unit or city.unit_a
    resident = resident_in(household_in(unit, number=f"{name}-1"), name=name, tags=[marked], now=registered)
    Resident.objects.filter(pk=resident.pk).update(created_at=registered)
    resident.refresh_from_db()
    return resident


def visit(resident, at, user):
    return resident_services.care_visit_log(resident=resident, notes="了解近况", visited_at=at, acting_user=user,
                                            now=at)


def test_a_key_person_not_visited_within_the_interval_raises_one_warning(city, crew):
    person = key_person(city, registered=NOW - 100 * DAY)
    visit(person, NOW - 31 * DAY, crew["worker"])  # default interval: 30 days
    assert raise_now() == 1
    warning = EarlyWarning.objects.get(rule=WarningRuleKind.KEY_PERSON_VISIT)
    assert warning.subject == f"resident:{person.pk}"
    assert (warning.grid_id, warning.community_id, warning.street_id, warning.building_id) == (
        city.grid_a.pk, city.community_a.pk, city.street_a.pk, city.building_a.pk)
    assert warning.evidence == {"resident": person.pk, "last_visit": (NOW - 31 * DAY).isoformat(),
                                "days_without_visit": 31, "interval_days": 30}
    assert "李四" not in warning.title + str(warning.evidence)  # named by id only
    assert raise_now() == 0 and raise_now(NOW + DAY) == 0
    # A visit, then a new lapse: new evidence, once the old warning is handled.
    warning_actions.warning_acknowledge(warning=warning, note="已安排走访", acting_user=crew["staff"], now=NOW)
    visit(person, NOW + DAY, crew["worker"])
    assert raise_now(NOW + 20 * DAY) == 0
    assert raise_now(NOW + 32 * DAY) == 1
    assert EarlyWarning.objects.filter(rule=WarningRuleKind.KEY_PERSON_VISIT).count() == 2


def test_visited_in_time_untagged_or_moved_out_raises_nothing(city, crew):
    visited = key_person(city, registered=NOW - 100 * DAY)
    visit(visited, NOW - 29 * DAY, crew["worker"])
    key_person(city, registered=NOW - 10 * DAY, name="王五")  # never visited, registered 10 days ago
    plain = resident_in(household_in(city.unit_a, number="501"), name="赵六", now=NOW - 100 * DAY)
    Resident.objects.filter(pk=plain.pk).update(created_at=NOW - 100 * DAY)
    gone = key_person(city, registered=NOW - 100 * DAY, name="钱七")
    resident_services.resident_move_out(resident=gone, on=(NOW - DAY).date(), acting_user=crew["worker"], now=NOW)
    assert raise_now() == 0


def test_a_key_person_never_visited_counts_from_registration(city, crew):
    person = key_person(city, registered=NOW - 30 * DAY)
    assert raise_now() == 1
    warning = EarlyWarning.objects.get(rule=WarningRuleKind.KEY_PERSON_VISIT)
    assert warning.evidence["last_visit"] is None and warning.evidence["days_without_visit"] == 30
    assert warning.evidence_key == f"key_person_visit:resident:{person.pk}:never"


def test_the_interval_is_a_setting_per_district_and_zero_is_refused(city, crew):
    person = key_person(city, registered=NOW - 100 * DAY)
    visit(person, NOW - 10 * DAY, crew["worker"])
    with pytest.raises(DomainError):
        warning_actions.warning_rule_set(district=city.district, kind=WarningRuleKind.KEY_PERSON_VISIT,
                                         threshold=0, window_days=1, acting_user=crew["official"], now=NOW)
    assert not WarningRule.objects.exists()
    assert raise_now() == 0
    warning_actions.warning_rule_set(district=city.district, kind=WarningRuleKind.KEY_PERSON_VISIT, threshold=7,
                                     window_days=1, acting_user=crew["official"], now=NOW)
    assert raise_now() == 1


def test_street_staff_see_key_person_warnings_only_in_their_street(client, city, crew):
    mine = key_person(city, registered=NOW - 100 * DAY)
    other = key_person(city, registered=NOW - 100 * DAY, unit=city.unit_b, name="孙八")
    assert raise_now() == 2
    mine_w = EarlyWarning.objects.get(subject=f"resident:{mine.pk}")
    other_w = EarlyWarning.objects.get(subject=f"resident:{other.pk}")
    assert other_w.street_id == city.street_b.pk
    client.force_login(crew["street"])
    page = client.get(reverse("risks:warnings")).content.decode()
    assert reverse("risks:warning", args=[mine_w.pk]) in page
    assert reverse("risks:warning", args=[other_w.pk]) not in page
    detail = client.get(reverse("risks:warning", args=[mine_w.pk])).content.decode()
    assert reverse("residents:resident", args=[mine.pk]) in detail
    assert client.get(reverse("risks:warning", args=[other_w.pk])).status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_raise_each_once(on_postgres, city, crew):
    import threading

    from django.db import connection

    reports(city, 5, at=NOW - DAY)
    key_person(city, registered=NOW - 100 * DAY)
    start, errors = threading.Barrier(2), []

    def run():
        try:
            start.wait(10)
            early_warning.warnings_raise(now=NOW)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert EarlyWarning.objects.filter(rule=WarningRuleKind.REPORT_RISE).count() == 1
    assert EarlyWarning.objects.filter(rule=WarningRuleKind.KEY_PERSON_VISIT).count() == 1
    assert raise_now() == 0
