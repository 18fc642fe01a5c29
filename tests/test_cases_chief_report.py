"""三长 (building and unit chiefs) report what they see (issue #21): their own building or unit
only; bad input writes nothing; the menu offers this form, not the patrol report."""

import pytest
import time_machine
from django.urls import reverse

from cases.models import Case, Channel, Status
from grid.models import Role

from .cases_factories import MONDAY, category, fresh_calendar, people  # noqa: F401

URL = reverse("cases:chief_report")


@pytest.fixture(autouse=True)
def categories(db):
    category("E0101")  # the migrated categories, reloaded if a transactional test flushed them


@pytest.fixture
def chief(people):
    return people.building_chief  # building chief of city.building_a


@pytest.fixture
def signed_in(client, chief):
    client.force_login(chief)
    with time_machine.travel(MONDAY, tick=False):
        yield client


def test_the_form_offers_only_my_building_and_its_units(signed_in, city):
    page = signed_in.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="b{city.building_a.pk}"' in html and f'value="u{city.unit_a.pk}"' in html
    assert f'value="b{city.building_b.pk}"' not in html and f'value="u{city.unit_b.pk}"' not in html
    # The menu offers the chief's form, not the grid worker's patrol report.
    assert reverse("cases:chief_report") in html and reverse("cases:patrol") not in html


def test_a_report_goes_to_the_community_under_the_chiefs_name(signed_in, city, chief):
    response = signed_in.post(URL, {"category": "E0101", "place": f"u{city.unit_a.pk}",
                                    "description": "3楼楼道堆放杂物，堵住了消防通道"})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:track", args=[case.tracking_code])
    assert (case.channel, case.status, case.reporter, case.building, case.unit) == (
        Channel.WEB, Status.REPORTED, chief, city.building_a, city.unit_a)
    assert case.community == city.community_a and case.created_at == MONDAY


@pytest.mark.parametrize("data", [
    {"category": "E0101", "place": "", "description": "楼道堆物"},                      # no place
    {"category": "E0101", "place": "b{other}", "description": "楼道堆物"},             # not my building
    {"category": "E0101", "place": "u{other_unit}", "description": "楼道堆物"},        # not my unit
    {"category": "E0101", "place": "b{mine}", "description": "   "},                  # nothing said
    {"category": "NOPE", "place": "b{mine}", "description": "楼道堆物"},                # no such category
    {"category": "E0101", "place": "x1", "description": "楼道堆物"},                   # garbage
])
def test_bad_input_writes_nothing(signed_in, city, data):
    values = {"mine": city.building_a.pk, "other": city.building_b.pk, "other_unit": city.unit_b.pk}
    data = {k: v.format(**values) for k, v in data.items()}
    response = signed_in.post(URL, data)
    assert response.status_code == 400
    assert 'class="form-errors"' in response.content.decode()
    assert not Case.objects.exists()


def test_someone_without_a_chief_post_is_refused_kindly(client, people, city):
    client.force_login(people.worker)
    with time_machine.travel(MONDAY, tick=False):
        page = client.get(URL)
        assert page.status_code == 200 and "<form method=\"post\" enctype" not in page.content.decode()
        assert client.post(URL, {"category": "E0101", "place": f"b{city.building_a.pk}",
                                 "description": "楼道堆物"}).status_code == 403
    assert not Case.objects.exists()


def test_a_unit_chief_reports_for_her_unit_only(client, city, make_user):
    unit_chief = make_user(Role.UNIT_CHIEF, city.unit_b, username="unit_chief_b")
    client.force_login(unit_chief)
    with time_machine.travel(MONDAY, tick=False):
        html = client.get(URL).content.decode()
        assert f'value="u{city.unit_b.pk}"' in html and f'value="b{city.building_b.pk}"' not in html
        assert client.post(URL, {"category": "E0101", "place": f"u{city.unit_a.pk}",
                                 "description": "楼道堆物"}).status_code == 400
        assert client.post(URL, {"category": "E0101", "place": f"u{city.unit_b.pk}",
                                 "description": "楼道灯坏了"}).status_code == 302
    assert Case.objects.get().unit == city.unit_b


def test_sign_in_needed(client, db):
    assert client.get(URL).status_code == 302
