"""A summoned organisation works on a dispute, not on its mediation file.

吹哨报到 can summon a 城管 squad to a neighbours' dispute. Its staff then see the
matter (the case page, their report-in), but the file holds the parties' names,
ID numbers, phones and the agreement: its pages answer 404 to them, as to anyone
who does not reach the file, while the community's staff and the file's mediator
keep it."""

import pytest
from django.test import Client
from django.urls import reverse

from cases import mediation, whistles
from cases.mediation_selectors import file_cases_visible_to, mediations_visible_to
from cases.selectors import cases_visible_to
from grid.models import Role

from .cases_factories import MONDAY, people  # noqa: F401
from .factories import make_organisation
from .mediation_factories import dispute, med, with_parties  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]

FILE_PAGES = ("cases:mediation", "cases:mediation_files")


@pytest.fixture
def summoned(city, people, make_user):
    """A dispute with parties, a whistle summoning the street's 城管 squad to it, and that squad's staff."""
    squad = make_organisation(seat=city.street_a, name="城北执法中队", areas=[city.street_a])
    staff = make_user(Role.ORG_STAFF, squad, username="cg_staff")
    case = dispute(city, people)
    with_parties(case, people.community)
    whistles.whistle_blow(case=case, organisations=[squad], acting_user=people.street, reason="噪音扰民，需联合执法",
                          situation="enforcement", now=MONDAY)
    return case, staff


def signed_in(user):
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(user)
    return web


def test_summoned_staff_see_the_case_but_not_its_file(summoned):
    case, staff = summoned
    assert cases_visible_to(staff).filter(pk=case.pk).exists()  # the matter: they were summoned to it
    assert not file_cases_visible_to(staff).filter(pk=case.pk).exists()
    assert not mediations_visible_to(staff).exists()


def test_file_pages_answer_404_to_summoned_staff(summoned):
    case, staff = summoned
    web = signed_in(staff)
    page = web.get(reverse("cases:detail", args=[case.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("cases:mediation", args=[case.pk]) not in body  # no link to a page they may not open
    assert "王五" not in body and "赵六" not in body
    assert web.get(reverse("cases:mediation", args=[case.pk])).status_code == 404
    for doc in ("application", "agreement"):
        assert web.get(reverse("cases:mediation_print", args=[case.pk, doc])).status_code == 404
    listing = web.get(reverse("cases:mediation_files"))
    assert listing.status_code == 200 and "王五" not in listing.content.decode()


def test_the_place_staff_and_the_mediator_keep_the_file(summoned, people, med):
    case, _staff = summoned
    mediation.mediation_add_mediator(case=case, mediator=med.mediator, acting_user=people.community, now=MONDAY)
    for user in (people.community, med.mediator):
        web = signed_in(user)
        assert reverse("cases:mediation", args=[case.pk]) in web.get(
            reverse("cases:detail", args=[case.pk])).content.decode()
        page = web.get(reverse("cases:mediation", args=[case.pk]))
        assert page.status_code == 200 and "王五" in page.content.decode()


def test_a_dispute_referred_before_its_file_opened_says_so(city, people):
    """A neighbours' dispute classed 私事 and referred (or rejected) before anyone accepted it: the file
    list and page say no file was opened instead of "mediating" forever, and the case page stops
    asking for an outcome to be recorded."""
    from cases import services_orgs
    from cases.models import CaseKind, Mediation, Status

    from .cases_factories import resident_report

    case = resident_report(city, code="E0501", description="楼上漏水，邻居不肯维修")
    assert case.kind == CaseKind.MEDIATION and not Mediation.objects.get(pk=case.pk).is_open
    web = signed_in(people.community)
    assert reverse("cases:mediation", args=[case.pk]) in web.get(reverse("cases:detail", args=[case.pk])).content.decode()
    case = services_orgs.case_refer(case=case, acting_user=people.community, referred_to="parties",
                                    told="已告知双方自行协商", reason="属邻里私事", now=MONDAY)
    assert case.status == Status.REFERRED
    assert Mediation.objects.get(pk=case.pk).never_opened
    listing = web.get(reverse("cases:mediation_files")).content.decode()
    assert "No file opened" in listing
    page = web.get(reverse("cases:mediation", args=[case.pk])).content.decode()
    assert "No mediation file was opened" in page
    detail = web.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("cases:mediation", args=[case.pk]) not in detail


def test_the_timeline_says_what_happened_in_the_file_only_to_who_may_open_it(summoned, people):
    case, staff = summoned
    respondent = case.mediation.parties.get(role="respondent")
    mediation.mediation_remove_party(party=respondent, acting_user=people.community, reason="不是本纠纷当事人",
                                     now=MONDAY)
    inside = signed_in(people.community).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "File accepted (受理): " + case.mediation.number in inside
    assert "Party added: Applicant (申请人)." in inside
    assert "Party removed as added by mistake: Respondent (被申请人). Reason: 不是本纠纷当事人" in inside
    org_page = signed_in(staff).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Party added" not in org_page and "不是本纠纷当事人" not in org_page
