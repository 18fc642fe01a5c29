"""The households' points card pages: every view with a household inside the user's places and one
outside (404, nothing written), bad input refused with a message, the board's stars behind a switch."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from residents.participation import services as participation
from volunteers import household_points as hp
from volunteers.household_models import HouseholdEntry, HouseholdPointsSettings
from volunteers.models import CatalogueItem, LedgerTransaction, Redemption

from .test_household_points import Homes

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
pytestmark = pytest.mark.clock(NOW)


@pytest.fixture
def homes(city):
    return Homes(city)


def _card(household):
    return reverse("volunteers:household_card", args=[household.pk])


def _entry(homes, client, household, **post):
    data = {"aspect": homes.aspect().pk, "points": "5", "reason": "垃圾分类示范户", **post}
    return client.post(reverse("volunteers:household_entry_add", args=[household.pk]), data)


def test_the_card_inside_and_outside(client, homes):
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=6, reason="垃圾分类示范户",
                           acting_user=homes.staff, now=NOW)
    client.force_login(homes.worker)
    page = client.get(_card(homes.home))
    assert page.status_code == 200
    text = page.content.decode()
    assert "垃圾分类示范户" in text and "遵纪守法" in text and 'id="hp-points"' in text
    assert client.get(_card(homes.away)).status_code == 404


def test_street_staff_read_the_card_but_get_no_forms(client, homes):
    client.force_login(homes.street)
    page = client.get(_card(homes.home))
    assert page.status_code == 200 and 'id="hp-points"' not in page.content.decode()


def test_an_entry_is_added_inside_and_refused_outside(client, homes):
    client.force_login(homes.worker)
    assert _entry(homes, client, homes.home).status_code == 302
    assert hp.household_balance(homes.home) == 5
    assert _entry(homes, client, homes.away).status_code == 404
    assert HouseholdEntry.objects.filter(household=homes.away).count() == 0


@pytest.mark.parametrize("bad", [{"reason": ""}, {"points": "abc"}, {"points": "99999999999999999999"},
                                 {"points": "-3"}, {"aspect": "x"}, {"points": ""}])
def test_bad_entries_get_a_message_and_write_nothing(client, homes, bad):
    client.force_login(homes.staff)
    response = _entry(homes, client, homes.home, **bad)
    assert response.status_code == 302
    assert not LedgerTransaction.objects.exists()
    page = client.get(_card(homes.home))
    assert "messages" in page.context and list(page.context["messages"])


def test_a_file_that_is_not_a_photo_is_refused(client, homes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(homes.staff)
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    assert _entry(homes, client, homes.home, evidence=fake).status_code == 302
    assert not HouseholdEntry.objects.exists() and not LedgerTransaction.objects.exists()


def test_a_grid_worker_of_the_next_grid_gets_404(client, homes):
    client.force_login(homes.worker_a2)
    assert client.get(_card(homes.home)).status_code == 404
    assert _entry(homes, client, homes.home).status_code == 404
    assert not HouseholdEntry.objects.exists()


def test_redeem_inside_and_outside(client, homes, city):
    item = CatalogueItem.objects.create(community=city.community_a, name="洗衣液", kind="prize", price=3, stock=5)
    item_b = CatalogueItem.objects.create(community=city.community_b, name="大米", kind="prize", price=1, stock=5)
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=5, reason="x", acting_user=homes.staff,
                           now=NOW)
    client.force_login(homes.staff)
    url = reverse("volunteers:household_redeem", args=[homes.home.pk])
    assert client.post(url, {"member": homes.member.pk, "item": item.pk, "quantity": "1"}).status_code == 302
    assert hp.household_balance(homes.home) == 2
    # Another community's item, a non-member, too dear: refused, nothing more written.
    client.post(url, {"member": homes.member.pk, "item": item_b.pk, "quantity": "1"})
    client.post(url, {"member": homes.outsider.pk, "item": item.pk, "quantity": "1"})
    client.post(url, {"member": homes.member.pk, "item": item.pk, "quantity": "5"})
    assert Redemption.objects.count() == 1
    away = reverse("volunteers:household_redeem", args=[homes.away.pk])
    assert client.post(away, {"member": homes.outsider.pk, "item": item_b.pk}).status_code == 404
    assert Redemption.objects.count() == 1


def test_figures_show_the_users_places_only(client, homes, city, django_assert_max_num_queries):
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=7, reason="x", acting_user=homes.staff,
                           now=NOW)
    hp.household_entry_add(household=homes.away, aspect=homes.aspect(), points=9, reason="y",
                           acting_user=homes.staff_b, now=NOW)
    client.force_login(homes.staff)
    with django_assert_max_num_queries(14):  # +1: the navigation's badges (queue and unread notices, one statement)
        page = client.get(reverse("volunteers:household_figures"))
    rows = {(r["kind"], r["place"]): r for r in page.context["rows"]}
    assert rows[("community", city.community_a.name)]["earned"] == 7
    assert rows[("grid", city.grid_a.name)]["with_card"] == 1
    assert ("community", city.community_b.name) not in rows


def test_the_stars_switch_inside_and_outside(client, homes, city):
    client.force_login(homes.staff)
    url = reverse("volunteers:household_stars", args=[city.community_a.pk])
    assert client.post(url, {"enabled": "1"}).status_code == 302
    assert HouseholdPointsSettings.objects.get(community=city.community_a).stars_on_boards
    outside = reverse("volunteers:household_stars", args=[city.community_b.pk])
    assert client.post(outside, {"enabled": "1"}).status_code == 404
    assert not HouseholdPointsSettings.objects.filter(community=city.community_b).exists()
    client.force_login(homes.worker)  # a grid worker manages no community
    assert client.post(url, {"enabled": "0"}).status_code == 404


def test_the_board_shows_masked_stars_only_when_the_community_enables_them(client, homes, city):
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=45, reason="x",
                           acting_user=homes.staff, now=NOW)
    client.force_login(homes.staff)
    board = reverse("residents:board", args=[city.building_a.pk])
    assert "★" not in client.get(board).content.decode()
    hp.stars_on_boards_set(community=city.community_a, enabled=True, acting_user=homes.staff)
    text = client.get(board).content.decode()
    section = text[text.index('<ul class="stars-list">'):]
    section = section[:section.index("</ul>")]  # the list only: ids elsewhere may hold any digits
    assert "★★" in section and "★★★" not in section  # 45 points: two stars
    assert "3**" in section and "301" not in section and "45" not in section
    assert "李秀英" not in text


def test_meeting_attendance_from_the_meeting_page_earns_points(client, homes, city):
    meeting = participation.meeting_create(place=city.community_a, kind="council", title="居民议事会", held_at=NOW,
                                           acting_user=homes.staff, now=NOW)
    client.force_login(homes.staff)
    url = reverse("participation:meeting_act", args=[meeting.pk, "attend"])
    assert client.post(url, {"resident": homes.member.pk}).status_code == 302
    client.post(url, {"resident": homes.member.pk})  # twice: refused
    client.post(url, {"resident": homes.outsider.pk})  # outside the place: refused
    assert hp.household_balance(homes.home) == hp.ATTENDANCE_POINTS
    assert HouseholdEntry.objects.count() == 1
    page = client.get(reverse("participation:meeting", args=[meeting.pk]) + "?q=李")
    assert "李秀英" in page.content.decode()
    client.force_login(homes.staff_b)  # another community's staff: the meeting is not theirs
    assert client.post(url, {"resident": homes.member.pk}).status_code == 404
    assert HouseholdEntry.objects.count() == 1
