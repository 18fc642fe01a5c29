"""residents/party/seed.py: party building in the demo city (seed_city's app seeder hook).

Seeded after residents and volunteers through `manage.py seed_city`: organisations, members,
reports-in, wishes in every state with their hours in the volunteers' records, 包片 for the demo
leaders, the `partymember` login reported in; the constraints hold and a second run adds nothing.
"""

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from grid.demo import DEMO_PASSWORD
from grid.management.commands import seed_city
from grid.models import Liaison, Post, Role, User
from residents.party import seed as party_seed
from residents.party.models import OrgKind, PartyOrg, ReportIn, ReportStatus, Service, Wish, WishStatus
from volunteers.models import ServiceRecord

from .clock import FROZEN


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("residents", "volunteers", "party"))
    with time_machine.travel(FROZEN, tick=True):
        out = StringIO()
        call_command("seed_city", scale="demo", seed=4, stdout=out)
        yield out.getvalue()


def test_the_demo_shows_party_building(demo):
    assert "包片 assignments" in demo and "partymember" in demo
    connection.check_constraints()
    assert set(PartyOrg.objects.values_list("kind", flat=True)) == set(OrgKind.values)
    assert set(Wish.objects.values_list("status", flat=True)) == set(WishStatus.values)
    # A withdrawn wish shows who took it down and when, as the service records it.
    withdrawn = Wish.objects.filter(status=WishStatus.WITHDRAWN)
    assert not withdrawn.filter(withdrawn_by__isnull=True).exists()
    assert not withdrawn.filter(withdrawn_at__isnull=True).exists()
    assert ReportIn.objects.filter(status=ReportStatus.PENDING).exists()
    # Every confirmed service is a volunteer service record of the same hours, once.
    for service in Service.objects.all():
        record = ServiceRecord.objects.get(source_key=f"party-service:{service.pk}")
        assert record.hours == service.hours
    assert Service.objects.filter(wish__isnull=False).count() == Wish.objects.filter(
        status=WishStatus.CONFIRMED).count()
    # The member's login, reported in to the demo staff's community with every post.
    member = User.objects.get(username=party_seed.MEMBER_USERNAME)
    assert member.check_password(DEMO_PASSWORD) and not member.posts.exists()
    report = ReportIn.objects.get(user=member)
    community = Post.objects.get(user__username="community", role=Role.COMMUNITY_STAFF).area
    assert report.status == ReportStatus.CONFIRMED and report.community_id == community.pk
    assert Wish.objects.filter(community=community, status=WishStatus.POSTED).exists()
    # 包片: the demo street staff look after the demo community.
    assert Liaison.objects.filter(user__username="street", area=community).exists()
    before = PartyOrg.objects.count(), Wish.objects.count(), ServiceRecord.objects.count()
    party_seed.seed(scale=None, rng=None, stdout=StringIO(), now=FROZEN)
    assert (PartyOrg.objects.count(), Wish.objects.count(), ServiceRecord.objects.count()) == before
