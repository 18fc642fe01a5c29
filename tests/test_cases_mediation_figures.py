"""cases/mediation_figures.py pinned by a hand-computed fixture, and the dashboards' mediation panel
inside and outside the official's places."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from cases import mediation as m
from cases.mediation_figures import figures, figures_by
from cases.mediation_followup import mediation_follow_up
from cases.mediation_selectors import mediations_visible_to
from cases.models import Mediation

from .cases_factories import MONDAY, at, fresh_calendar, people  # noqa: F401
from .mediation_factories import dispute, med, with_parties  # noqa: F401

pytestmark = pytest.mark.clock(MONDAY + timedelta(days=31))


def concluded(city, people, outcome, **kwargs):
    case = dispute(city, people)
    if outcome in ("agreed", "partial"):
        with_parties(case, people.community)
        m.mediation_record_session(case=case, acting_user=people.community, held_at=MONDAY, notes="调解", now=MONDAY)
        kwargs.update(agreement_text="赔偿", consent_recorded=True,
                      performance_deadline=MONDAY.date() + timedelta(days=10))
    m.mediation_conclude(case=case, acting_user=people.community, outcome=outcome, now=MONDAY, **kwargs)
    return case


@pytest.fixture
def files(city, people, med):
    agreed = concluded(city, people, "agreed")
    partial = concluded(city, people, "partial")
    street_level = concluded(city, people, "agreed")
    # As if the street's committee had kept it (a case without a community).
    Mediation.objects.filter(pk=street_level.pk).update(committee=city.street_a)
    concluded(city, people, "failed", referral="arbitration")
    concluded(city, people, "withdrawn")
    dispute(city, people)  # received, still in progress
    dispute(city, people, open_file=False)  # not yet accepted: not received
    mediation_follow_up(case=agreed, acting_user=people.community, performance="performed", note="已履行",
                        now=MONDAY + timedelta(days=30))
    mediation_follow_up(case=partial, acting_user=people.community, performance="not_performed", note="未履行",
                        now=MONDAY + timedelta(days=30))
    return agreed


def test_the_figures_by_hand(city, people, files):
    found = figures(mediations_visible_to(people.community), start=at(2026, 11, 1), end=at(2027, 1, 1))
    # 6 accepted; 5 concluded, 1 withdrawn → 4 mediated; 3 agreements (2 by the community's committee);
    # 1 referred; 2 followed up, 1 performed.
    assert (found.received, found.concluded, found.withdrawn, found.successful, found.in_community,
            found.referred, found.followed_up, found.performed) == (6, 5, 1, 3, 2, 1, 2, 1)
    assert (found.success_rate, found.community_rate, found.performed_rate) == (0.75, 0.5, 0.5)
    # A period before anything happened counts nothing.
    empty = figures(mediations_visible_to(people.community), start=at(2026, 10, 1), end=at(2026, 11, 1))
    assert empty.received == 0 and empty.success_rate is None
    by_type = dict(figures_by(mediations_visible_to(people.community), "dispute_type",
                              start=at(2026, 11, 1), end=at(2027, 1, 1)))
    assert by_type["neighbour"].successful == 3


def test_the_dashboard_panel_inside_and_outside(city, people, files):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people.community)
    page = client.get(reverse("cases:dashboard_place_mediation", args=[city.community_a.pk]) + "?period=year")
    assert page.status_code == 200
    assert "75.0%" in page.text and "Dispute mediation" in page.text
    assert client.get(reverse("cases:dashboard_place_mediation", args=[city.community_b.pk])).status_code == 404
    export = client.get(reverse("cases:dashboard_place_export", args=[city.community_a.pk, "mediation", "csv"])
                        + "?period=year")
    assert export.status_code == 200 and "75.0%" in export.content.decode("utf-8-sig")
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(people.community_b)
    page = other.get(reverse("cases:dashboard_place_mediation", args=[city.community_b.pk]) + "?period=year")
    assert page.status_code == 200 and "75.0%" not in page.text
