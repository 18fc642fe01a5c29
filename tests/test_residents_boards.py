"""Notice boards (公示牌): residents/boards.py and the board views in residents/views_boards.py.

Every board URL is requested by a user with a post inside and for a building
or place outside their subtree (404, like a missing id). The QR code must
encode the absolute URL of the building's report form, and that URL must open
the form with the building filled in.
"""

import hashlib
import re

import pytest
import segno
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grid import services
from grid.models import Post, Role
from residents import boards

from .factories import user_with_post

NUMBERS = {"water": "96116", "power": "95598", "gas": "96777", "hotline": "12345"}


@pytest.fixture(autouse=True)
def service_numbers(settings):
    settings.NOTICE_BOARD_NUMBERS = NUMBERS


@pytest.fixture
def team(city):
    """The people on building_a's board, each with a distinct name and phone."""
    return {
        "worker": user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员甲", phone="13900000001"),
        "grid_chief": user_with_post(Role.GRID_CHIEF, city.grid_a, full_name="网格长乙", phone="13900000002"),
        "building_chief": user_with_post(Role.BUILDING_CHIEF, city.building_a, full_name="楼栋长丙",
                                         phone="13900000003"),
        "unit_chief": user_with_post(Role.UNIT_CHIEF, city.unit_a, full_name="单元长丁", phone="13900000004"),
    }


def board_url(building):
    return reverse("residents:board", args=[building.pk])


def boards_url(place):
    return reverse("residents:community_boards", args=[place.pk])


def report_url(building):
    return "http://testserver" + reverse("cases:report_building", args=[building.pk])


def qr_targets(response):
    return re.findall(r'data-qr-target="([^"]+)"', response.content.decode())


def sheet_ids(response):
    return [int(x) for x in re.findall(r'<article class="sheet"[^>]*data-building-id="(\d+)"', response.content.decode())]


# --- one building -------------------------------------------------------------------------

def test_board_shows_the_team_with_full_phones_and_the_service_numbers(client, city, team):
    client.force_login(team["worker"])
    response = client.get(board_url(city.building_a))
    assert response.status_code == 200
    html = response.content.decode()
    for name, phone in (("网格员甲", "13900000001"), ("网格长乙", "13900000002"), ("楼栋长丙", "13900000003"),
                        ("单元长丁", "13900000004")):
        assert name in html
        # Public contact numbers: printed in full, callable from a phone.
        assert f'href="tel:{phone}"' in html
    assert "1单元" in html  # the unit chief's unit
    for number in NUMBERS.values():
        assert number in html
    assert "幸福社区" in html and "幸福第一网格" in html and "城北街道" in html
    assert 'href="/static/css/notice_board.css"' in html


def test_board_leaves_out_ended_posts_and_other_buildings_chiefs(client, city, team):
    services.post_end(post=Post.objects.get(user=team["grid_chief"]))
    user_with_post(Role.BUILDING_CHIEF, city.building_a2, full_name="别楼楼长")
    client.force_login(team["worker"])
    html = client.get(board_url(city.building_a)).content.decode()
    assert "网格长乙" not in html and "13900000002" not in html
    assert "别楼楼长" not in html
    assert "网格员甲" in html


def test_board_says_vacant_when_nobody_holds_a_post(client, city, make_user):
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_b))
    response = client.get(board_url(city.building_b))
    assert response.status_code == 200
    assert response.content.decode().count("contact-vacant") == 3  # worker, grid chief, building chief


def test_qr_code_encodes_the_absolute_report_url_of_this_building(client, city, team):
    client.force_login(team["building_chief"])
    response = client.get(board_url(city.building_a))
    expected = report_url(city.building_a)
    assert qr_targets(response) == [expected]
    html = response.content.decode()
    svg = re.search(r"<svg\b.*?</svg>", html, flags=re.S).group(0)
    # segno is deterministic: the same data gives the same symbol, another URL a different one.
    assert svg == boards.qr_code(expected).svg_inline(scale=1, border=4, omitsize=True, svgclass="qr",
                                                       lineclass="qr-modules")
    assert svg != str(boards.qr_svg(report_url(city.building_b)))
    assert boards.qr_code(expected).matrix == segno.make(expected, error="m", micro=False).matrix
    # CSP: no inline style in the SVG markup (presentation attributes only).
    assert "style=" not in svg


def test_the_qr_target_opens_the_report_form_with_the_building_filled_in(client, city, team):
    client.force_login(team["worker"])
    target = qr_targets(client.get(board_url(city.building_a)))[0]
    client.logout()  # a resident scanning the board is not signed in
    response = client.get(target.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response.context["building"].pk == city.building_a.pk
    assert "place-fixed" in response.content.decode()


@pytest.mark.parametrize("role,place_name", [
    (Role.GRID_WORKER, "grid_a"),
    (Role.GRID_CHIEF, "grid_a"),
    (Role.BUILDING_CHIEF, "building_a"),
    (Role.UNIT_CHIEF, "unit_a"),
    (Role.COMMUNITY_STAFF, "community_a"),
    (Role.STREET_STAFF, "street_a"),
])
def test_who_reaches_the_building_may_print_its_board_others_get_404(client, city, make_user, role, place_name):
    client.force_login(make_user(role, getattr(city, place_name)))
    assert client.get(board_url(city.building_a)).status_code == 200
    assert client.get(board_url(city.building_b)).status_code == 404
    assert client.get(reverse("residents:board", args=[999_999])).status_code == 404


def test_a_district_official_reaches_every_building_of_the_district(client, city, make_user):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.other_district))
    assert client.get(board_url(city.building_b)).status_code == 404
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    assert client.get(board_url(city.building_b)).status_code == 200


def test_board_needs_sign_in(client, city):
    response = client.get(board_url(city.building_a))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_board_is_get_only(client, city, make_user):
    client.force_login(make_user(Role.GRID_WORKER, city.grid_a))
    assert client.post(board_url(city.building_a)).status_code == 405


# --- a whole community ---------------------------------------------------------------------

def test_community_boards_print_every_building_of_the_community_once(client, city, make_user):
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a))
    response = client.get(boards_url(city.community_a))
    assert response.status_code == 200
    assert sorted(sheet_ids(response)) == sorted([city.building_a.pk, city.building_a2.pk])
    assert sorted(qr_targets(response)) == sorted([report_url(city.building_a), report_url(city.building_a2)])
    assert response.content.decode().count("<svg") == 2


def test_community_boards_outside_the_scope_are_404(client, city, make_user):
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a))
    assert client.get(boards_url(city.community_b)).status_code == 404
    assert client.get(boards_url(city.grid_b)).status_code == 404


def test_a_grid_workers_print_covers_their_grid_not_the_community(client, city, make_user):
    client.force_login(make_user(Role.GRID_WORKER, city.grid_a))
    response = client.get(boards_url(city.grid_a))
    assert response.status_code == 200
    assert sheet_ids(response) == [city.building_a.pk]
    assert client.get(boards_url(city.community_a)).status_code == 404
    assert client.get(boards_url(city.grid_a2)).status_code == 404


def test_a_worker_who_is_also_a_unit_chief_elsewhere_prints_their_grid(client, city, make_user):
    # The unit post makes buildings_visible_to a DISTINCT query; ordering by expressions must still work.
    worker = make_user(Role.GRID_WORKER, city.grid_a)
    services.post_grant(user=worker, role=Role.UNIT_CHIEF, place=city.unit_b)
    client.force_login(worker)
    response = client.get(boards_url(city.grid_a))
    assert response.status_code == 200 and sheet_ids(response) == [city.building_a.pk]
    assert client.get(board_url(city.building_b)).status_code == 200  # the unit's building
    assert client.get(boards_url(city.grid_b)).status_code == 404  # but not the grid around it


def test_boards_are_printed_per_community_or_grid_not_per_street(client, city, make_user):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    assert client.get(boards_url(city.street_a)).status_code == 404
    assert client.get(boards_url(city.district)).status_code == 404
    assert client.get(boards_url(city.community_b)).status_code == 200


def test_a_chief_cannot_print_the_whole_community(client, city, make_user):
    client.force_login(make_user(Role.BUILDING_CHIEF, city.building_a))
    assert client.get(boards_url(city.community_a)).status_code == 404


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_community_print_query_count_does_not_grow_with_buildings(client, city, make_user,
                                                                    django_assert_max_num_queries):
    staff = make_user(Role.COMMUNITY_STAFF, city.community_a)
    user_with_post(Role.GRID_WORKER, city.grid_a)
    user_with_post(Role.GRID_CHIEF, city.grid_a2)
    client.force_login(staff)
    url = boards_url(city.community_a)
    before = _count_queries(client, url)
    for n in range(2, 14):
        building = services.building_add(grid=city.grid_a if n % 2 else city.grid_a2, number=f"{n}号楼")
        user_with_post(Role.BUILDING_CHIEF, building)
        for k in (1, 2):
            unit = services.unit_add(building=building, number=f"{k}单元")
            user_with_post(Role.UNIT_CHIEF, unit)
    after = _count_queries(client, url)
    assert after == before
    with django_assert_max_num_queries(10):  # session, user, scope, place, buildings, posts, household stars, the navigation's badges (one statement)
        response = client.get(url)
    assert len(sheet_ids(response)) == 14
    # Every one of the 13 new buildings shows its own chief's unit chiefs (two each).
    assert response.content.decode().count("contact-role") >= 14 * 3


def test_board_names_the_compound_and_who_manages_it(client, city, team):
    """#23: compounds on the notice boards. A managed compound's 物业 with its phone (and its
    业委会); a compound without one says the community looks after it; a building outside any
    compound shows neither."""
    from grid import services_compounds

    from .factories import make_organisation

    wuye = make_organisation(seat=city.community_a, kind="property", function="property", name="安居物业")
    committee = make_organisation(seat=city.community_a, kind="owners", function="owners", name="阳光名苑业委会")
    sunshine = services_compounds.compound_add(community=city.community_a, name="阳光名苑", property_company=wuye,
                                               owners_committee=committee)
    services_compounds.building_set_compound(building=city.building_a, compound=sunshine)
    old = services_compounds.compound_add(community=city.community_b, name="老纺织厂宿舍")
    services_compounds.building_set_compound(building=city.building_b, compound=old)
    client.force_login(team["worker"])
    html = client.get(board_url(city.building_a)).content.decode()
    assert "阳光名苑" in html and "安居物业" in html and f'href="tel:{wuye.phone}"' in html
    assert "阳光名苑业委会" in html
    outside = user_with_post(Role.COMMUNITY_STAFF, city.community_b)
    client.force_login(outside)
    html = client.get(board_url(city.building_b)).content.decode()
    assert "老纺织厂宿舍" in html and "无物业：本小区由社区代管" in html
    client.force_login(user_with_post(Role.COMMUNITY_STAFF, city.community_a))
    html = client.get(board_url(city.building_a2)).content.decode()
    assert "阳光名苑" not in html and "无物业" not in html


def test_boards_for_reads_a_fixed_number_of_queries(rf, city, team, django_assert_num_queries):
    from grid.models import Building

    from grid import services_compounds

    compound = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    services_compounds.building_set_compound(building=city.building_a, compound=compound)
    request = rf.get("/")
    with django_assert_num_queries(2):  # the compound and its 物业 come with the buildings
        found = boards.boards_for(Building.objects.filter(pk__in=[city.building_a.pk, city.building_b.pk])
                                  .order_by("pk"), request=request)
    assert [b.building.pk for b in found] == [city.building_a.pk, city.building_b.pk]
    a, b = found
    assert [c.name for c in a.workers] == ["网格员甲"]
    assert [(c.name, c.where) for c in a.unit_chiefs] == [("单元长丁", "1单元")]
    assert a.report_url == report_url(city.building_a)
    assert b.workers == [] and not b.has_chiefs
    assert (a.compound_name, a.unmanaged, b.compound_name) == ("阳光名苑", True, "")
    assert [n for _, n in a.numbers] == list(NUMBERS.values())


def test_service_numbers_follow_the_settings(settings, rf, city):
    from grid.models import Building

    settings.NOTICE_BOARD_NUMBERS = {"water": "0816-1234567", "gas": ""}
    (board,) = boards.boards_for(Building.objects.filter(pk=city.building_a.pk), request=rf.get("/"))
    assert [n for _, n in board.numbers] == ["0816-1234567"]


def test_print_stylesheet_sets_a4_one_board_per_page():
    from django.contrib.staticfiles import finders

    css = open(finders.find("css/notice_board.css"), encoding="utf-8").read()
    assert re.search(r"@page\s*\{[^}]*size:\s*A4", css)
    assert "break-after: page" in css and "page-break-after: always" in css
    assert re.search(r"@media print\s*\{[^@]*\.site-header[^{]*\{\s*display:\s*none", css)


def test_qr_codes_are_made_once_and_shared_through_the_cache(rf, city):
    from django.core.cache import cache

    from grid.models import Building

    cache.clear()
    url = report_url(city.building_a)
    (board,) = boards.boards_for(Building.objects.filter(pk=city.building_a.pk), request=rf.get("/"))
    assert str(board.qr_svg) == str(boards.qr_svg(url))
    assert boards.qr_svgs([url])[url] == str(board.qr_svg)
    # What another process stored is used as it is (the markup depends on the URL alone).
    key = "residents:qr:" + hashlib.sha256(url.encode()).hexdigest()
    assert cache.get(key) == str(board.qr_svg)
    cache.set(key, "<svg>stored</svg>")
    (board,) = boards.boards_for(Building.objects.filter(pk=city.building_a.pk), request=rf.get("/"))
    assert str(board.qr_svg) == "<svg>stored</svg>"
    cache.clear()


def test_place_and_building_pages_link_to_the_boards_and_grid_health(client, city):
    from django.urls import reverse

    from grid.models import Role

    from .factories import user_with_post

    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    chief = user_with_post(Role.BUILDING_CHIEF, city.building_a)
    client.force_login(staff)
    page = client.get(reverse("place", args=[city.community_a.pk])).content.decode()
    assert reverse("residents:community_boards", args=[city.community_a.pk]) in page
    assert reverse("residents:health", args=[city.community_a.pk]) in page
    building_page = client.get(reverse("building", args=[city.building_a.pk])).content.decode()
    assert reverse("residents:board", args=[city.building_a.pk]) in building_page
    client.force_login(chief)  # a chief prints their building's board, but grid health is not theirs
    assert reverse("residents:board", args=[city.building_a.pk]) in client.get(
        reverse("building", args=[city.building_a.pk])).content.decode()
