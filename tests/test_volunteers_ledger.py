"""The points ledger: balanced, append-only, never negative, never oversold.

The property test drives random sequences of awards, reversals, redemptions and
cancellations against a model of what the balances and stock should be, and
checks the books after every step.
"""

import threading
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grid.models import Role
from portal.errors import DomainError
from volunteers import ledger, services
from volunteers.models import Account, AccountKind, CatalogueItem, Entry, LedgerTransaction, Redemption

from .factories import UserFactory, user_with_post

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def books(city):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    people = [UserFactory(), UserFactory()]
    volunteers = [services.volunteer_register(home=city.grid_a, user=u, acting_user=u, now=NOW) for u in people]
    items = [
        CatalogueItem.objects.create(community=city.community_a, name="理发", kind="service", price=20, stock=3),
        CatalogueItem.objects.create(community=city.community_a, name="大米", kind="prize", price=50, stock=1),
    ]
    return staff, people, volunteers, items


def test_bonus_moves_points_from_the_community(books, city):
    staff, _people, (v1, _v2), _items = books
    txn = ledger.award_bonus(volunteer=v1, points=30, reason="社区好人", acting_user=staff, now=NOW)
    assert sorted(txn.entries.values_list("amount", flat=True)) == [-30, 30]
    assert ledger.balance_of(v1) == 30
    assert Account.objects.get(kind=AccountKind.ISSUING, community=city.community_a).balance == -30
    assert ledger.books_problems() == []


@pytest.mark.parametrize("points", [0, -5, 1.5, "1.5", "abc", True, None, Decimal("NaN"), 10**9])
def test_bad_points_are_refused_and_nothing_is_booked(books, points):
    staff, _people, (v1, _v2), _items = books
    with pytest.raises(DomainError):
        ledger.award_bonus(volunteer=v1, points=points, reason="x", acting_user=staff, now=NOW)
    assert not LedgerTransaction.objects.exists()


def test_bonus_needs_a_reason_and_a_manager(books, city):
    staff, (p1, _p2), (v1, _v2), _items = books
    with pytest.raises(DomainError):
        ledger.award_bonus(volunteer=v1, points=5, reason="  ", acting_user=staff, now=NOW)
    outsider = user_with_post(Role.COMMUNITY_STAFF, city.community_b)
    with pytest.raises(DomainError):
        ledger.award_bonus(volunteer=v1, points=5, reason="x", acting_user=outsider, now=NOW)
    with pytest.raises(DomainError):  # a volunteer cannot award themselves
        ledger.award_bonus(volunteer=v1, points=5, reason="x", acting_user=p1, now=NOW)
    assert not LedgerTransaction.objects.exists()


def test_a_replayed_request_books_once(books):
    staff, _people, (v1, _v2), _items = books
    first = ledger.award_bonus(volunteer=v1, points=5, reason="x", acting_user=staff, now=NOW, idempotency_key="k1")
    again = ledger.award_bonus(volunteer=v1, points=5, reason="x", acting_user=staff, now=NOW, idempotency_key="k1")
    assert first.pk == again.pk
    assert ledger.balance_of(v1) == 5


def test_redeeming_more_than_the_balance_is_refused_whole(books):
    staff, (p1, _p2), (v1, _v2), (haircut, _rice) = books
    ledger.award_bonus(volunteer=v1, points=30, reason="x", acting_user=staff, now=NOW)
    with pytest.raises(DomainError) as err:
        ledger.redeem(volunteer=v1, item=haircut, quantity=2, acting_user=p1, now=NOW)
    assert err.value.code == "insufficient"
    haircut.refresh_from_db()
    assert haircut.stock == 3  # the stock taken before the booking failed came back with the rollback
    assert not Redemption.objects.exists()
    assert ledger.balance_of(v1) == 30


def test_redeem_pickup_and_cancel(books, city):
    staff, (p1, _p2), (v1, _v2), (haircut, _rice) = books
    ledger.award_bonus(volunteer=v1, points=45, reason="x", acting_user=staff, now=NOW)
    first = ledger.redeem(volunteer=v1, item=haircut, acting_user=p1, now=NOW)
    second = ledger.redeem(volunteer=v1, item=haircut, acting_user=p1, now=NOW)
    assert ledger.balance_of(v1) == 5
    ledger.redemption_pickup(redemption=first, acting_user=staff, now=NOW)
    with pytest.raises(DomainError):
        ledger.redemption_cancel(redemption=first, reason="changed mind", acting_user=staff, now=NOW)
    ledger.redemption_cancel(redemption=second, reason="changed mind", acting_user=staff, now=NOW)
    haircut.refresh_from_db()
    assert haircut.stock == 2 and ledger.balance_of(v1) == 25
    assert Account.objects.get(kind=AccountKind.REDEMPTION, community=city.community_a).balance == 20
    assert ledger.books_problems() == []


def test_out_of_stock(books):
    staff, (p1, p2), (v1, v2), (_haircut, rice) = books
    for v in (v1, v2):
        ledger.award_bonus(volunteer=v, points=50, reason="x", acting_user=staff, now=NOW)
    ledger.redeem(volunteer=v1, item=rice, acting_user=p1, now=NOW)
    with pytest.raises(DomainError) as err:
        ledger.redeem(volunteer=v2, item=rice, acting_user=p2, now=NOW)
    assert err.value.code == "out_of_stock"
    assert ledger.balance_of(v2) == 50


def test_reversal_is_a_new_entry_and_happens_once(books):
    staff, _people, (v1, _v2), _items = books
    award = ledger.award_bonus(volunteer=v1, points=10, reason="x", acting_user=staff, now=NOW)
    reversal = ledger.reverse(txn=award, reason="wrong person", acting_user=staff, now=NOW)
    assert reversal.reverses_id == award.pk and ledger.balance_of(v1) == 0
    assert Entry.objects.count() == 4
    with pytest.raises(DomainError):
        ledger.reverse(txn=award, reason="again", acting_user=staff, now=NOW)
    with pytest.raises(DomainError):
        ledger.reverse(txn=reversal, reason="undo the undo", acting_user=staff, now=NOW)


def test_reversing_spent_points_is_refused(books):
    staff, (p1, _p2), (v1, _v2), (haircut, _rice) = books
    award = ledger.award_bonus(volunteer=v1, points=20, reason="x", acting_user=staff, now=NOW)
    ledger.redeem(volunteer=v1, item=haircut, acting_user=p1, now=NOW)
    with pytest.raises(DomainError) as err:
        ledger.reverse(txn=award, reason="oops", acting_user=staff, now=NOW)
    assert err.value.code == "insufficient"
    assert ledger.balance_of(v1) == 0 and ledger.books_problems() == []


def test_entries_and_transactions_cannot_be_edited(books):
    staff, _people, (v1, _v2), _items = books
    award = ledger.award_bonus(volunteer=v1, points=10, reason="x", acting_user=staff, now=NOW)
    for statement in (lambda: Entry.objects.update(amount=99),
                      lambda: LedgerTransaction.objects.filter(pk=award.pk).update(memo="edited")):
        with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
            statement()
    assert ledger.balance_of(v1) == 10


def test_the_database_refuses_a_negative_member_balance(books):
    """Even a write that skips the service: the trigger updates the balance, the check refuses it."""
    _staff, _people, (v1, _v2), _items = books
    member = ledger.member_account(v1)
    txn = LedgerTransaction.objects.create(kind="bonus", at=NOW, memo="raw")
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(transaction=txn, account=member, amount=-1, at=NOW)


def test_an_unbalanced_transaction_cannot_commit_on_postgresql(books, on_postgres):
    _staff, _people, (v1, _v2), _items = books
    member = ledger.member_account(v1)
    txn = LedgerTransaction.objects.create(kind="bonus", at=NOW, memo="raw")
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.create(transaction=txn, account=member, amount=5, at=NOW)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would do


ACTIONS = st.one_of(
    st.tuples(st.just("bonus"), st.integers(0, 1), st.integers(1, 60)),
    st.tuples(st.just("redeem"), st.integers(0, 1), st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("pickup"), st.integers(0, 50)),
    st.tuples(st.just("bad"), st.sampled_from([0, -3, 2.5, "x"])),
)


@pytest.mark.django_db
def test_random_sequences_keep_the_books(books):
    staff, people, volunteers, items = books

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(ACTIONS, max_size=20))
    def run(actions):
        savepoint = transaction.savepoint_create()
        try:
            _play(actions, staff, people, volunteers, items)
        finally:
            transaction.savepoint_rollback(savepoint)

    run()


def _play(actions, staff, people, volunteers, items):
    balance = {v.pk: 0 for v in volunteers}
    stock = {i.pk: CatalogueItem.objects.get(pk=i.pk).stock for i in items}
    booked = []  # (transaction, volunteer pk, signed points to the volunteer)
    redemptions = []
    for action in actions:
        kind = action[0]
        try:
            if kind == "bonus":
                v = volunteers[action[1]]
                txn = ledger.award_bonus(volunteer=v, points=action[2], reason="r", acting_user=staff, now=NOW)
                balance[v.pk] += action[2]
                booked.append((txn, v.pk, action[2]))
            elif kind == "redeem":
                v, item, qty = volunteers[action[1]], items[action[2]], action[3]
                price = item.price * qty
                expect_ok = balance[v.pk] >= price and stock[item.pk] >= qty
                try:
                    r = ledger.redeem(volunteer=v, item=item, quantity=qty, acting_user=people[action[1]], now=NOW)
                except DomainError:
                    assert not expect_ok
                else:
                    assert expect_ok
                    balance[v.pk] -= price
                    stock[item.pk] -= qty
                    redemptions.append((r, v.pk))
            elif kind == "reverse" and booked:
                txn, vpk, amount = booked[action[1] % len(booked)]
                already = LedgerTransaction.objects.filter(reverses=txn).exists()
                try:
                    ledger.reverse(txn=txn, reason="r", acting_user=staff, now=NOW)
                except DomainError:
                    assert already or balance[vpk] < amount
                else:
                    assert not already and balance[vpk] >= amount
                    balance[vpk] -= amount
            elif kind in ("cancel", "pickup") and redemptions:
                r, vpk = redemptions[action[1] % len(redemptions)]
                waiting = Redemption.objects.get(pk=r.pk).status == Redemption.Status.RESERVED
                try:
                    if kind == "cancel":
                        ledger.redemption_cancel(redemption=r, reason="r", acting_user=staff, now=NOW)
                    else:
                        ledger.redemption_pickup(redemption=r, acting_user=staff, now=NOW)
                except DomainError:
                    assert not waiting
                else:
                    assert waiting
                    if kind == "cancel":
                        balance[vpk] += r.points
                        stock[r.item_id] += r.quantity
            elif kind == "bad":
                with pytest.raises(DomainError):
                    ledger.award_bonus(volunteer=volunteers[0], points=action[1], reason="r", acting_user=staff,
                                       now=NOW)
        finally:
            assert ledger.books_problems() == []
        assert {v.pk: ledger.balance_of(v) for v in volunteers} == balance
        assert dict(CatalogueItem.objects.filter(pk__in=stock).values_list("pk", "stock")) == stock


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_overdraw_or_oversell(city, on_postgres):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    person = UserFactory()
    volunteer = services.volunteer_register(home=city.grid_a, user=person, acting_user=person, now=NOW)
    item = CatalogueItem.objects.create(community=city.community_a, name="理发", kind="service", price=20, stock=5)
    ledger.award_bonus(volunteer=volunteer, points=60, reason="x", acting_user=staff, now=NOW)  # enough for 3
    barrier = threading.Barrier(6)
    outcomes = []

    def attempt():
        try:
            barrier.wait()
            ledger.redeem(volunteer=volunteer, item=item, acting_user=person, now=NOW)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 3 and set(outcomes) <= {"ok", "insufficient"}
    item.refresh_from_db()
    assert item.stock == 2 and ledger.balance_of(volunteer) == 0
    assert ledger.books_problems() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_request_book_once(city, on_postgres):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    person = UserFactory()
    volunteer = services.volunteer_register(home=city.grid_a, user=person, acting_user=person, now=NOW)
    barrier = threading.Barrier(4)
    outcomes = []

    def attempt():
        try:
            barrier.wait()
            ledger.award_bonus(volunteer=volunteer, points=7, reason="x", acting_user=staff, now=NOW,
                               idempotency_key="same-click")
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.balance_of(volunteer) == 7
    assert LedgerTransaction.objects.filter(idempotency_key="same-click").count() == 1
    assert set(outcomes) <= {"ok", "replayed"} and "ok" in outcomes


def test_verify_ledger_command_and_task(books, capsys):
    from django.core.management import call_command

    from volunteers.tasks import verify_ledger

    staff, _people, (v1, _v2), _items = books
    ledger.award_bonus(volunteer=v1, points=5, reason="x", acting_user=staff, now=NOW)
    call_command("verify_ledger")
    assert "sound" in capsys.readouterr().out
    assert verify_ledger() == 0
    # A balance that drifted from its entries (only possible behind the portal's back) is reported.
    Account.objects.filter(volunteer=v1).update(balance=6)
    assert verify_ledger() == 1
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        call_command("verify_ledger")
