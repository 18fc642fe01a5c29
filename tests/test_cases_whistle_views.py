"""吹哨报到 pages: the whistle on the case page, the organisation's report-in (phone), the
rating after close. Each page with an object inside the user's reach and one outside (404);
each form with bad input (a clear message, nothing written)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from cases import services, whistles
from cases.models import Status, Summons, SummonsStatus, Whistle
from grid.models import Role

from .cases_factories import MONDAY, people, png, to_status  # noqa: F401
from .factories import make_organisation

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]


@pytest.fixture
def orgs(city, make_user):
    o = type("Orgs", (), {})()
    o.cg = make_organisation(seat=city.street_a, name="城北执法中队", areas=[city.street_a])
    o.police_b = make_organisation(seat=city.street_b, name="城南派出所", function="police", areas=[city.street_b])
    o.cg_staff = make_user(Role.ORG_STAFF, o.cg, username="cg_staff")
    o.police_staff = make_user(Role.ORG_STAFF, o.police_b, username="police_staff")
    return o


def signed_in(user):
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(user)
    return web


def whistle_post(web, case, **data):
    form = {"whistle-organisations": data.pop("organisations", []), "whistle-situation": "enforcement",
            "whistle-reason": "占道经营，需联合执法", **{f"whistle-{k}": v for k, v in data.items()}}
    return web.post(reverse("cases:act", args=[case.pk, "whistle"]), form, follow=True)


def test_case_page_offers_the_whistle_with_covering_organisations_only(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    page = signed_in(people.street).get(reverse("cases:detail", args=[case.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "whistle-organisations" in body
    assert "城北执法中队" in body and "城南派出所" not in body
    # The grid worker handles the case but does not whistle.
    assert "whistle-organisations" not in signed_in(people.worker).get(
        reverse("cases:detail", args=[case.pk])).content.decode()


def test_whistle_from_the_case_page(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    page = whistle_post(signed_in(people.street), case, organisations=[orgs.cg.pk], urgent="on")
    assert page.status_code == 200
    summons = Summons.objects.get()
    assert summons.organisation == orgs.cg and summons.whistle.report_in_minutes == 30
    assert "城北执法中队" in page.content.decode()


@pytest.mark.parametrize("data, message", [
    ({"organisations": []}, "Choose at least one organisation"),
    ({"reason": ""}, "required"),
    ({"minutes": "0"}, "greater than or equal to 1"),
    ({"situation": "party"}, "not one of the available choices"),
])
def test_bad_whistle_forms_write_nothing(city, people, orgs, data, message):
    case = to_status(city, people, Status.HANDLING)
    data.setdefault("organisations", [orgs.cg.pk])
    page = whistle_post(signed_in(people.street), case, **data)
    assert message in page.content.decode()
    assert not Whistle.objects.exists()


def test_whistle_to_an_organisation_outside_the_street_is_refused(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    page = whistle_post(signed_in(people.street), case, organisations=[orgs.cg.pk, orgs.police_b.pk])
    assert "does not cover" in page.content.decode()
    assert not Whistle.objects.exists()


def test_whistle_on_a_case_outside_is_404(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    outsider = signed_in(people.community_b)
    response = outsider.post(reverse("cases:act", args=[case.pk, "whistle"]),
                             {"whistle-organisations": [orgs.cg.pk], "whistle-situation": "pressing",
                              "whistle-reason": "x"})
    assert response.status_code == 404 and not Whistle.objects.exists()


@pytest.fixture
def whistled(city, people, orgs):
    case = to_status(city, people, Status.HANDLING)
    whistle = whistles.whistle_blow(case=case, organisations=[orgs.cg], acting_user=people.street, reason="联合执法",
                                    situation="enforcement", urgent=True)
    return case, whistle.summons.get()


def test_summoned_staff_see_their_summonses_and_the_case_without_the_reporter(city, people, orgs, whistled):
    case, summons = whistled
    web = signed_in(orgs.cg_staff)
    listing = web.get(reverse("cases:summonses"))
    assert listing.status_code == 200 and case.number in listing.content.decode()
    # The nav leads organisation staff here; a grid worker's nav does not.
    assert f'href="{reverse("cases:summonses")}"' in web.get(reverse("cases:queue")).content.decode()
    assert reverse("cases:summonses") not in signed_in(people.worker).get(reverse("cases:queue")).content.decode()
    detail = web.get(reverse("cases:detail", args=[case.pk]))
    body = detail.content.decode()
    assert detail.status_code == 200 and "张三" not in body and "13800000000" not in body
    assert reverse("cases:report_in", args=[summons.pk]) in body


def test_other_organisations_and_people_without_one_get_404(city, people, orgs, whistled):
    case, summons = whistled
    police = signed_in(orgs.police_staff)
    assert police.get(reverse("cases:summonses")).status_code == 200
    assert case.number not in police.get(reverse("cases:summonses")).content.decode()
    assert police.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert police.post(reverse("cases:report_in", args=[summons.pk])).status_code == 404
    assert signed_in(people.worker).get(reverse("cases:summonses")).status_code == 404
    summons.refresh_from_db()
    assert summons.status == SummonsStatus.SUMMONED


def test_report_in_from_the_phone_page(city, people, orgs, whistled):
    case, summons = whistled
    web = signed_in(orgs.cg_staff)
    page = web.post(reverse("cases:report_in", args=[summons.pk]), {"note": "两名队员到场"}, follow=True)
    assert page.status_code == 200
    summons.refresh_from_db()
    assert summons.status == SummonsStatus.REPORTED_IN and summons.report_note == "两名队员到场"
    again = web.post(reverse("cases:report_in", args=[summons.pk]), {"note": ""}, follow=True)
    assert "already reported in" in again.content.decode()


def test_report_in_note_too_long_writes_nothing(city, people, orgs, whistled):
    _case, summons = whistled
    page = signed_in(orgs.cg_staff).post(reverse("cases:report_in", args=[summons.pk]), {"note": "x" * 201},
                                         follow=True)
    assert "at most 200" in page.content.decode()
    summons.refresh_from_db()
    assert summons.status == SummonsStatus.SUMMONED


def close(case, people):
    case = services.case_resolve(case=case, acting_user=case.assignee, note="已处置", photos=[png()])
    case = services.case_verify(case=case, acting_user=people.community, passed=True)
    return services.case_close(case=case, acting_user=people.community)


def test_rating_page_after_close(city, people, orgs, whistled):
    case, summons = whistled
    url = reverse("cases:whistle_rate", args=[case.pk, summons.whistle_id])
    web = signed_in(people.street)
    assert web.get(url).status_code == 404  # still open
    close(case, people)
    assert web.get(url).status_code == 200
    bad = web.post(url, {f"rating_{summons.pk}": "9"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    summons.refresh_from_db()
    assert summons.rated_at is None
    done = web.post(url, {f"rating_{summons.pk}": "4", f"comment_{summons.pk}": "配合良好"})
    assert done.status_code == 302
    summons.refresh_from_db()
    assert summons.rating == 4
    assert web.post(url, {f"rating_{summons.pk}": "4"}).status_code == 400  # all rated


def test_rating_page_outside_is_404(city, people, orgs, whistled):
    case, summons = whistled
    close(case, people)
    url = reverse("cases:whistle_rate", args=[case.pk, summons.whistle_id])
    for user in (people.community_b, people.community, orgs.cg_staff, people.worker):
        assert signed_in(user).get(url).status_code == 404
    assert signed_in(people.street).get(reverse("cases:whistle_rate", args=[case.pk, 10**6])).status_code == 404


def test_late_report_in_is_marked_on_the_case_page(city, people, orgs, whistled):
    case, summons = whistled
    whistles.summons_report_in(summons=summons, acting_user=orgs.cg_staff,
                               now=summons.due_at + timedelta(minutes=10))
    body = signed_in(people.street).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "badge-late" in body


def test_each_report_in_form_has_its_own_field(city, people, orgs, whistled):
    """Two summonses on the page: each label leads to its own row's field, not the first row's."""
    import re

    other = to_status(city, people, Status.HANDLING)
    whistles.whistle_blow(case=other, organisations=[orgs.cg], acting_user=people.street, reason="再次联合执法",
                          situation="enforcement")
    body = signed_in(orgs.cg_staff).get(reverse("cases:summonses")).content.decode()
    fields = re.findall(r'<(?:input|textarea)[^>]*name="note"[^>]*>', body)
    ids = [re.search(r'id="([^"]+)"', field)[1] for field in fields]
    assert len(ids) == 2 and len(set(ids)) == 2
    for field_id in ids:
        assert f'for="{field_id}"' in body
