"""The residents admin list opens on those living here (实有人口): the deceased and moved-out sort
first by status and used to fill its first page. Other statuses, all, and any search stay at hand."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from grid.models import Role
from residents import services
from residents.models import ResidentStatus

from .residents_factories import household_in, resident_in, worker_of

pytestmark = pytest.mark.django_db
URL = "admin:residents_resident_changelist"


@pytest.fixture
def people(city, make_user):
    household = household_in(city.unit_a)
    living = resident_in(household, "王在住")
    moved = resident_in(household, "李迁出")
    deceased = resident_in(household, "赵已故")
    worker = worker_of(city.grid_a)
    services.resident_move_out(resident=moved, on=datetime.date(2026, 1, 5), acting_user=worker)
    services.resident_decease(resident=deceased, on=datetime.date(2026, 2, 5), acting_user=worker)
    outside = resident_in(household_in(city.unit_b), "钱外社区")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a))
    return {"living": living, "moved": moved, "deceased": deceased, "outside": outside, "client": client}


def names(people, **query):
    response = people["client"].get(reverse(URL), query)
    assert response.status_code == 200
    return {r.name for r in response.context["cl"].result_list}


def test_the_list_opens_on_the_living_of_the_users_places(people):
    assert names(people) == {"王在住"}


@pytest.mark.parametrize("status, expected", [
    ("moved_out", {"李迁出"}), ("deceased", {"赵已故"}), ("living", {"王在住"}),
    ("all", {"王在住", "李迁出", "赵已故"}),  # never the resident of another community
])
def test_another_status_or_all_is_one_click_away(people, status, expected):
    assert names(people, status=status) == expected


def selected_choices(html):
    """The chosen entries of the status filter, as the admin's sidebar renders it."""
    (block,) = re.findall(r'<details data-filter-title="状态"[^>]*>(.*?)</details>', html, re.S)
    return re.findall(r'<li class="selected">\s*<a [^>]*>([^<]*)</a>', block)


def test_the_filter_offers_all_and_marks_living_as_chosen(people):
    with translation.override("zh-hans"):
        living, everyone = str(ResidentStatus.LIVING.label), _("All")
    html = people["client"].get(reverse(URL)).content.decode()
    assert "?status=all" in html and "?status=deceased" in html
    assert selected_choices(html) == [living]
    searched = people["client"].get(reverse(URL), {"q": "李"}).content.decode()
    assert selected_choices(searched) == [everyone]


def test_a_search_finds_a_person_whatever_their_status(people):
    assert names(people, q="李迁出") == {"李迁出"}
    assert names(people, q="钱外社区") == set()  # another community's resident stays out of reach
    assert names(people, q="李迁出", status="living") == set()


def test_an_unknown_status_is_no_500(people):
    response = people["client"].get(reverse(URL), {"status": "bogus"})
    assert response.status_code == 302 and "e=1" in response["Location"]
