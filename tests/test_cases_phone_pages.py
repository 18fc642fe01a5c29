"""The worker's phone pages (issue #21): call links on a revealed number, the nav's counts,
the queue card's place shown once, the inbox in the menu, the app manifest and icons."""

import json
import re

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.urls import reverse

from cases.models import Notification, Status

from .cases_factories import MONDAY, fresh_calendar, people, to_status  # noqa: F401

PHONE = "13800000000"  # the reporter's phone in resident_report


@pytest.fixture
def dispatched(city, people):
    case = to_status(city, people, Status.DISPATCHED, now=MONDAY)
    assert case.assignee == people.worker
    return case


def reveal(client, case):
    return client.post(reverse("cases:reporter_reveal", args=[case.pk]),
                       {"reporter_phone-field": "reporter_phone", "reporter_phone-reason": "回访核实情况"})


def test_a_revealed_phone_is_a_call_link(client, people, dispatched):
    client.force_login(people.worker)
    with time_machine.travel(MONDAY, tick=False):
        before = client.get(reverse("cases:detail", args=[dispatched.pk])).content.decode()
        assert f"tel:{PHONE}" not in before  # masked until revealed
        response = reveal(client, dispatched)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'<a class="code revealed tel-link" href="tel:{PHONE}">{PHONE}</a>', html)


def test_a_worker_of_another_grid_reveals_nothing(client, people, dispatched):
    client.force_login(people.worker_b)
    with time_machine.travel(MONDAY, tick=False):
        response = reveal(client, dispatched)
    assert response.status_code == 404 and PHONE not in response.content.decode()


def test_the_nav_counts_my_queue_and_unread_notices(client, people, dispatched, city):
    Notification.objects.create(user=people.worker, message="一条新消息", created_at=MONDAY)
    Notification.objects.create(user=people.worker_b, message="别人的消息", created_at=MONDAY)
    client.force_login(people.worker)
    with time_machine.travel(MONDAY, tick=False):
        html = client.get(reverse("cases:queue")).content.decode()
    tabbar = html[html.index('class="tab-bar"'):]
    queue_tab = re.search(r'href="/cases/queue/"[^>]*>.*?</a>', tabbar, re.S).group(0)
    inbox_tab = re.search(r'href="/inbox/"[^>]*>.*?</a>', tabbar, re.S).group(0)
    assert re.search(r'class="nav-badge tab-badge">1<', queue_tab)
    assert re.search(r'class="nav-badge tab-badge">1<', inbox_tab)
    # The menu folds into a button on a phone: one <details> around the list.
    assert html.count('<details class="nav-menu">') == 1
    # The patrol form for a grid worker.
    assert reverse("cases:patrol") in tabbar


def test_the_queue_card_names_the_place_once(client, people, dispatched, city):
    client.force_login(people.worker)
    with time_machine.travel(MONDAY, tick=False):
        html = client.get(reverse("cases:queue")).content.decode()
    card = html[html.index('class="case-list"'):]
    card = card[:card.index("</li>")]
    assert card.count(city.building_a.number) == 1


def test_the_manifest_and_icons_are_served(client, db):
    html = client.get(reverse("cases:track_lookup")).content.decode()
    assert 'rel="manifest"' in html and 'rel="icon"' in html and 'rel="apple-touch-icon"' in html
    manifest = json.loads(open(finders.find("manifest.webmanifest"), encoding="utf-8").read())
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"]), icon["src"]  # relative to the manifest, under /static/


def test_the_404_is_the_portals_chinese_page(client, db):
    response = client.get("/no-such-page/", headers={"Accept-Language": "zh-hans"})
    html = response.content.decode()
    assert response.status_code == 404
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert 'lang="zh-hans"' in html and "css/portal.css" in html
