"""The demo city's whistles and 12345 orders (cases/seed_whistles.py), through seed_city."""

from io import StringIO

import pytest
from django.core.management import call_command

from cases.hotline.models import HotlineOrder
from cases.models import Summons, SummonsStatus, Whistle
from grid.management.commands import seed_city

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("cases",))
    out = StringIO()
    call_command("seed_city", scale="demo", seed=5, stdout=out)
    return out.getvalue()


def test_demo_has_whistles_report_ins_a_late_one_ratings_and_hotline_orders(demo):
    assert Whistle.objects.count() >= 2
    assert Summons.objects.filter(status=SummonsStatus.REPORTED_IN).count() >= 2
    assert any(s.is_late for s in Summons.objects.filter(status=SummonsStatus.REPORTED_IN))
    assert Summons.objects.filter(rating__isnull=False).count() == 2
    assert Summons.objects.filter(status=SummonsStatus.NO_SHOW).exists()
    # The 城管 demo account has a report-in waiting.
    assert Summons.objects.filter(status=SummonsStatus.SUMMONED,
                                  organisation__posts__user__username="chengguan").exists()
    assert HotlineOrder.objects.count() == 4
    assert HotlineOrder.objects.filter(replied_at__isnull=False).count() == 2
    assert HotlineOrder.objects.filter(visited_at__isnull=False).count() == 1
    assert HotlineOrder.objects.filter(returned_at__isnull=False).count() == 1
    # Each whistled matter is filed under a category its text is about (not the first on the list).
    filed = {w.case.description: w.case.category.code for w in Whistle.objects.select_related("case__category")}
    assert filed == {"夜市收摊后路面油污遍地，多次劝导无效": "E0102", "小区围墙外工地夜间施工，居民多次投诉": "E0202",
                     "工地围挡占用人行道，夜间施工扰民": "E0202"}


def test_no_demo_accounts_no_whistles(monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("cases",))
    out = StringIO()
    call_command("seed_city", scale="demo", seed=5, accounts=False, stdout=out)
    assert not Whistle.objects.exists() and "skipped" in out.getvalue()
