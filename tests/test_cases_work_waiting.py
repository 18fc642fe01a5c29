"""Where work waits for the people in the street.

- A resolved case waits for a check on site (核查) by someone of its grid other than whoever
  resolved it: it is listed above the grid worker's queue and counted on the queue badge, for
  the grid's workers and nobody on another grid.
- An organisation's staff (城管, 物业...) work from their organisation's queue: the phone's queue
  tab leads there and counts its matters, and their home page says where their work is instead
  of counting buildings they do not reach.
"""

import pytest
from django.test import Client
from django.urls import reverse

from cases import services, services_orgs
from cases.models import Status
from cases.selectors import nav_counts_for, verify_queue_for

from .cases_factories import MONDAY, people, resident_report, to_status  # noqa: F401
from .orgs_factories import big_matter, orgs  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]


def signed_in(user):
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(user)
    return web


def other_worker_of_grid_a(people, case):
    return people.worker2 if case.resolved_by_id == people.worker.pk else people.worker


def test_a_resolved_case_waits_for_the_grids_other_worker(city, people):
    case = to_status(city, people, Status.RESOLVED)
    checker = other_worker_of_grid_a(people, case)
    resolver = case.resolved_by
    assert list(verify_queue_for(checker)) == [case]
    assert not verify_queue_for(resolver).exists()  # the one who resolved it does not verify it
    assert not verify_queue_for(people.worker_b).exists()  # another grid's worker
    assert not verify_queue_for(people.community).exists()  # staff verify from the admin, not a phone queue


def test_queue_page_lists_the_checks_and_the_badge_counts_them(city, people):
    case = to_status(city, people, Status.RESOLVED)
    elsewhere = resident_report(city, building=city.building_b)  # grid B: never in grid A's list
    checker = other_worker_of_grid_a(people, case)
    before = nav_counts_for(checker)[0]
    page = signed_in(checker).get(reverse("cases:queue"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "To verify on site" in body and reverse("cases:detail", args=[case.pk]) in body
    assert reverse("cases:detail", args=[elsewhere.pk]) not in body
    # Verified: it leaves the list and the badge.
    services.case_verify(case=case, acting_user=checker, passed=True, now=MONDAY)
    assert nav_counts_for(checker)[0] == before - 1
    assert "To verify on site" not in signed_in(checker).get(reverse("cases:queue")).content.decode()


def test_grid_b_worker_sees_no_check_of_grid_a(city, people):
    case = to_status(city, people, Status.RESOLVED)
    body = signed_in(people.worker_b).get(reverse("cases:queue")).content.decode()
    assert reverse("cases:detail", args=[case.pk]) not in body and "To verify on site" not in body


def test_organisation_staff_queue_tab_leads_to_their_organisation(city, people, orgs):
    case = big_matter(city, orgs, people)
    services_orgs.case_org_dispatch(case=case, acting_user=people.street, lead=orgs.chengguan, now=MONDAY)
    staff = orgs.cg_staff
    assert nav_counts_for(staff)[0] == 1  # the matter to sign in counts on the tab's badge
    assert nav_counts_for(orgs.far_staff)[0] == 0  # another organisation's staff: nothing
    web = signed_in(staff)
    home = web.get(reverse("home"))
    body = home.content.decode()
    assert home.status_code == 200
    tab_bar = body[body.index('class="tab-bar"'):]
    tab_bar = tab_bar[:tab_bar.index("</nav>")]
    assert f'href="{reverse("cases:org_queue")}"' in tab_bar  # the phone's queue tab
    assert f'href="{reverse("cases:queue")}"' not in tab_bar
    assert "What I can reach" not in body  # no counts of buildings they never reach
    queue = web.get(reverse("cases:queue")).content.decode()
    assert reverse("cases:org_queue") in queue  # the personal queue points to the organisation's


def test_place_staff_keep_their_own_queue_tab(city, people):
    body = signed_in(people.worker).get(reverse("home")).content.decode()
    tab_bar = body[body.index('class="tab-bar"'):]
    assert f'href="{reverse("cases:queue")}"' in tab_bar[:tab_bar.index("</nav>")] and "What I can reach" in body
