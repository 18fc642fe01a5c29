"""volunteers/admin.py: scoped by the tree (one row inside, one outside, for every model),
writes through services, actions through the ledger, and the books read-only for everyone."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grid.models import Role
from volunteers import ledger, services
from volunteers.models import (
    Account,
    Activity,
    CatalogueItem,
    Entry,
    Honour,
    LedgerTransaction,
    ServiceRecord,
    Signup,
    Station,
    Team,
    Volunteer,
)

from .factories import UserFactory, user_with_post


def url(model, view, *args):
    return reverse(f"admin:volunteers_{model}_{view}", args=args)


def browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def messages_of(response):
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _side(city, community, grid, building, staff, person, now, tag):
    volunteer = services.volunteer_register(home=grid, user=person, acting_user=person, now=now - timedelta(days=30))
    team = services.team_add(area=community, name=f"{tag}队", kind="patrol", acting_user=staff, now=now)
    station = services.station_add(area=community, name=f"{tag}站", acting_user=staff)
    start = now - timedelta(days=3)
    activity = services.activity_add(area=community, title=f"{tag}活动", location="x", starts_at=start,
                                     ends_at=start + timedelta(hours=2), capacity=3, acting_user=staff,
                                     now=start - timedelta(days=2))
    entry = services.signup(activity=activity, volunteer=volunteer, acting_user=person,
                            now=start - timedelta(days=1))
    Signup.objects.filter(pk=entry.pk).update(checked_in_at=start, checked_out_at=start + timedelta(hours=2))
    record = services.confirm_hours(signup_obj=entry, acting_user=staff, now=now)
    item = CatalogueItem.objects.create(community=community, name=f"{tag}奖品", kind="prize", price=5, stock=4)
    redemption = ledger.redeem(volunteer=volunteer, item=item, acting_user=person, now=now)
    order = services.order_place(kind="errand", description=f"{tag}订单", contact_name="王",
                                 contact_phone="13800000000", building=building, now=now)
    honour = Honour.objects.create(title=f"{tag}好人", volunteer=volunteer, area=community, period="2026",
                                   confirmed_by=staff, confirmed_at=now)
    return {"volunteer": volunteer, "team": team, "station": station, "activity": activity, "record": record,
            "item": item, "redemption": redemption, "order": order, "honour": honour,
            "account": Account.objects.get(volunteer=volunteer),
            "txn": LedgerTransaction.objects.get(kind="hours", service_record=record)}


@pytest.fixture
def sides(city):
    now = timezone.now()
    staff_a = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    staff_b = user_with_post(Role.COMMUNITY_STAFF, city.community_b)
    inside = _side(city, city.community_a, city.grid_a, city.building_a, staff_a, UserFactory(), now, "幸福")
    outside = _side(city, city.community_b, city.grid_b, city.building_b, staff_b, UserFactory(), now, "和平")
    return staff_a, inside, outside


MODELS = ["volunteer", "team", "station", "activity", "record", "item", "redemption", "order", "honour", "account",
          "txn"]
ADMIN_NAME = {"record": "servicerecord", "item": "catalogueitem", "txn": "ledgertransaction"}


@pytest.mark.parametrize("key", MODELS)
def test_each_admin_shows_inside_and_404s_outside(sides, key, django_assert_max_num_queries):
    staff, inside, outside = sides
    client = browser(staff)
    name = ADMIN_NAME.get(key, key)
    with django_assert_max_num_queries(20):
        listing = client.get(url(name, "changelist"))
    assert listing.status_code == 200
    shown = {obj.pk for obj in listing.context["cl"].result_list}
    assert inside[key].pk in shown and outside[key].pk not in shown
    assert client.get(url(name, "change", inside[key].pk)).status_code == 200
    assert client.get(url(name, "change", outside[key].pk)).status_code == 404
    assert client.get(url(name, "change", 999_999)).status_code == 404


@pytest.mark.parametrize("name,model", [("volunteer", Volunteer), ("servicerecord", ServiceRecord),
                                        ("ledgertransaction", LedgerTransaction), ("account", Account)])
def test_changelist_queries_do_not_grow_with_rows(sides, city, name, model, django_assert_max_num_queries):
    staff, inside, _outside = sides
    now = timezone.now()
    for i in range(6):
        person = UserFactory()
        volunteer = services.volunteer_register(home=city.grid_a, user=person, acting_user=person, now=now)
        ledger.award_bonus(volunteer=volunteer, points=3, reason=f"b{i}", acting_user=staff, now=now)
    client = browser(staff)
    with django_assert_max_num_queries(20):
        assert client.get(url(name, "changelist")).status_code == 200


def test_non_managers_do_not_reach_the_admin(sides, city):
    _staff, inside, _outside = sides
    worker = user_with_post(Role.GRID_WORKER, city.grid_a)
    worker.is_staff = True
    worker.save()
    client = browser(worker)
    assert client.get(url("volunteer", "change", inside["volunteer"].pk)).status_code == 404


# --- the books --------------------------------------------------------------------------------------

@pytest.fixture
def root(db):
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.mark.parametrize("who", ["staff", "root"])
def test_ledger_rows_are_read_only_for_everyone(sides, root, who):
    staff, inside, _outside = sides
    user = staff if who == "staff" else root
    client = browser(user)
    txn, account = inside["txn"], inside["account"]
    before = list(Entry.objects.order_by("pk").values_list("pk", "amount"))
    assert client.get(url("ledgertransaction", "add")).status_code == 403
    assert client.get(url("account", "add")).status_code == 403
    page = client.get(url("ledgertransaction", "change", txn.pk))
    assert page.status_code == 200
    assert 'name="memo"' not in page.text and 'name="_save"' not in page.text
    client.post(url("ledgertransaction", "change", txn.pk), {"memo": "changed", "kind": "bonus"})
    assert client.post(url("ledgertransaction", "delete", txn.pk), {"post": "yes"}).status_code == 403
    assert client.post(url("account", "delete", account.pk), {"post": "yes"}).status_code == 403
    client.post(url("account", "change", account.pk), {"balance": "999999"})
    client.post(url("ledgertransaction", "changelist"),
                {"action": "delete_selected", "_selected_action": [txn.pk], "post": "yes"})
    txn.refresh_from_db()
    account.refresh_from_db()
    assert txn.memo != "changed" and account.balance == ledger.balance_of(inside["volunteer"])
    assert list(Entry.objects.order_by("pk").values_list("pk", "amount")) == before
    assert ledger.books_problems() == []
    account_page = client.get(url("account", "change", account.pk))
    assert account_page.status_code == 200 and 'name="balance"' not in account_page.text
    assert "幸福活动" in account_page.text  # the latest entries are listed


def test_transactions_filter_by_account_from_the_account_page(sides):
    staff, inside, _outside = sides
    page = browser(staff).get(url("ledgertransaction", "changelist")
                              + f"?entries__account__id__exact={inside['account'].pk}")
    assert page.status_code == 200
    assert {t.pk for t in page.context["cl"].result_list} == set(
        LedgerTransaction.objects.filter(entries__account=inside["account"]).values_list("pk", flat=True))


# --- actions through services and the ledger ---------------------------------------------------------------

def test_void_record_with_a_reason_reverses_its_points(sides):
    staff, inside, outside = sides
    client = browser(staff)
    record = inside["record"]
    ledger.award_bonus(volunteer=inside["volunteer"], points=10, reason="x", acting_user=staff)
    before = ledger.balance_of(inside["volunteer"])
    form = client.post(url("servicerecord", "changelist"), {"action": "void_records",
                                                            "_selected_action": [record.pk]})
    assert form.status_code == 200 and 'name="reason"' in form.text
    client.post(url("servicerecord", "changelist"), {"action": "void_records", "_selected_action": [record.pk],
                                                     "apply": "1", "reason": "记错了人"})
    record.refresh_from_db()
    assert record.voided_at is not None and record.void_reason == "记错了人"
    assert ledger.balance_of(inside["volunteer"]) == before - 20
    assert ledger.books_problems() == []


def test_void_refusal_is_a_message_and_all_or_nothing(sides):
    staff, inside, _outside = sides
    client = browser(staff)
    record = inside["record"]
    ledger.award_bonus(volunteer=inside["volunteer"], points=10, reason="x", acting_user=staff)
    services.record_void(record=record, reason="first", acting_user=staff)
    response = client.post(url("servicerecord", "changelist"),
                           {"action": "void_records", "_selected_action": [record.pk], "apply": "1",
                            "reason": "again"}, follow=True)
    assert "already voided" in messages_of(response)
    record.refresh_from_db()
    assert record.void_reason == "first"
    assert ledger.books_problems() == []


def test_void_that_would_overdraw_is_refused_with_a_message(sides):
    staff, inside, _outside = sides
    record = inside["record"]  # 20 points earned, 5 already spent
    response = browser(staff).post(url("servicerecord", "changelist"), {
        "action": "void_records", "_selected_action": [record.pk], "apply": "1", "reason": "x"}, follow=True)
    assert "Not enough points" in messages_of(response)
    record.refresh_from_db()
    assert record.voided_at is None
    assert ledger.books_problems() == []


def test_void_outside_the_subtree_changes_nothing(sides):
    staff, _inside, outside = sides
    browser(staff).post(url("servicerecord", "changelist"), {"action": "void_records", "apply": "1",
                                                             "_selected_action": [outside["record"].pk],
                                                             "reason": "x"})
    outside["record"].refresh_from_db()
    assert outside["record"].voided_at is None


def test_pickup_and_cancel_redemptions(sides):
    staff, inside, _outside = sides
    client = browser(staff)
    redemption = inside["redemption"]
    client.post(url("redemption", "changelist"), {"action": "mark_picked_up", "_selected_action": [redemption.pk]})
    redemption.refresh_from_db()
    assert redemption.status == "picked_up" and redemption.confirmed_by == staff
    # A picked-up redemption cannot be cancelled: a message, nothing changed.
    response = client.post(url("redemption", "changelist"), {
        "action": "cancel_redemptions", "_selected_action": [redemption.pk], "apply": "1", "reason": "x"},
        follow=True)
    assert "waiting for pickup" in messages_of(response)
    redemption.refresh_from_db()
    assert redemption.status == "picked_up"


def test_cancel_returns_points_and_stock(sides):
    staff, inside, _outside = sides
    redemption, item = inside["redemption"], inside["item"]
    before = ledger.balance_of(inside["volunteer"])
    browser(staff).post(url("redemption", "changelist"), {
        "action": "cancel_redemptions", "_selected_action": [redemption.pk], "apply": "1", "reason": "不要了"})
    redemption.refresh_from_db()
    item.refresh_from_db()
    assert redemption.status == "cancelled" and item.stock == 4
    assert ledger.balance_of(inside["volunteer"]) == before + 5
    assert ledger.books_problems() == []


def test_redemption_and_record_pages_edit_nothing(sides):
    staff, inside, _outside = sides
    client = browser(staff)
    for name, key in (("redemption", "redemption"), ("servicerecord", "record"), ("order", "order")):
        page = client.get(url(name, "change", inside[key].pk))
        assert 'name="_save"' not in page.text
    assert client.get(url("redemption", "add")).status_code == 403
    assert client.get(url("order", "add")).status_code == 403


# --- reference data and writes through services ------------------------------------------------------------

def test_catalogue_item_edit_moves_stock_by_the_difference(sides):
    staff, inside, _outside = sides
    client = browser(staff)
    item = inside["item"]  # stock 3 after one redemption
    page = client.get(url("catalogueitem", "change", item.pk))
    assert page.status_code == 200
    assert 'name="stock_seen" value="3"' in page.text
    # A redemption lands while the page is open.
    person = inside["volunteer"].user
    ledger.award_bonus(volunteer=inside["volunteer"], points=10, reason="x", acting_user=staff)
    ledger.redeem(volunteer=inside["volunteer"], item=item, acting_user=person)
    response = client.post(url("catalogueitem", "change", item.pk), {
        "name": item.name, "kind": "prize", "price": "6", "stock": "13", "stock_seen": "3",
        "is_active": "on"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.price == 6 and item.stock == 12  # 3 + 10, less the redemption made meanwhile
    assert ledger.books_problems() == []


def test_catalogue_item_bad_input_is_refused(sides):
    staff, inside, _outside = sides
    item = inside["item"]
    for stock, price in (("-1", "5"), ("3", "0"), ("abc", "5")):
        response = browser(staff).post(url("catalogueitem", "change", item.pk), {
            "name": item.name, "kind": "prize", "price": price, "stock": stock, "is_active": "on"})
        assert response.status_code == 200  # the form again, with its errors
    item.refresh_from_db()
    assert item.stock == 3 and item.price == 5


def test_catalogue_item_cannot_be_added_outside(sides, city):
    staff, _inside, _outside = sides
    response = browser(staff).post(url("catalogueitem", "add"), {
        "community": city.community_b.pk, "name": "越界", "kind": "prize", "price": "5", "stock": "1",
        "is_active": "on"})
    assert response.status_code == 200
    assert not CatalogueItem.objects.filter(name="越界").exists()
    browser(staff).post(url("catalogueitem", "add"), {
        "community": city.community_a.pk, "name": "新奖品", "kind": "prize", "price": "5", "stock": "1",
        "is_active": "on"})
    assert CatalogueItem.objects.filter(name="新奖品", community=city.community_a).exists()


def test_team_added_through_the_service_and_refusal_shown(sides, city):
    staff, _inside, _outside = sides
    client = browser(staff)
    response = client.post(url("team", "add"), {"area": city.community_a.pk, "name": "应急队", "kind": "rescue"})
    assert response.status_code == 302
    team = Team.objects.get(name="应急队")
    assert team.area == city.community_a and team.created_at is not None
    response = client.post(url("team", "add"), {"area": city.community_a.pk, "name": "其他队", "kind": "other",
                                                "kind_other": ""})
    assert response.status_code == 200 and not Team.objects.filter(name="其他队").exists()
    response = client.post(url("team", "add"), {"area": city.community_b.pk, "name": "越界队", "kind": "patrol"})
    assert response.status_code == 200 and not Team.objects.filter(name="越界队").exists()


def test_station_added_inside_only(sides, city):
    staff, _inside, _outside = sides
    client = browser(staff)
    client.post(url("station", "add"), {"area": city.community_a.pk, "name": "幸福驿站", "address": "幸福路3号",
                                        "phone": ""})
    assert Station.objects.filter(name="幸福驿站", area=city.community_a).exists()
    client.post(url("station", "add"), {"area": city.community_b.pk, "name": "越界站", "address": "", "phone": ""})
    assert not Station.objects.filter(name="越界站").exists()


def test_volunteer_registered_through_the_service(sides, city):
    staff, inside, _outside = sides
    client = browser(staff)
    # A user staff may name holds a post under their places (issue #20: not any active user).
    person = user_with_post(Role.GRID_WORKER, city.grid_a2)
    response = client.post(url("volunteer", "add"), {"home": city.grid_a2.pk, "user": person.pk, "name": "",
                                                     "skills": "理发", "availability": "周末"})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    volunteer = Volunteer.objects.get(user=person)
    assert volunteer.community_id == city.community_a.pk and volunteer.grid_id == city.grid_a2.pk
    # The same person twice: the service's refusal on the form.
    response = client.post(url("volunteer", "add"), {"home": city.grid_a.pk, "user": person.pk, "name": "x"})
    assert response.status_code == 200 and Volunteer.objects.filter(user=person).count() == 1
    # A home outside the subtree is not a choice.
    other = user_with_post(Role.GRID_WORKER, city.grid_a)
    response = client.post(url("volunteer", "add"), {"home": city.grid_b.pk, "user": other.pk, "name": "y"})
    assert response.status_code == 200 and not Volunteer.objects.filter(user=other).exists()


def test_activity_added_through_the_service_and_then_read_only(sides, city):
    staff, inside, _outside = sides
    client = browser(staff)
    start = timezone.localtime() + timedelta(days=5)
    data = {"area": city.community_a.pk, "title": "义诊", "description": "", "location": "广场",
            "starts_at_0": start.strftime("%Y-%m-%d"), "starts_at_1": "09:00:00",
            "ends_at_0": start.strftime("%Y-%m-%d"), "ends_at_1": "11:00:00", "capacity": "10",
            "points_per_hour": "10"}
    response = client.post(url("activity", "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    activity = Activity.objects.get(title="义诊")
    assert activity.organiser == staff
    bad = {**data, "title": "倒着的", "ends_at_1": "08:00:00"}
    assert client.post(url("activity", "add"), bad).status_code == 200
    assert not Activity.objects.filter(title="倒着的").exists()
    page = client.get(url("activity", "change", inside["activity"].pk))
    assert 'name="title"' not in page.text
    assert inside["volunteer"].name in page.text  # the sign-ups, read-only inline


def test_honour_confirmed_by_whoever_saves_it(sides, city):
    staff, inside, outside = sides
    client = browser(staff)
    client.post(url("honour", "add"), {"title": "最美三长", "volunteer": inside["volunteer"].pk,
                                       "area": city.community_a.pk, "period": "2026-Q3", "citation": ""})
    honour = Honour.objects.get(title="最美三长")
    assert honour.confirmed_by == staff and honour.confirmed_at is not None
    client.post(url("honour", "add"), {"title": "越界", "volunteer": outside["volunteer"].pk,
                                       "area": city.community_b.pk, "period": "2026", "citation": ""})
    assert not Honour.objects.filter(title="越界").exists()


def test_order_phone_not_in_the_changelist(sides):
    staff, inside, _outside = sides
    page = browser(staff).get(url("order", "changelist"))
    assert "13800000000" not in page.text



def test_honour_add_goes_through_the_service_and_refuses_clearly(sides, city):
    staff, inside, outside = sides
    client = browser(staff)
    data = {"title": "社区好人", "volunteer": inside["volunteer"].pk, "area": city.community_a.pk, "period": "2025",
            "citation": ""}
    assert client.post(url("honour", "add"), data).status_code == 302
    again = client.post(url("honour", "add"), data)  # the same honour twice
    assert again.status_code == 200 and "already exists" in again.text  # the form's unique check
    bad = client.post(url("honour", "add"), {**data, "period": "去年"})
    assert bad.status_code == 200 and "Write the period as" in bad.text
    assert Honour.objects.filter(title="社区好人").count() == 1


def test_volunteer_list_links_to_the_certificate(sides):
    staff, inside, outside = sides
    page = browser(staff).get(url("volunteer", "changelist"))
    assert reverse("volunteers:certificate", args=[inside["volunteer"].pk]) in page.text
    assert reverse("volunteers:certificate", args=[outside["volunteer"].pk]) not in page.text


def test_a_confirmed_honour_keeps_its_facts_only_the_citation_is_edited(sides, city):
    staff, inside, _outside = sides
    honour = inside["honour"]
    browser(staff).post(url("honour", "change", honour.pk), {"title": "改掉", "period": "1999",
                                                             "citation": "热心肠"})
    honour.refresh_from_db()
    assert (honour.title, honour.period, honour.citation) == ("幸福好人", "2026", "热心肠")


# --- the add page names nobody outside the staff member's places (issue #20) ---------------------

def test_admin_name_oracle_add_page_shows_no_name_outside_the_scope(sides, city):
    from .residents_factories import household_in, resident_in

    staff, _inside, _outside = sides
    stranger = resident_in(household_in(city.unit_b), name="和平居民戊")
    far_user = user_with_post(Role.GRID_WORKER, city.grid_b, full_name="和平网格员己")
    client = browser(staff)
    for query in ({"resident": stranger.pk}, {"user": far_user.pk}):
        page = client.get(url("volunteer", "add"), query)
        assert page.status_code == 200
        html = page.content.decode()
        assert "和平居民戊" not in html and "和平网格员己" not in html
    # The fields are scoped autocompletes, not raw-id boxes.
    page = client.get(url("volunteer", "add")).content.decode()
    assert "vForeignKeyRawIdAdminField" not in page and page.count("admin-autocomplete") >= 2


def test_admin_name_oracle_form_refuses_a_user_or_resident_outside_the_scope(sides, city):
    from .residents_factories import household_in, resident_in

    staff, _inside, _outside = sides
    client = browser(staff)
    far_user = user_with_post(Role.GRID_WORKER, city.grid_b)
    response = client.post(url("volunteer", "add"), {"home": city.grid_a.pk, "user": far_user.pk, "name": "y"})
    assert response.status_code == 200 and "user" in response.context["adminform"].form.errors
    stranger = resident_in(household_in(city.unit_b), name="和平居民戊")
    response = client.post(url("volunteer", "add"), {"home": city.grid_a.pk, "resident": stranger.pk, "name": "z"})
    assert response.status_code == 200 and "resident" in response.context["adminform"].form.errors
    assert not Volunteer.objects.filter(user=far_user).exists()
    assert not Volunteer.objects.filter(resident=stranger).exists()
    # Someone with a post under the staff member's places is a choice.
    near_user = user_with_post(Role.GRID_WORKER, city.grid_a2)
    response = client.post(url("volunteer", "add"), {"home": city.grid_a2.pk, "user": near_user.pk, "name": ""})
    assert response.status_code == 302
    assert Volunteer.objects.filter(user=near_user).exists()


def test_admin_name_oracle_autocomplete_lists_only_users_in_scope(sides, city):
    staff, _inside, _outside = sides
    near_user = user_with_post(Role.GRID_WORKER, city.grid_a2, full_name="幸福网格员庚")
    far_user = user_with_post(Role.GRID_WORKER, city.grid_b, full_name="和平网格员己")
    found = browser(staff).get(reverse("admin:autocomplete"), {
        "app_label": "volunteers", "model_name": "volunteer", "field_name": "user", "term": "网格员"}).json()
    ids = {int(r["id"]) for r in found["results"]}
    assert near_user.pk in ids and far_user.pk not in ids
