"""Finding a building without knowing the tree (grid/search.py, grid/views_location.py,
cases/views_location.py, volunteers/public_location.py; issue #21).

The resident searches by name, address or community, or sends her position, which
is snapped to the nearest buildings within geo.NEAREST_BUILDING_M; she then reports
at the chosen building and the grid follows from it. Bad input answers a clear
message, never a 500; inactive places are never offered.
"""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cases import services_intake
from cases.models import Case, Channel
from grid import geo, search
from grid.models import Area, Building
from portal.errors import DomainError

from .cases_factories import fresh_calendar  # noqa: F401

# Building 1号楼 of 幸福第一网格 stands here; 5号楼 (幸福第二网格) about 110 m north-east.
HOME = (Decimal("31.460000"), Decimal("104.680000"))
NEIGHBOUR = (Decimal("31.460800"), Decimal("104.680700"))
FAR = (Decimal("31.500000"), Decimal("104.720000"))  # some 5.8 km away
WHERE = reverse("cases:report_where")


@pytest.fixture
def client():
    """Pages in English, whatever the Chinese catalogue says: the tests read the English msgids."""
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    """Messages in English (the msgids the tests read); rate-limit counters start at zero."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    with translation.override("en"):
        yield
    cache.clear()


@pytest.fixture
def placed(city):
    """The city with positions and a name on its buildings (set as an import would)."""
    Building.objects.filter(pk=city.building_a.pk).update(latitude=HOME[0], longitude=HOME[1], name="阳光花园")
    Building.objects.filter(pk=city.building_a2.pk).update(latitude=NEIGHBOUR[0], longitude=NEIGHBOUR[1])
    Building.objects.filter(pk=city.building_b.pk).update(latitude=FAR[0], longitude=FAR[1])
    Area.objects.filter(pk=city.grid_a.pk).update(boundary={"type": "Polygon", "coordinates": [[
        [104.679, 31.459], [104.681, 31.459], [104.681, 31.461], [104.679, 31.461], [104.679, 31.459]]]})
    return city


def found(hits):
    return [hit.building.pk for hit in hits]


def text_of(response):
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- search --------------------------------------------------------------------------------

def test_search_finds_a_building_by_name_by_address_and_by_its_places(placed):
    city = placed
    assert found(search.search_buildings("阳光花园")) == [city.building_a.pk]
    assert found(search.search_buildings("  和平路9号 ")) == [city.building_b.pk]
    assert found(search.search_buildings("幸福路5")) == [city.building_a2.pk]
    # Community and grid names reach their buildings; every word must match.
    assert found(search.search_buildings("幸福社区")) == [city.building_a.pk, city.building_a2.pk]
    assert found(search.search_buildings("幸福第二网格")) == [city.building_a2.pk]
    assert found(search.search_buildings("幸福社区 5号楼")) == [city.building_a2.pk]
    assert search.search_buildings("幸福社区 和平路") == []
    hit = search.search_buildings("阳光花园")[0]
    assert hit.path == ("城北街道", "幸福社区", "幸福第一网格")


def test_a_short_word_matches_the_start_of_a_name_or_address(placed):
    """Under three characters a word holds no trigram for the index: it must start the field."""
    city = placed
    assert found(search.search_buildings("阳光")) == [city.building_a.pk]
    assert found(search.search_buildings("和平 9号")) == [city.building_b.pk]
    assert search.search_buildings("福路") == []
    assert found(search.search_buildings("福路1")) == [city.building_a.pk]


def test_search_leaves_out_inactive_places(placed):
    city = placed
    # A grid taken out of use (as a merge leaves its source), set directly for the test.
    Area.objects.filter(pk=city.grid_a2.pk).update(is_active=False)
    assert found(search.search_buildings("幸福")) == [city.building_a.pk]
    assert search.search_buildings("幸福路5号") == []
    assert search.search_buildings("幸福第二网格") == []
    near = search.buildings_near(*NEIGHBOUR)
    assert found(near) == [city.building_a.pk]


def test_search_reads_a_fixed_number_of_queries(placed, django_assert_max_num_queries):
    # Places named like the word, their grids, compounds named like it, then the buildings.
    with django_assert_max_num_queries(4):
        hits = search.search_buildings("幸福")
        assert [hit.path for hit in hits]


def test_a_building_in_a_compound_is_labelled_as_residents_name_it(placed, django_assert_max_num_queries):
    """The list said "2号楼（幸福路2号）" for a search of "阳光名苑2号楼": the compound's name
    comes first now, read with the buildings (no query per hit)."""
    from grid import services_compounds

    city = placed
    sunshine = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    services_compounds.building_set_compound(building=city.building_a, compound=sunshine)
    with django_assert_max_num_queries(4):
        (hit,) = search.search_buildings("阳光名苑")
        assert hit.label.startswith("阳光名苑 ") and str(city.building_a.number) in hit.label
    others = [h for h in search.search_buildings("幸福") if h.building.pk != city.building_a.pk]
    assert others and not any("阳光名苑" in h.label for h in others)


@pytest.mark.parametrize("query, reason", [
    ("", "Type a building"),
    ("   ", "Type a building"),
    ("幸", "at least 2"),
    ("路" * 61, "at most 60"),
    ("幸福\x00路", "cannot be searched"),
    ("幸福\n路5号", None),  # a line break is only white space
])
def test_search_refuses_input_it_cannot_search(placed, query, reason):
    if reason is None:
        assert found(search.search_buildings(query)) == found(search.search_buildings("幸福 路5号")) != []
        return
    with pytest.raises(DomainError, match=reason) as refusal:
        search.search_buildings(query)
    assert refusal.value.code == "bad_query"


@pytest.mark.parametrize("query", ["' OR 1=1 --", "%%", "_%_", "幸福%' ; DROP TABLE grid_building; --", "\\\\"])
def test_sql_like_input_is_plain_text(placed, query):
    assert search.search_buildings(query) == []
    assert Building.objects.count() == 3


# --- snapping -------------------------------------------------------------------------------

def test_a_position_snaps_to_the_nearest_buildings_within_the_distance(placed):
    city = placed
    hits = search.buildings_near("31.46001", "104.68001")
    assert found(hits) == [city.building_a.pk, city.building_a2.pk]
    assert hits[0].distance_m < 5 and 100 < hits[1].distance_m < geo.NEAREST_BUILDING_M


def test_a_position_beyond_the_distance_is_refused(placed):
    # 400 m south of 1号楼: nothing within 300 m.
    with pytest.raises(DomainError) as refusal:
        search.buildings_near(HOME[0] - Decimal("0.0036"), HOME[1])
    assert refusal.value.code == "too_far"
    assert search.buildings_near(HOME[0] - Decimal("0.0036"), HOME[1], within_m=500)


@pytest.mark.parametrize("lat, lon", [
    ("", ""), ("31.46", ""), (None, "104.68"), ("abc", "104.68"), ("31.46", "东经104"), ("NaN", "104.68"),
    ("Infinity", "104.68"), ("91", "104.68"), ("31.46", "-180.5"), ("1e400", "0"), ("3" * 30, "104"),
    ("31.46; DROP TABLE grid_building", "104.68"),
])
def test_bad_coordinates_are_refused(placed, lat, lon):
    with pytest.raises(DomainError) as refusal:
        search.buildings_near(lat, lon)
    assert refusal.value.code == "bad_location"


# --- the page -------------------------------------------------------------------------------

def test_the_page_works_without_javascript(client, placed):
    city = placed
    page = client.get(WHERE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="q"' in html and "js/where.js" in html and "<script>" not in html
    assert 'name="street"' not in html and 'name="grid"' not in html  # nobody asks for the grid

    page = client.get(WHERE, {"q": "幸福路1号"})
    assert page.status_code == 200
    text = text_of(page)
    assert "1号楼（幸福路1号）" in text and "城北街道 › 幸福社区 › 幸福第一网格" in text
    assert reverse("cases:report_at", args=[city.building_a.pk]) in page.content.decode()
    assert 'id="where-layers"' in page.content.decode()  # the map's data, for the script


def test_the_page_lists_the_buildings_near_a_position(client, placed):
    city = placed
    page = client.get(WHERE, {"lat": "31.460010", "lon": "104.680010"})
    assert page.status_code == 200
    html = page.content.decode()
    first, second = (reverse("cases:report_at", args=[b.pk]) for b in (city.building_a, city.building_a2))
    assert first in html and second in html and html.index(first) < html.index(second)
    assert "1 m away" in text_of(page)


@pytest.mark.parametrize("params, status, message", [
    ({"q": ""}, 400, "Type a building"),
    ({"q": "x" * 500}, 400, "at most 60"),
    ({"q": "' OR 1=1 --"}, 200, "No building matches"),
    ({"lat": "abc", "lon": "104.68"}, 400, "decimal degrees"),
    ({"lat": "31.46"}, 400, "decimal degrees"),
    ({"lat": "95", "lon": "104.68"}, 400, "not on Earth"),
    ({"lat": "31.40", "lon": "104.68"}, 200, "No building we serve is within 300 metres"),
])
def test_the_page_answers_bad_input_with_a_clear_message(client, placed, params, status, message):
    page = client.get(WHERE, params)
    assert page.status_code == status
    assert message in text_of(page)
    assert "report/at/" not in page.content.decode()


def test_the_page_answers_get_only(client, placed):
    assert client.post(WHERE, {"q": "幸福"}).status_code == 405


def test_searches_are_rate_limited(client, placed, settings):
    settings.PLACE_SEARCH_RATE = (2, 600)
    assert client.get(WHERE, {"q": "幸福"}).status_code == 200
    assert client.get(WHERE, {"q": "幸福"}).status_code == 200
    page = client.get(WHERE, {"q": "幸福"})
    assert page.status_code == 429 and "Too many searches" in text_of(page)


def test_the_order_form_has_the_same_step(client, placed):
    city = placed
    page = client.get(reverse("volunteers:order_where"), {"q": "和平路"})
    assert page.status_code == 200
    assert reverse("volunteers:order_place_building", args=[city.building_b.pk]) in page.content.decode()
    assert reverse("volunteers:order_where") in client.get(reverse("volunteers:order_place")).content.decode()


# --- reporting at the chosen building ---------------------------------------------------------

def test_a_report_at_the_chosen_building_is_a_web_case_on_its_grid(client, placed):
    city = placed
    url = reverse("cases:report_at", args=[city.building_a2.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "城北街道 › 幸福社区 › 幸福第二网格 › 5号楼" in text_of(page)
    assert 'name="grid"' not in page.content.decode()
    assert reverse("cases:report_where") in page.content.decode()  # "not here?" goes back to the step

    response = client.post(url, {"category": "E0101", "description": "楼下垃圾桶满了"})
    services_intake.intake_register_pending()
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == Channel.WEB
    assert case.building == city.building_a2 and case.grid_id == city.grid_a2.pk
    assert case.community_id == city.community_a.pk and case.street_id == city.street_a.pk


def test_reporting_at_an_inactive_or_unknown_building_is_a_friendly_404(client, placed):
    city = placed
    Area.objects.filter(pk=city.grid_a2.pk).update(is_active=False)
    assert client.get(reverse("cases:report_at", args=[city.building_a2.pk])).status_code == 404
    assert client.get(reverse("cases:report_at", args=[999999])).status_code == 404
    response = client.post(reverse("cases:report_at", args=[city.building_a2.pk]),
                           {"category": "E0101", "description": "楼下垃圾桶满了"})
    assert response.status_code == 404 and not Case.objects.exists()


def test_the_report_form_leads_to_the_location_step(client, placed):
    html = client.get(reverse("cases:report")).content.decode()
    assert reverse("cases:report_where") in html
    assert 'name="street"' in html  # the lists stay for those who know their grid


@pytest.mark.postgres
@pytest.mark.parametrize("query", ["阳光花园", "阳光"])  # a substring, and a short word's prefix
def test_the_search_can_use_the_trigram_index_on_postgres(placed, query):
    """The index is on the expressions Django's lookups compare (UPPER(col::text)): with
    scans that read every row turned off, the planner answers a word's condition through it."""
    with connection.cursor() as cursor:  # SET LOCAL: until the test's transaction ends
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = Building.objects.filter(search._term_condition(query)).explain()
    assert "building_search_trgm" in plan, plan
