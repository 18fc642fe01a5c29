"""volunteers/seed.py: teams, stations, volunteers, activities, orders and a year of
points for seed_city, written as the services would write them."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from grid.management.commands import seed_city
from grid.models import Area, AreaKind
from volunteers import ledger, selectors
from volunteers.forms import ORDER_CODE
from volunteers.models import (
    Account,
    Activity,
    CatalogueItem,
    Entry,
    Honour,
    LedgerTransaction,
    Order,
    Redemption,
    ServiceRecord,
    Station,
    Team,
    Volunteer,
)


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("residents", "volunteers"))
    out = StringIO()
    call_command("seed_city", scale="demo", seed=5, stdout=out)
    return out.getvalue()


def test_the_seeded_year(demo):
    """One seeding (residents + volunteers, ~5 s on SQLite), checked from every side."""
    books_are_sound(demo)
    rates_are_plausible()
    demo_chiefs_are_volunteers_with_history()
    households_have_cards()


def books_are_sound(demo):
    assert "points transactions" in demo
    assert ledger.books_problems() == []
    assert Entry.objects.aggregate(s=Sum("amount"))["s"] == 0
    assert not Account.objects.filter(kind="member", balance__lt=0).exists()
    assert not CatalogueItem.objects.filter(stock__lt=0).exists()
    connection.check_constraints()


def rates_are_plausible():
    communities = Area.objects.filter(kind=AreaKind.COMMUNITY).count()
    volunteers = Volunteer.objects.count()
    assert 10 * communities <= volunteers <= 40 * communities
    assert Team.objects.filter(kind="convenience").count() == communities
    assert Station.objects.exists()
    per_volunteer = ServiceRecord.objects.count() / volunteers
    assert 3 <= per_volunteer <= 30  # a few activities a year each
    now = timezone.now()
    year = LedgerTransaction.objects.filter(at__gte=now - timedelta(days=366))
    assert set(year.values_list("kind", flat=True)) >= {"hours", "order", "bonus", "redeem"}
    assert Order.objects.filter(status="confirmed").count() > Order.objects.exclude(status="confirmed").count()
    assert Order.objects.filter(status__in=["open", "claimed", "done"]).exists()
    assert Activity.objects.filter(status="open", starts_at__gt=now).exists()
    assert all(ORDER_CODE.match(code) for code in Order.objects.values_list("tracking_code", flat=True))
    assert Redemption.objects.exists() and Honour.objects.exists()
    # Each confirmed order paid its volunteer once; each record its hours once.
    assert LedgerTransaction.objects.filter(kind="order").count() == Order.objects.filter(status="confirmed").count()
    assert LedgerTransaction.objects.filter(kind="hours").values("service_record").annotate(
        n=Count("id")).filter(n__gt=1).count() == 0


def demo_chiefs_are_volunteers_with_history():
    chief = Volunteer.objects.get(user__username="buildingchief")
    assert chief.service_records.exists()
    assert ledger.balance_of(chief) == Entry.objects.filter(account__volunteer=chief).aggregate(
        s=Sum("amount"))["s"]
    community = Area.objects.get(pk=chief.community_id)
    now = timezone.now()
    assert selectors.ranking(community, since=now - timedelta(days=366), until=now)


def households_have_cards():
    """#23 part 3: the demo's staffed community has households with points, written this year by its
    staff with a reason, no card below zero, and its buildings' boards show the stars."""
    from grid.models import Post, Role
    from volunteers import household_points
    from volunteers.household_models import HouseholdEntry, HouseholdPointsSettings

    entries = HouseholdEntry.objects.all()
    assert entries.count() >= 12 and entries.values("household").distinct().count() == 12
    staff = set(Post.objects.filter(role=Role.COMMUNITY_STAFF, ended_at__isnull=True).values_list("user_id", flat=True))
    assert set(entries.values_list("recorded_by_id", flat=True)) <= staff
    assert not entries.filter(reason="").exists() and not entries.exclude(year=timezone.now().year).exists()
    assert Account.objects.filter(kind="household", balance__lt=0).count() == 0
    assert Account.objects.filter(kind="household", balance__gt=0).exists()
    from grid.models import Building

    (shown,) = HouseholdPointsSettings.objects.filter(stars_on_boards=True)
    buildings = Building.objects.filter(grid__parent_id=shown.community_id).values_list("pk", flat=True)
    stars = household_points.stars_by_building(buildings, now=timezone.now())
    assert stars and all(1 <= n <= 5 for rows in stars.values() for _room, n in rows)


def test_without_residents_volunteers_are_portal_users(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("volunteers",))
    call_command("seed_city", scale="demo", seed=5, stdout=StringIO())
    assert ledger.books_problems() == []
    communities = Area.objects.filter(kind=AreaKind.COMMUNITY).count()
    assert Volunteer.objects.filter(user__isnull=False, resident__isnull=True).count() >= 15 * communities
    assert not Volunteer.objects.filter(user__is_staff=True).exists()
    connection.check_constraints()
