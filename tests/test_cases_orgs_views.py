"""Pages of the organisation track (issue #16 item 8): the organisation's queue, the street command
centre's board, the moves on the case page, the admin; each with one matter inside the user's
reach and one outside (404), bad input refused with nothing written, residents' pages closed."""

import pytest
from django.test import Client
from django.urls import reverse

from cases import services_orgs
from cases.models import Case, OrgAssignment, RoutingRule, Status
from grid.models import Role

from .cases_factories import MONDAY, category, fresh_calendar, people, png, resident_report  # noqa: F401
from .factories import user_with_post
from .orgs_factories import big_matter, orgs  # noqa: F401
from .residents_factories import household_in, resident_in

pytestmark = [pytest.mark.django_db, pytest.mark.clock(MONDAY)]


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def sent(city, people, orgs):
    case = big_matter(city, orgs, people)
    return services_orgs.case_org_dispatch(case=case, acting_user=people.street, lead=orgs.chengguan, now=MONDAY)


@pytest.fixture
def unsent(city, people, orgs):
    return big_matter(city, orgs, people)


def test_the_organisation_queue_lists_its_matters_only(login, sent, unsent, orgs):
    page = login(orgs.cg_staff).get(reverse("cases:org_queue")).content.decode()
    assert sent.number in page and unsent.number not in page
    assert reverse("cases:act", args=[sent.pk, "org_sign_in"]) in page
    assert "layout-worker" in page


def test_another_organisations_staff_see_nothing_of_it(login, sent, orgs):
    page = login(orgs.police_staff).get(reverse("cases:org_queue")).content.decode()
    assert sent.number not in page


def test_the_queue_is_404_for_someone_on_no_organisation(login, people):
    assert login(people.worker).get(reverse("cases:org_queue")).status_code == 404


def test_the_queue_query_count_is_flat(login, city, people, orgs, sent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(orgs.cg_staff)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("cases:org_queue")).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(5):
        services_orgs.case_org_dispatch(case=big_matter(city, orgs, people), acting_user=people.street,
                                        lead=orgs.chengguan, now=MONDAY)
    assert count() == few


def test_the_queue_reads_only_what_its_cards_show(login, sent, orgs):
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Case.objects.filter(pk=sent.pk).update(description="违建" * 50)
    with CaptureQueriesContext(connection) as ctx:
        page = login(orgs.cg_staff).get(reverse("cases:org_queue")).content.decode()
    (rows,) = [q["sql"] for q in ctx.captured_queries
               if 'ORDER BY "cases_case"."due_at"' in q["sql"] and "LIMIT" in q["sql"]]
    # No full description, reporter, address or place columns; the category by its key, no organisation join.
    for column in ('"cases_case"."address"', '"reporter_phone"', '"boundary"', '"cases_case"."street_id"'):
        assert column not in rows, column
    assert re.search(r'SUBSTR(ING)?\("cases_case"\."description", 1, 71\)', rows)
    assert 'JOIN "grid_organisation"' not in rows and 'JOIN "cases_category"' not in rows
    assert rows.count('JOIN "grid_building"') == 1
    assert "违建" * 34 + "违…" in page and "违建" * 36 not in page  # the card's 70 characters
    assert category("E0201").name in page and str(sent.building) in page
    assert reverse("cases:act", args=[sent.pk, "org_sign_in"]) in page
    assert reverse("cases:detail", args=[sent.pk]) in page


def test_the_queue_counts_up_to_a_cap(login, city, people, orgs, monkeypatch):
    from cases import views_orgs

    monkeypatch.setattr(views_orgs.QueuePaginator, "cap", 2)
    monkeypatch.setattr(views_orgs, "QUEUE_PAGE_SIZE", 1)
    matters = [services_orgs.case_org_dispatch(case=big_matter(city, orgs, people), acting_user=people.street,
                                               lead=orgs.chengguan, now=MONDAY) for _ in range(3)]
    client = login(orgs.cg_staff)
    first = client.get(reverse("cases:org_queue")).content.decode()
    assert '<span class="count">2+</span>' in first and "Only the 2 soonest due" not in first
    last = client.get(reverse("cases:org_queue"), {"page": 2}).content.decode()
    assert "Only the 2 soonest due are listed" in last
    # Soonest due first: the pages hold the first two of the three.
    shown = {m.number for m in matters if m.number in first + last}
    assert len(shown) == 2
    monkeypatch.setattr(views_orgs.QueuePaginator, "cap", 10)
    assert '<span class="count">3</span>' in client.get(reverse("cases:org_queue")).content.decode()


def test_the_queue_names_the_organisation_for_staff_of_several(login, city, people, orgs, sent):
    from grid import services as grid_services

    police_matter = services_orgs.case_org_dispatch(case=big_matter(city, orgs, people), acting_user=people.street,
                                                    lead=orgs.police, now=MONDAY)
    only_cg = login(orgs.cg_staff).get(reverse("cases:org_queue")).content.decode()
    assert f"· {orgs.chengguan.name}" not in only_cg and police_matter.number not in only_cg
    grid_services.post_grant(user=orgs.cg_staff, role=Role.ORG_STAFF, place=orgs.police)
    both = login(orgs.cg_staff).get(reverse("cases:org_queue")).content.decode()
    assert sent.number in both and police_matter.number in both
    assert f"· {orgs.chengguan.name}" in both and f"· {orgs.police.name}" in both


def test_case_page_inside_and_outside_for_organisation_staff(login, sent, unsent, orgs):
    client = login(orgs.cg_staff)
    page = client.get(reverse("cases:detail", args=[sent.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("cases:act", args=[sent.pk, "org_sign_in"]) in html
    assert reverse("cases:act", args=[sent.pk, "org_return"]) in html
    assert "13800000000" not in html and "张三" not in html  # the reporter's phone and name are masked
    assert client.get(reverse("cases:detail", args=[unsent.pk])).status_code == 404


def test_one_tap_sign_in_from_the_queue(login, sent, orgs):
    login(orgs.cg_staff).post(reverse("cases:act", args=[sent.pk, "org_sign_in"]))
    sent.refresh_from_db()
    assert sent.status == Status.HANDLING and sent.assignee == orgs.cg_staff


def test_a_return_without_a_reason_is_refused_on_the_page(login, sent, orgs):
    response = login(orgs.cg_staff).post(reverse("cases:act", args=[sent.pk, "org_return"]),
                                         {"org_return-reason": ""}, follow=True)
    assert response.status_code == 400
    sent.refresh_from_db()
    assert sent.status == Status.DISPATCHED and sent.returned_at is None
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_a_reply_from_another_organisation_is_404(login, sent, orgs):
    response = login(orgs.police_staff).post(reverse("cases:act", args=[sent.pk, "org_reply"]),
                                             {"org_reply-note": "x", "org_reply-photo": png()})
    assert response.status_code == 404
    sent.refresh_from_db()
    assert sent.status == Status.DISPATCHED


def test_the_reply_with_a_photo_through_the_page(login, sent, orgs):
    client = login(orgs.cg_staff)
    client.post(reverse("cases:act", args=[sent.pk, "org_sign_in"]))
    client.post(reverse("cases:act", args=[sent.pk, "org_reply"]),
                {"org_reply-note": "已拆除", "org_reply-photo": png()})
    sent.refresh_from_db()
    assert sent.status == Status.RESOLVED and sent.photos.count() == 1


def test_register_shows_the_proposed_route_and_dispatch_through_the_page(login, city, people, orgs):
    from .orgs_factories import urban_rule

    urban_rule(city, orgs)
    case = resident_report(city, code="E0201")
    client = login(people.community)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-proposal="public"' in html and orgs.chengguan.name in html
    client.post(reverse("cases:act", args=[case.pk, "register"]), {"register-triage": "public"})
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and case.triage_class == "public"
    street = login(people.street)
    street.post(reverse("cases:act", args=[case.pk, "org_dispatch"]),
                {"org_dispatch-lead": str(orgs.far.pk)})  # not covering: refused
    assert not OrgAssignment.objects.exists()
    street.post(reverse("cases:act", args=[case.pk, "org_dispatch"]),
                {"org_dispatch-lead": str(orgs.chengguan.pk), "org_dispatch-co_handlers": [str(orgs.police.pk)]})
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.organisation == orgs.chengguan
    assert OrgAssignment.objects.filter(case=case).count() == 2


# --- the command centre ---------------------------------------------------------------------------

def test_the_command_centre_board_inside_and_outside(login, city, people, orgs, sent, unsent):
    returned = services_orgs.case_org_return(case=sent, acting_user=orgs.cg_staff, reason="非我单位职责",
                                             now=MONDAY)
    client = login(people.street)
    page = client.get(reverse("cases:command_centre"))
    assert page.status_code == 200
    html = page.content.decode()
    dispatch_part = html.split('data-section="awaiting-dispatch"')[1].split("</section>")[0]
    ruling_part = html.split('data-section="awaiting-ruling"')[1].split("</section>")[0]
    assert unsent.number in dispatch_part and returned.number in ruling_part
    assert 'data-section="whistles-open"' in html
    other_street = user_with_post(Role.STREET_STAFF, city.street_b, username="street_b")
    assert login(other_street).get(reverse("cases:command_centre_street", args=[city.street_a.pk])).status_code == 404
    assert unsent.number not in login(other_street).get(reverse("cases:command_centre")).content.decode()


def test_the_command_centre_is_404_for_community_staff_and_organisations(login, people, orgs):
    assert login(people.community).get(reverse("cases:command_centre")).status_code == 404
    assert login(orgs.cg_staff).get(reverse("cases:command_centre")).status_code == 404


def test_the_district_reaches_each_of_its_streets(login, city, people, unsent):
    html = login(people.district).get(reverse("cases:command_centre_street", args=[city.street_a.pk])).content
    assert unsent.number in html.decode()
    assert login(people.other_district).get(
        reverse("cases:command_centre_street", args=[city.street_a.pk])).status_code == 404


# --- residents' records stay closed to organisations -----------------------------------------------

def test_organisation_staff_never_see_residents(login, city, people, orgs, sent):
    household = household_in(city.unit_a)
    resident = resident_in(household, name="李四光")
    client = login(orgs.cg_staff)
    listing = client.get(reverse("residents:list"))
    assert listing.status_code == 403  # "Residents' records are for grid workers and staff."
    assert "李四光" not in listing.content.decode()
    for url in (reverse("residents:resident", args=[resident.pk]), reverse("residents:household", args=[household.pk]),
                reverse("residents:resident_reveal", args=[resident.pk])):
        response = client.get(url)
        assert response.status_code in (403, 404, 405) and "李四光" not in response.content.decode()


# --- the admin ------------------------------------------------------------------------------------

def test_admin_refuses_a_rule_naming_an_inactive_organisation(login, city, people, orgs):
    client = login(people.district)
    response = client.post(reverse("admin:cases_routingrule_add"), {
        "district": city.district.pk, "category": category("E0201").pk, "function": "",
        "organisation": orgs.closed.pk})
    assert response.status_code == 200
    assert not RoutingRule.objects.exists()


def test_admin_saves_a_rule_and_lists_the_organisation_queue(login, city, people, orgs, sent, unsent):
    client = login(people.district)
    response = client.post(reverse("admin:cases_routingrule_add"), {
        "district": city.district.pk, "category": category("E0202").pk, "function": "police"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert RoutingRule.objects.filter(category__code="E0202").exists()
    page = client.get(reverse("admin:cases_case_changelist") + f"?org_queue={orgs.chengguan.pk}").content.decode()
    assert sent.number in page and unsent.number not in page


def test_cases_stay_where_they_were(city, people, orgs, sent):
    assert Case.objects.count() == 1


def test_the_command_centre_lists_the_whistles_open_on_its_street_only(login, city, people, orgs, sent, unsent):
    from cases import whistles

    whistles.whistle_blow(case=sent, organisations=[orgs.chengguan], acting_user=people.street, reason="占道经营反复",
                          situation="enforcement", urgent=True, now=MONDAY)
    html = login(people.street).get(reverse("cases:command_centre")).content.decode()
    part = html.split('data-section="whistles-open"')[1].split("</section>")[0]
    assert sent.number in part and orgs.chengguan.name in part
    assert unsent.number not in part  # no whistle on it
    other_street = user_with_post(Role.STREET_STAFF, city.street_b, username="street_b2")
    html = login(other_street).get(reverse("cases:command_centre")).content.decode()
    assert sent.number not in html.split('data-section="whistles-open"')[1].split("</section>")[0]
