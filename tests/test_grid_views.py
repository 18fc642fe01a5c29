"""grid/views.py: home per audience, place and building pages, sign-in.

Every scoped URL is requested by a user with a post inside and for an object
outside their subtree: inside answers 200 with the content, outside 404 like a
missing id. List pages assert their query count stays flat as the lists grow.
"""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from grid import services
from grid.models import AreaKind, Role
from grid.views import KIND_PLURAL, mask_phone

from .factories import UserFactory

PHONE = "13812345678"
MASKED = "138****5678"


def label(text):
    """A lazy label as the page renders it in the default language."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def page_text(response):
    """The visible text of a page, tags stripped and whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" › ", "›").replace("› ", "›")


def crumbs_text(response):
    """The breadcrumb's steps joined by › (the page draws the separators in CSS)."""
    nav = re.search(r'<nav class="crumbs".*?</nav>', response.content.decode(), flags=re.S).group(0)
    return "›".join(re.findall(r"<(?:a|span)\b[^>]*>([^<]+)</(?:a|span)>", nav))


def place_url(area):
    return reverse("place", args=[area.pk])


def building_url(building):
    return reverse("building", args=[building.pk])


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def people(city, make_user):
    """One person per role, each posted inside district A (城关区)."""
    return {
        "official": make_user(Role.DISTRICT_OFFICIAL, city.district, full_name="区领导甲"),
        "street": make_user(Role.STREET_STAFF, city.street_a, full_name="街道干部乙"),
        "community": make_user(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部丙"),
        "worker": make_user(Role.GRID_WORKER, city.grid_a, full_name="网格员丁", phone=PHONE),
        "grid_chief": make_user(Role.GRID_CHIEF, city.grid_a, full_name="网格长戊"),
        "building_chief": make_user(Role.BUILDING_CHIEF, city.building_a, full_name="楼栋长己"),
        "unit_chief": make_user(Role.UNIT_CHIEF, city.unit_a, full_name="单元长庚"),
    }


# --- helpers -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "shown"),
    [(PHONE, MASKED), ("0816-2345678", "081****5678"), ("12345", "****45"), ("", ""), ("12", "****")],
)
def test_mask_phone_hides_the_middle(raw, shown):
    assert mask_phone(raw) == shown


# --- anonymous, sign-in, sign-out -------------------------------------------

@pytest.mark.django_db
def test_anonymous_home_is_the_public_landing_page(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{settings.LANGUAGE_CODE}">' in html
    assert 'class="layout-public"' in html
    # Residents reach the report form and the tracking lookup from the landing page.
    for slot, url in (("report-a-matter", reverse("cases:report")), ("track-a-matter", reverse("cases:track_lookup"))):
        assert f'id="{slot}"' in html
        assert f'href="{url}"' in html
    assert reverse("login") in html


@pytest.mark.parametrize("name", ["place", "building"])
def test_anonymous_is_sent_to_sign_in(client, city, name):
    target = city.grid_a if name == "place" else city.building_a
    url = reverse(name, args=[target.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_sign_in_and_out(client, people):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()

    response = client.post(reverse("login"), {"username": people["worker"].username, "password": "pw-Portal-2026"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert "网格员丁" in page_text(client.get(reverse("home")))

    # Signed in, the sign-in page sends you home instead of asking again.
    assert client.get(reverse("login"))["Location"] == reverse("home")

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(place_url(people["worker"].posts.get().area)).status_code == 302


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, people):
    response = client.post(reverse("login"), {"username": people["worker"].username, "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_post_only(login, people):
    client = login(people["worker"])
    assert client.get(reverse("logout")).status_code == 405


def test_language_switcher_changes_the_page_language(login, people):
    client = login(people["worker"])
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get(reverse("home")).content.decode()


# --- home per role -----------------------------------------------------------

@pytest.mark.parametrize(
    ("who", "role", "path"),
    [
        ("official", Role.DISTRICT_OFFICIAL, "城关区"),
        ("street", Role.STREET_STAFF, "城关区›城北街道"),
        ("community", Role.COMMUNITY_STAFF, "城关区›城北街道›幸福社区"),
        ("worker", Role.GRID_WORKER, "城关区›城北街道›幸福社区›幸福第一网格"),
        ("grid_chief", Role.GRID_CHIEF, "城关区›城北街道›幸福社区›幸福第一网格"),
        ("building_chief", Role.BUILDING_CHIEF, "城关区›城北街道›幸福社区›幸福第一网格›1号楼"),
        ("unit_chief", Role.UNIT_CHIEF, "城关区›城北街道›幸福社区›幸福第一网格›1号楼›1单元"),
    ],
)
def test_home_shows_who_you_are_and_your_posts(login, people, who, role, path):
    user = people[who]
    response = login(user).get(reverse("home"))
    assert response.status_code == 200
    text = page_text(response)
    assert user.full_name in text
    assert f"{label(role.label)} {path}" in text
    other_roles = {r for r in Role if r != role and label(r.label) not in label(role.label)}
    assert not any(f"{label(r.label)} 城关区" in text for r in other_roles)


@pytest.mark.parametrize(
    ("who", "layout"),
    [("official", "official"), ("street", "staff"), ("community", "staff"), ("worker", "worker"),
     ("building_chief", "worker"), ("unit_chief", "worker")],
)
def test_each_audience_gets_its_layout(login, people, who, layout):
    html = login(people[who]).get(reverse("home")).content.decode()
    assert f'class="layout-{layout}"' in html
    assert (reverse("admin:index") in html) == (layout in {"official", "staff"})


def test_home_links_only_places_the_user_may_open(login, city, people):
    html = login(people["worker"]).get(reverse("home")).content.decode()
    assert f'href="{place_url(city.grid_a)}"' in html
    for above in (city.district, city.street_a, city.community_a):
        assert f'href="{place_url(above)}"' not in html

    html = login(people["building_chief"]).get(reverse("home")).content.decode()
    assert f'href="{building_url(city.building_a)}"' in html
    assert f'href="{place_url(city.grid_a)}"' not in html


def test_home_shows_reach_and_top_places(login, city, people):
    text = page_text(login(people["community"]).get(reverse("home")))
    assert "幸福社区" in text
    # The community, its two grids, one building each, one unit.
    assert f"{label(KIND_PLURAL[AreaKind.GRID])} 2" in text
    assert f"{label(KIND_PLURAL[AreaKind.COMMUNITY])} 1" in text
    assert "和平社区" not in text


def test_home_for_an_administrator_reaches_every_district(login, city):
    admin = UserFactory(is_superuser=True, is_staff=True)
    response = login(admin).get(reverse("home"))
    html = response.content.decode()
    assert f'href="{place_url(city.district)}"' in html
    assert f'href="{place_url(city.other_district)}"' in html
    assert 'class="layout-staff"' in html


def test_home_never_shows_the_full_phone(login, people):
    response = login(people["worker"]).get(reverse("home"))
    html = response.content.decode()
    assert MASKED in html
    assert PHONE not in html


def test_home_queries_do_not_grow_with_posts(login, city, people, make_user, django_assert_max_num_queries):
    worker = people["worker"]
    services.post_grant(user=worker, role=Role.GRID_WORKER, place=city.grid_a2)
    services.post_grant(user=worker, role=Role.BUILDING_CHIEF, place=city.building_b)
    services.post_grant(user=worker, role=Role.UNIT_CHIEF, place=city.unit_b)
    client = login(worker)
    # +1: the nav asks whether the user volunteers; +3: its counts (unread notices; my queue, 2 reads), issue #21
    with django_assert_max_num_queries(16):
        response = client.get(reverse("home"))
    text = page_text(response)
    assert "幸福第二网格" in text and "和平第一网格›9号楼" in text


# --- place pages -------------------------------------------------------------

@pytest.mark.parametrize(
    ("who", "inside", "shows", "outside"),
    [
        ("official", "district", "城北街道", ["other_district"]),
        ("street", "street_a", "幸福社区", ["street_b", "district", "community_b"]),
        ("community", "community_a", "幸福第二网格", ["community_b", "street_a", "grid_b"]),
        ("worker", "grid_a", "1号楼", ["grid_a2", "community_a", "grid_b"]),
        ("grid_chief", "grid_a", "1号楼", ["grid_a2", "district"]),
    ],
)
def test_place_inside_answers_and_outside_is_404(login, city, people, who, inside, shows, outside):
    client = login(people[who])
    response = client.get(place_url(getattr(city, inside)))
    assert response.status_code == 200
    assert shows in page_text(response)
    for name in outside:
        assert client.get(place_url(getattr(city, name))).status_code == 404, name


@pytest.mark.parametrize("who", ["building_chief", "unit_chief"])
def test_chiefs_reach_no_place_page(login, city, people, who):
    assert login(people[who]).get(place_url(city.grid_a)).status_code == 404


def test_missing_place_is_404_too(login, people):
    assert login(people["official"]).get(reverse("place", args=[999_999])).status_code == 404


def test_place_breadcrumb_links_only_what_the_user_sees(login, city, people):
    response = login(people["community"]).get(place_url(city.grid_a))
    html = response.content.decode()
    assert f'href="{place_url(city.community_a)}"' in html
    assert f'href="{place_url(city.street_a)}"' not in html
    assert f'href="{place_url(city.district)}"' not in html
    assert crumbs_text(response) == "城关区›城北街道›幸福社区›幸福第一网格"


def test_place_shows_people_on_post_with_masked_phones(login, city, people):
    response = login(people["community"]).get(place_url(city.grid_a))
    text = page_text(response)
    assert "网格员丁" in text and "网格长戊" in text
    assert MASKED in text
    assert PHONE not in response.content.decode()


def test_ended_posts_are_not_shown(login, city, people):
    services.post_end(post=people["grid_chief"].posts.get())
    text = page_text(login(people["community"]).get(place_url(city.grid_a)))
    assert "网格员丁" in text and "网格长戊" not in text


def test_merged_place_says_where_it_went(login, city, people):
    services.area_merge(source=city.community_b, target=city.community_a)
    response = login(people["official"]).get(place_url(city.community_b))
    assert response.status_code == 200
    assert f'href="{place_url(city.community_a)}"' in response.content.decode()


def test_place_children_are_paginated_with_flat_queries(
    login, city, people, django_assert_max_num_queries
):
    for n in range(53):
        services.area_add(kind=AreaKind.GRID, name=f"加密网格{n:02d}", parent=city.community_a)
    client = login(people["community"])
    # +3: the navigation's counts (unread notices; my queue, 2 reads), issue #21; +1: the 包片 leaders (#23)
    with django_assert_max_num_queries(16):
        first = client.get(place_url(city.community_a))
    assert first.content.decode().count('class="row-link"') == 50
    second = client.get(place_url(city.community_a), {"page": 2})
    assert second.content.decode().count('class="row-link"') == 5
    assert "?page=1" in second.content.decode()
    # A page past the end shows the last one instead of failing.
    assert client.get(place_url(city.community_a), {"page": 99}).status_code == 200


def test_grid_buildings_are_paginated_with_flat_queries(login, city, people, django_assert_max_num_queries):
    client = login(people["worker"])
    with django_assert_max_num_queries(15) as few:  # +3: the navigation's counts (unread notices; my queue, 2 reads), issue #21
        client.get(place_url(city.grid_a))
    for n in range(2, 62):
        building = services.building_add(grid=city.grid_a, number=f"{n}号楼")
        services.unit_add(building=building, number="1单元")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(place_url(city.grid_a))
    html = response.content.decode()
    assert html.count('class="row-link"') == 50
    # Numbered naturally: 2号楼 comes before 10号楼.
    assert html.index(">2号楼<") < html.index(">10号楼<")


# --- building pages ----------------------------------------------------------

@pytest.mark.parametrize(
    ("who", "outside"),
    [
        ("official", ["building_b"]),
        ("community", ["building_b"]),
        ("worker", ["building_a2", "building_b"]),
        ("building_chief", ["building_a2", "building_b"]),
        ("unit_chief", ["building_a2", "building_b"]),
    ],
)
def test_building_inside_answers_and_outside_is_404(login, city, people, make_user, who, outside):
    if who == "official":
        # building_b is in district A too; put the official's post on the other district.
        make_user(Role.DISTRICT_OFFICIAL, city.other_district)
        services.post_end(post=people["official"].posts.get())
        services.post_grant(user=people["official"], role=Role.STREET_STAFF, place=city.street_a)
    client = login(people[who])
    response = client.get(building_url(city.building_a))
    assert response.status_code == 200
    assert "1单元" in page_text(response)
    for name in outside:
        assert client.get(building_url(getattr(city, name))).status_code == 404, name
    assert client.get(reverse("building", args=[999_999])).status_code == 404


def test_building_shows_chiefs_with_masked_phones(login, city, people, make_user):
    make_user(Role.BUILDING_CHIEF, city.building_a, full_name="楼栋长辛", phone="13900001111")
    response = login(people["worker"]).get(building_url(city.building_a))
    text = page_text(response)
    assert "楼栋长己" in text and "楼栋长辛" in text and "单元长庚" in text
    assert "139****1111" in text and "13900001111" not in response.content.decode()
    assert crumbs_text(response) == "城关区›城北街道›幸福社区›幸福第一网格›1号楼"


def test_building_queries_do_not_grow_with_units(login, city, people, make_user, django_assert_max_num_queries):
    client = login(people["worker"])
    with django_assert_max_num_queries(15) as few:  # +3: the navigation's counts (unread notices; my queue, 2 reads), issue #21
        client.get(building_url(city.building_a))
    for n in range(2, 9):
        unit = services.unit_add(building=city.building_a, number=f"{n}单元")
        make_user(Role.UNIT_CHIEF, unit)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(building_url(city.building_a))
    assert "8单元" in page_text(response)


# --- the pages keep the CSP --------------------------------------------------

def test_pages_carry_no_inline_script_or_style(login, city, people, client):
    pages = [client.get(reverse("home")), client.get(reverse("login"))]
    client = login(people["worker"])
    for url in (reverse("home"), place_url(city.grid_a), building_url(city.building_a)):
        pages.append(client.get(url))
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert "<script" not in html and " style=" not in html and "<style" not in html
        assert "Content-Security-Policy" in response.headers


def test_home_for_someone_whose_posts_ended(login, city, people):
    worker = people["worker"]
    services.post_end(post=worker.posts.get())
    response = login(worker).get(reverse("home"))
    assert response.status_code == 200
    assert 'class="layout-worker"' in response.content.decode()
    assert "幸福第一网格" not in page_text(response)
    assert login(worker).get(place_url(city.grid_a)).status_code == 404


@pytest.mark.parametrize(
    "role, place, present, absent",
    [
        (Role.GRID_WORKER, "grid_a", ["cases:queue", "cases:patrol"], ["cases:board", "cases:hotline"]),
        (Role.COMMUNITY_STAFF, "community_a", ["cases:queue", "cases:board", "cases:hotline"], ["cases:patrol"]),
    ],
)
def test_home_navigation_reaches_the_case_pages_of_the_role(login, city, make_user, role, place, present, absent):
    user = make_user(role, getattr(city, place))
    html = login(user).get(reverse("home")).content.decode()
    for name in present:
        assert f'href="{reverse(name)}"' in html, name
    for name in absent:
        assert f'href="{reverse(name)}"' not in html, name


def test_home_of_organisation_staff_names_their_organisation_and_links_no_place(login, city):
    # Found trying the demo as `chengguan`: the home page answered 500 for a post on an organisation.
    from .factories import make_organisation, user_with_post

    squad = make_organisation(seat=city.street_a, name="城北街道综合执法中队", areas=[city.street_a])
    staff = user_with_post(Role.ORG_STAFF, squad, full_name="执法队员甲")
    response = login(staff).get(reverse("home"))
    assert response.status_code == 200
    text = page_text(response)
    assert f"{label(Role.ORG_STAFF.label)} 城关区›城北街道›城北街道综合执法中队" in text
    html = response.content.decode()
    for place in (city.district, city.street_a, city.community_a, city.grid_a):
        assert f'href="{place_url(place)}"' not in html
    assert 'class="layout-worker"' in html
