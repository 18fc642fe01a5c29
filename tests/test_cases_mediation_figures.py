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


def test_the_figures_by_channel_type_and_mediator_and_their_tables(city, people, med, files):
    # A family dispute the court entrusted (诉调对接), mediated by the people's mediator, failed and referred.
    court = dispute(city, people, open_file=False)
    m.mediation_open(case=court, acting_user=people.community, dispute_type="family", source="court",
                     source_body="城关区人民法院", source_ref="(2026)川0703民诉前调1号", now=MONDAY)
    m.mediation_add_mediator(case=court, mediator=med.mediator, acting_user=people.community, now=MONDAY)
    m.mediation_conclude(case=court, acting_user=med.mediator, outcome="failed", referral="litigation", now=MONDAY)
    scoped = mediations_visible_to(people.community)
    window = {"start": at(2026, 11, 1), "end": at(2027, 1, 1)}
    by_channel = dict(figures_by(scoped, "source", **window))
    assert set(by_channel) == {"direct", "court"}
    court_figures, direct = by_channel["court"], by_channel["direct"]
    assert (court_figures.received, court_figures.successful, court_figures.referred) == (1, 0, 1)
    assert (direct.received, direct.successful, direct.referred, direct.success_rate) == (6, 3, 1, 0.75)
    by_type = dict(figures_by(scoped, "dispute_type", **window))
    assert (by_type["family"].received, by_type["neighbour"].received) == (1, 6)
    by_mediator = dict(figures_by(scoped, "mediators", **window))
    # The staff who accepted the cases mediate all seven opened files; the people's mediator one.
    assert (by_mediator[people.community.pk].received, by_mediator[med.mediator.pk].received) == (7, 1)
    assert by_mediator[med.mediator.pk].referred == 1

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people.community)
    page = client.get(reverse("cases:dashboard_place_mediation", args=[city.community_a.pk]) + "?period=year")
    for table in ("table-mediation", "table-mediation-types", "table-mediation-channels", "table-mediation-mediators"):
        assert f'id="{table}"' in page.text, table
    for label in ("Court entrusted (诉调对接)", "Parties or community (直接受理)", "李调解", "Success rate (调解成功率)",
                  "Solved in the community", "Referred on", "Performed at follow-up"):
        assert label in page.text, label
