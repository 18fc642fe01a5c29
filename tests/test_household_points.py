"""The households' points card (issue #23 part 3): entries, automatic credits, redemption, the year's reset.

Every figure is worked out by hand from the entries the test books.
"""

from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from PIL import Image

from grid.models import Role
from portal.errors import DomainError
from residents.participation import services as participation
from residents.participation.attendance import meeting_attend
from volunteers import household_points as hp
from volunteers import ledger, services
from volunteers.household_models import DEFAULT_ASPECTS, HouseholdEntry, HouseholdYear, PointsAspect
from volunteers.models import Account, AccountKind, CatalogueItem, Entry, LedgerTransaction, Redemption

from .factories import user_with_post
from .residents_factories import household_in, resident_in

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)


class Homes:
    def __init__(self, city):
        self.city = city
        self.staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, username="hp_staff")
        self.worker = user_with_post(Role.GRID_WORKER, city.grid_a, username="hp_worker")
        self.worker_a2 = user_with_post(Role.GRID_WORKER, city.grid_a2, username="hp_worker2")
        self.staff_b = user_with_post(Role.COMMUNITY_STAFF, city.community_b, username="hp_staff_b")
        self.street = user_with_post(Role.STREET_STAFF, city.street_a, username="hp_street")
        self.home = household_in(city.unit_a, "301", acting_user=self.staff)
        self.member = resident_in(self.home, "李秀英", acting_user=self.staff, phone="13900000001")
        self.away = household_in(city.unit_b, "502", acting_user=self.staff_b)
        self.outsider = resident_in(self.away, "孙志刚", acting_user=self.staff_b, phone="13900009999")

    def aspect(self, name="垃圾分类"):
        return hp.aspects_for(self.city.district.pk).get(name=name)


@pytest.fixture
def homes(city):
    return Homes(city)


def _photo():
    buffer = BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "JPEG")
    return SimpleUploadedFile("proof.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_the_seven_default_aspects_are_seeded_per_district(homes, city):
    assert list(hp.aspects_for(city.district.pk).values_list("name", flat=True)) == list(DEFAULT_ASPECTS)
    assert not PointsAspect.objects.filter(district=city.other_district).exists()
    PointsAspect.objects.filter(district=city.district, name="移风易俗").update(is_active=False)
    assert "移风易俗" not in hp.aspects_for(city.district.pk).values_list("name", flat=True)


def test_an_entry_books_on_the_double_entry_ledger(homes, city):
    entry = hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=8, reason="垃圾分类示范户",
                                   evidence=_photo(), acting_user=homes.worker, now=NOW)
    assert entry.transaction.kind == "household"
    assert sorted(entry.transaction.entries.values_list("amount", flat=True)) == [-8, 8]
    assert hp.household_balance(homes.home) == 8
    assert Account.objects.get(kind=AccountKind.ISSUING, community=city.community_a).balance == -8
    assert entry.evidence.name.startswith("points/") and entry.year == 2026
    deduction = hp.household_entry_add(household=homes.home, aspect=homes.aspect("环境卫生"), points=-3,
                                       reason="楼道堆物", acting_user=homes.staff, now=NOW)
    assert deduction.points == -3 and hp.household_balance(homes.home) == 5
    assert ledger.books_problems() == []


@pytest.mark.parametrize("bad", [
    {"reason": "  "},
    {"reason": None},
    {"points": "abc"},
    {"points": "1.5"},
    {"points": 0},
    {"points": 101},
    {"points": 10**12},
    {"points": "1e3"},
    {"points": True},
    {"points": None},
    {"points": -1},  # the card holds nothing yet: would go negative
    {"aspect": None},
])
def test_bad_entries_are_refused_and_nothing_is_written(homes, bad):
    fields = dict(household=homes.home, aspect=homes.aspect(), points=5, reason="邻里互助", acting_user=homes.staff,
                  now=NOW)
    with pytest.raises(DomainError):
        hp.household_entry_add(**{**fields, **bad})
    assert not LedgerTransaction.objects.exists() and not HouseholdEntry.objects.exists()
    assert hp.household_balance(homes.home) == 0


def test_an_aspect_of_another_district_is_refused(homes, city):
    foreign = hp.aspects_for(city.other_district.pk).first()
    with pytest.raises(DomainError):
        hp.household_entry_add(household=homes.home, aspect=foreign, points=5, reason="x", acting_user=homes.staff,
                               now=NOW)
    assert not HouseholdEntry.objects.exists()


def test_a_photo_that_is_not_one_is_refused(homes):
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    with pytest.raises(DomainError):
        hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=5, reason="x", evidence=fake,
                               acting_user=homes.staff, now=NOW)
    assert not HouseholdEntry.objects.exists()


@pytest.mark.parametrize("who", ["staff_b", "worker_a2", "street"])
def test_a_household_outside_the_writers_places_is_refused(homes, who):
    # staff of another community, a grid worker of the next grid, street staff (reads, never writes)
    with pytest.raises(DomainError):
        hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=5, reason="x",
                               acting_user=getattr(homes, who), now=NOW)
    assert not HouseholdEntry.objects.exists()


def test_a_deduction_past_the_balance_is_refused(homes):
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=4, reason="a", acting_user=homes.staff,
                           now=NOW)
    with pytest.raises(DomainError):
        hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=-5, reason="b",
                               acting_user=homes.staff, now=NOW)
    assert hp.household_balance(homes.home) == 4 and HouseholdEntry.objects.count() == 1


def test_the_database_refuses_a_negative_household_balance(homes, city):
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=4, reason="a", acting_user=homes.staff,
                           now=NOW)
    account = hp.household_account(homes.home)
    issuing = ledger.community_account(city.community_a, AccountKind.ISSUING)
    txn = LedgerTransaction.objects.create(kind="household", at=NOW, memo="bypassing the service")
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.bulk_create([Entry(transaction=txn, account=account, amount=-5, at=NOW),
                                   Entry(transaction=txn, account=issuing, amount=5, at=NOW)])


def test_a_replayed_form_books_once(homes):
    first = hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=5, reason="x",
                                   acting_user=homes.staff, now=NOW, idempotency_key="k-1")
    again = hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=5, reason="x",
                                   acting_user=homes.staff, now=NOW, idempotency_key="k-1")
    assert first.pk == again.pk and hp.household_balance(homes.home) == 5


# --- automatic entries ----------------------------------------------------------------------------

def test_a_confirmed_support_credits_the_household_once(homes, city):
    proposal = participation.proposal_create(place=city.grid_a, title="加装充电桩", description="飞线充电有隐患",
                                             threshold=5, acting_user=homes.staff, now=NOW)
    participation.proposal_support(proposal=proposal, resident=homes.member, acting_user=homes.staff, now=NOW)
    with pytest.raises(DomainError):  # the same support twice is refused by participation, nothing credited
        participation.proposal_support(proposal=proposal, resident=homes.member, acting_user=homes.staff, now=NOW)
    entry = HouseholdEntry.objects.get()
    assert (entry.points, entry.aspect.name, entry.recorded_by) == (hp.SUPPORT_POINTS, "参与议事", None)
    assert entry.source_key.startswith("participation.support:")
    assert hp.household_balance(homes.home) == hp.SUPPORT_POINTS


def test_a_meeting_attendance_credits_the_household_once(homes, city):
    meeting = participation.meeting_create(place=city.community_a, kind="council", title="居民议事会",
                                           held_at=NOW, acting_user=homes.staff, now=NOW)
    attendance = meeting_attend(meeting=meeting, resident=homes.member, acting_user=homes.staff, now=NOW)
    with pytest.raises(DomainError):
        meeting_attend(meeting=meeting, resident=homes.member, acting_user=homes.staff, now=NOW)
    # The event replayed straight to the card (a retried hook) credits nothing more.
    hp.credit_attendance(attendance=attendance, household=homes.home, now=NOW + timedelta(minutes=1))
    assert HouseholdEntry.objects.count() == 1
    assert hp.household_balance(homes.home) == hp.ATTENDANCE_POINTS


def test_attendance_of_a_resident_outside_the_place_is_refused(homes, city):
    meeting = participation.meeting_create(place=city.community_a, kind="council", title="居民议事会",
                                           held_at=NOW, acting_user=homes.staff, now=NOW)
    with pytest.raises(DomainError):
        meeting_attend(meeting=meeting, resident=homes.outsider, acting_user=homes.staff, now=NOW)
    assert not HouseholdEntry.objects.exists()


def test_a_confirmed_volunteer_record_of_a_member_credits_the_household(homes, city):
    start = NOW - timedelta(days=2)
    volunteer = services.volunteer_register(home=city.grid_a, resident=homes.member, acting_user=homes.staff,
                                            now=start - timedelta(days=5))
    activity = services.activity_add(area=city.community_a, title="清理楼道", location="幸福路1号", starts_at=start,
                                     ends_at=start + timedelta(hours=2), capacity=3, acting_user=homes.staff,
                                     now=start - timedelta(days=3))
    signup = services.signup(activity=activity, volunteer=volunteer, acting_user=homes.staff,
                             now=start - timedelta(days=1))
    services.check_in(signup_obj=signup, at=start, acting_user=homes.staff, now=start)
    services.check_out(signup_obj=signup, at=start + timedelta(hours=2), acting_user=homes.staff,
                       now=start + timedelta(hours=2))
    record = services.confirm_hours(signup_obj=signup, acting_user=homes.staff, now=start + timedelta(hours=3))
    services.confirm_hours(signup_obj=signup, acting_user=homes.staff, now=start + timedelta(hours=4))
    entry = HouseholdEntry.objects.get()
    assert entry.source_key == f"volunteers.record:{record.pk}" and entry.aspect.name == "志愿服务"
    assert hp.household_balance(homes.home) == hp.VOLUNTEERING_POINTS
    assert ledger.balance_of(volunteer) == 20  # the volunteer's own points are untouched: 2 h × 10
    assert ledger.books_problems() == []


# --- redemption ---------------------------------------------------------------------------------

@pytest.fixture
def shop(homes, city):
    return CatalogueItem.objects.create(community=city.community_a, name="洗衣液", kind="prize", price=3, stock=2)


def test_a_member_redeems_from_the_households_balance(homes, shop, city):
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=7, reason="x", acting_user=homes.staff,
                           now=NOW)
    redemption = hp.household_redeem(household=homes.home, member=homes.member, item=shop, quantity=2,
                                     acting_user=homes.staff, now=NOW)
    assert (redemption.points, redemption.household_id, redemption.volunteer_id) == (6, homes.home.pk, None)
    assert hp.household_balance(homes.home) == 1
    assert CatalogueItem.objects.get(pk=shop.pk).stock == 0
    assert Account.objects.get(kind=AccountKind.REDEMPTION, community=city.community_a).balance == 6
    ledger.redemption_cancel(redemption=redemption, reason="不要了", acting_user=homes.staff, now=NOW)
    assert hp.household_balance(homes.home) == 7 and CatalogueItem.objects.get(pk=shop.pk).stock == 2
    assert ledger.books_problems() == []


@pytest.mark.parametrize("bad", ["too_dear", "not_member", "outsider", "quantity"])
def test_bad_redemptions_are_refused_and_nothing_is_written(homes, shop, bad):
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=5, reason="x", acting_user=homes.staff,
                           now=NOW)
    fields = dict(household=homes.home, member=homes.member, item=shop, quantity=1, acting_user=homes.staff, now=NOW)
    fields.update({"too_dear": {"quantity": 2}, "not_member": {"member": homes.outsider},
                   "outsider": {"acting_user": homes.staff_b}, "quantity": {"quantity": "abc"}}[bad])
    with pytest.raises(DomainError):
        hp.household_redeem(**fields)
    assert not Redemption.objects.exists() and CatalogueItem.objects.get(pk=shop.pk).stock == 2
    assert hp.household_balance(homes.home) == 5


def test_a_redemption_pays_one_payer_only(homes, shop):
    with pytest.raises(IntegrityError), transaction.atomic():
        Redemption.objects.create(item=shop, household=homes.home, quantity=1, points=3, requested_at=NOW)


# --- the year's reset ---------------------------------------------------------------------------

def test_the_year_end_archives_and_resets_once(homes, shop, city):
    last_year = datetime(2025, 6, 1, 9, 0, tzinfo=TZ)
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=10, reason="a",
                           acting_user=homes.staff, now=last_year)
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=-2, reason="b",
                           acting_user=homes.staff, now=last_year + timedelta(days=1))
    hp.household_redeem(household=homes.home, member=homes.member, item=shop, acting_user=homes.staff,
                        now=last_year + timedelta(days=2))
    # This year's points are not the closed year's.
    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=4, reason="c",
                           acting_user=homes.staff, now=NOW - timedelta(days=1))
    rows = LedgerTransaction.objects.count()
    assert hp.household_years_close(year=2025, now=NOW) == 1
    assert hp.household_years_close(year=2025, now=NOW) == 0  # twice: nothing more
    archived = HouseholdYear.objects.get()
    # earned 10; spent 2 (deduction) + 3 (redemption); closing 10 − 2 − 3 = 5
    assert (archived.earned, archived.spent, archived.closing_balance) == (10, 5, 5)
    assert hp.household_balance(homes.home) == 4  # 9 − the 5 reset
    assert LedgerTransaction.objects.count() == rows + 1  # one reset booked, nothing deleted
    assert ledger.books_problems() == []
    with pytest.raises(DomainError):
        hp.household_years_close(year=2026, now=NOW)


def test_the_year_end_command_and_task_close_last_year(homes, city):
    from django.core.management import call_command

    from volunteers import tasks

    hp.household_entry_add(household=homes.home, aspect=homes.aspect(), points=6, reason="a",
                           acting_user=homes.staff, now=datetime(2025, 3, 1, tzinfo=TZ))
    call_command("close_household_points_year", "--year", "2025")
    assert HouseholdYear.objects.get().closing_balance == 6
    import time_machine

    with time_machine.travel(datetime(2026, 1, 1, 0, 41, tzinfo=TZ), tick=False):
        assert tasks.close_household_points_year() == 0  # already closed: idempotent
    assert HouseholdYear.objects.count() == 1 and hp.household_balance(homes.home) == 0
