"""The certificate of hours (志愿服务记录证明) and the rankings and honours page:
the volunteer's own and staff over them see it, others get a 404; bad periods get
a clear error; honours are confirmed by staff of the place, once."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from grid.models import Role
from portal.errors import DomainError
from volunteers import ledger, services
from volunteers.models import Honour
from volunteers.periods import period_bounds

from .factories import UserFactory, user_with_post

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 7, 9, 0, tzinfo=TZ)
# The club serves from START over two months; the pages show "this year" by default, so the
# clock stands in that same year, after the last activity.
pytestmark = pytest.mark.clock(START + timedelta(days=90))


def browser(user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response):
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def served(activity, volunteer, organiser, *, hours=2):
    entry = services.signup(activity=activity, volunteer=volunteer, acting_user=volunteer.user,
                            now=activity.starts_at - timedelta(days=1))
    services.check_in(signup_obj=entry, at=activity.starts_at, acting_user=organiser, now=activity.starts_at)
    end = activity.starts_at + timedelta(hours=hours)
    services.check_out(signup_obj=entry, at=end, acting_user=organiser, now=end)
    return services.confirm_hours(signup_obj=entry, acting_user=organiser, now=end)


@pytest.fixture
def club(city):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="赵主任")
    staff_b = user_with_post(Role.COMMUNITY_STAFF, city.community_b, full_name="钱主任")
    pa, pb, outsider = UserFactory(), UserFactory(), UserFactory()
    va = services.volunteer_register(home=city.grid_a, user=pa, name="孙志愿", acting_user=pa, now=START)
    vb = services.volunteer_register(home=city.grid_b, user=pb, name="李志愿", acting_user=pb, now=START)
    activities = []
    for n, (area, organiser) in enumerate([(city.community_a, staff), (city.community_a, staff),
                                           (city.community_b, staff_b)]):
        starts = START + timedelta(days=30 * n)
        activities.append(services.activity_add(
            area=area, title=f"活动{n}", location="社区广场", starts_at=starts, ends_at=starts + timedelta(hours=3),
            capacity=5, acting_user=organiser, now=starts - timedelta(days=2)))
    r1 = served(activities[0], va, staff, hours=2)
    r2 = served(activities[1], va, staff, hours=3)
    served(activities[2], vb, staff_b, hours=1)
    wrong = served(services.activity_add(
        area=city.community_a, title="记错的活动", location="x", starts_at=START + timedelta(days=5),
        ends_at=START + timedelta(days=5, hours=2), capacity=5, acting_user=staff, now=START), va, staff)
    services.record_void(record=wrong, reason="记错了人", acting_user=staff, now=START + timedelta(days=6))
    return {"staff": staff, "staff_b": staff_b, "pa": pa, "pb": pb, "outsider": outsider, "va": va, "vb": vb,
            "records": (r1, r2)}


def cert_url(volunteer, **period):
    return reverse("volunteers:certificate", args=[volunteer.pk]) + (
        "?" + "&".join(f"{k}={v}" for k, v in period.items()) if period else "")


YEAR = {"since": "2026-01-01", "until": "2026-12-31"}


def test_the_volunteer_prints_their_own_certificate(club):
    page = browser(club["pa"]).get(cert_url(club["va"], **YEAR))
    assert page.status_code == 200
    text = text_of(page)
    assert "Certificate of volunteer service" in text and "孙志愿" in text
    assert "活动0" in text and "活动1" in text
    assert "记错的活动" not in text  # voided: not service
    assert "5.00" in text  # 2 h + 3 h
    assert "赵主任" in text  # who certified each record
    assert "幸福社区" in text and "V%06d" % club["va"].pk in text
    assert "李志愿" not in text


def test_the_period_narrows_the_records(club):
    page = browser(club["pa"]).get(cert_url(club["va"], since="2026-03-01", until="2026-03-31"))
    text = text_of(page)
    assert "活动0" in text and "活动1" not in text and "2.00" in text


def test_staff_over_the_volunteer_see_it_others_get_404(club):
    assert browser(club["staff"]).get(cert_url(club["va"], **YEAR)).status_code == 200
    assert browser(club["staff_b"]).get(cert_url(club["va"], **YEAR)).status_code == 404
    assert browser(club["staff_b"]).get(cert_url(club["vb"], **YEAR)).status_code == 200
    assert browser(club["pb"]).get(cert_url(club["va"], **YEAR)).status_code == 404
    assert browser(club["outsider"]).get(cert_url(club["va"], **YEAR)).status_code == 404
    assert browser(club["pa"]).get(reverse("volunteers:certificate", args=[999999])).status_code == 404
    assert Client().get(cert_url(club["va"])).status_code == 302  # sign in first


@pytest.mark.parametrize("period, message", [
    ({"since": "2026-12-31", "until": "2026-01-01"}, "ends before it starts"),
    ({"since": "yesterday", "until": "2026-01-01"}, "Enter a date like"),
    ({"since": "2000-01-01", "until": "2026-01-01"}, "at most ten years"),
    ({"until": "2026-01-01"}, "This field is required"),
    ({"since": "9999-12-30", "until": "9999-12-31"}, "between the years 1900 and 2199"),
    ({"since": "0001-01-01", "until": "0001-01-02"}, "between the years 1900 and 2199"),
])
def test_a_bad_period_is_a_clear_400(club, period, message):
    page = browser(club["pa"]).get(cert_url(club["va"], **period))
    assert page.status_code == 400 and message in text_of(page)
    assert "活动0" not in text_of(page)


def test_the_default_period_is_this_year(club):
    page = browser(club["pa"]).get(cert_url(club["va"]))
    assert page.status_code == 200 and "Certificate of volunteer service" in text_of(page)


# --- rankings and honours -----------------------------------------------------------------

HONOURS = reverse("volunteers:honours")


def test_periods():
    assert period_bounds("2026") == (datetime(2026, 1, 1, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ))
    assert period_bounds("2026-q4") == (datetime(2026, 10, 1, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ))
    assert period_bounds("2026-02") == (datetime(2026, 2, 1, tzinfo=TZ), datetime(2026, 3, 1, tzinfo=TZ))
    for bad in ("", "26", "2026-13", "2026-Q5", "２０２６", "2026-1", None):
        with pytest.raises(DomainError):
            period_bounds(bad)


def test_staff_see_their_places_ranking(club, city, django_assert_max_num_queries):
    client = browser(club["staff"])
    with django_assert_max_num_queries(15):
        page = client.get(HONOURS, {"place": city.community_a.pk, "period": "2026"})
    assert page.status_code == 200
    text = text_of(page)
    assert "孙志愿" in text and "50 points" in text and "李志愿" not in text
    # A quarter: only the March activity's points.
    text = text_of(client.get(HONOURS, {"place": city.community_a.pk, "period": "2026-Q1"}))
    assert "20 points" in text
    # Another district's place is not offered: a clear 400, nothing shown.
    outside = client.get(HONOURS, {"place": city.community_b.pk, "period": "2026"})
    assert outside.status_code == 400 and "李志愿" not in text_of(outside)
    assert "Choose a place from the list" in text_of(outside)
    bad = client.get(HONOURS, {"place": city.community_a.pk, "period": "last year"})
    assert bad.status_code == 400 and "Write the period as a year" in text_of(bad)
    assert client.get(HONOURS, {"place": "x", "period": "2026"}).status_code == 400


def test_a_district_official_ranks_across_communities(club, city):
    official = user_with_post(Role.DISTRICT_OFFICIAL, city.district)
    text = text_of(browser(official).get(HONOURS, {"place": city.district.pk, "period": "2026"}))
    assert "孙志愿" in text and "李志愿" in text


def test_a_volunteer_sees_their_own_community_only(club, city):
    client = browser(club["pa"])
    page = client.get(HONOURS)
    assert page.status_code == 200 and "孙志愿" in text_of(page)
    assert "Confirm an honour" not in text_of(page)
    assert client.get(HONOURS, {"place": city.community_b.pk, "period": "2026"}).status_code == 400
    assert browser(club["outsider"]).get(HONOURS).status_code == 404


def award(client, volunteer, place, period="2026", title="社区好人", citation="常年帮助独居老人"):
    return client.post(reverse("volunteers:honour_award"), {
        "volunteer": volunteer.pk, "place": place.pk, "period": period, "title": title, "citation": citation,
    }, follow=True)


def test_staff_confirm_an_honour_once(club, city):
    client = browser(club["staff"])
    page = client.get(HONOURS, {"place": city.community_a.pk, "period": "2026"})
    assert "Confirm an honour" in text_of(page)
    done = award(client, club["va"], city.community_a)
    assert done.status_code == 200 and "confirmed for 孙志愿" in text_of(done)
    honour = Honour.objects.get()
    assert (honour.title, honour.period, honour.confirmed_by, honour.area) == (
        "社区好人", "2026", club["staff"], city.community_a)
    assert "常年帮助独居老人" in text_of(done) and "confirmed by 赵主任" in text_of(done)
    again = award(client, club["va"], city.community_a)
    assert "already holds" in text_of(again) and Honour.objects.count() == 1
    # A quarter's honour shows on the year's page too; not on another quarter's.
    award(client, club["va"], city.community_a, period="2026-q3", title="最美三长")
    assert "最美三长" in text_of(client.get(HONOURS, {"place": city.community_a.pk, "period": "2026"}))
    assert "最美三长" not in text_of(client.get(HONOURS, {"place": city.community_a.pk, "period": "2026-Q1"}))


def test_honour_bad_input_and_scope(club, city):
    client = browser(club["staff"])
    for data, message in [({"title": ""}, "Name the honour."), ({"period": "sometime"}, "Write the period as"),
                          ({"title": "x" * 51}, "at most 50 characters")]:
        response = award(client, club["va"], city.community_a, **data)
        assert message in text_of(response)
    # Someone of another community cannot be honoured here, nor by staff of another place.
    assert "is not a volunteer of" in text_of(award(browser(user_with_post(Role.DISTRICT_OFFICIAL, city.district)),
                                                    club["vb"], city.community_a))
    assert award(browser(club["staff_b"]), club["va"], city.community_a).status_code == 404
    assert award(browser(club["pa"]), club["va"], city.community_a).status_code == 404
    assert Honour.objects.count() == 0
    assert ledger.books_problems() == []


def test_a_grid_worker_who_volunteers_sees_their_community(club, city):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a)
    assert browser(worker).get(HONOURS).status_code == 404  # a grid holds no ranking
    services.volunteer_register(home=city.grid_a, user=worker, acting_user=worker, now=START)
    page = browser(worker).get(HONOURS)
    assert page.status_code == 200 and "孙志愿" in text_of(page) and "Confirm an honour" not in text_of(page)
