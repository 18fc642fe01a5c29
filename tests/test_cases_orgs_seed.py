"""seed_city's organisation track: rules and 准入 per district; in the demo, 城管's queue holds
matters (some signed in), returns await the street's ruling, one was ruled to the 派出所."""

from io import StringIO

import pytest
from django.core.management import call_command

from cases.models import AssignmentKind, Case, GridExclusion, OrgAssignment, RoutingRule, Status, Summons, Triage
from cases.selectors import cases_visible_to, command_board, org_queue_for
from grid.management.commands import seed_city
from grid.models import Area, AreaKind, User

# A Wednesday afternoon: the late matter is late whatever day the suite runs on.
pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-25T15:00:00+08:00")]


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("cases",))
    out = StringIO()
    call_command("seed_city", scale="demo", seed=5, stdout=out)
    return out.getvalue()


def test_the_demo_city_has_organisation_matters_in_every_state(demo):
    districts = Area.objects.filter(kind=AreaKind.DISTRICT).count()
    assert RoutingRule.objects.count() == 7 * districts and GridExclusion.objects.count() == 2 * districts
    staff = User.objects.get(username="chengguan")
    queue = list(org_queue_for(staff))
    assert {c.status for c in queue} == {Status.DISPATCHED, Status.HANDLING}
    assert any(c.org_supervised_due for c in queue)  # one is late: supervised, not escalated
    street = User.objects.get(username="street").posts.get().area
    board = command_board(street.pk)
    assert board["awaiting_dispatch"].count() == 2 and board["awaiting_ruling"].count() == 2
    assert OrgAssignment.objects.filter(kind=AssignmentKind.RULING).count() == 1
    assert Case.objects.filter(status=Status.REFERRED, triage_class=Triage.PRIVATE).count() == 2
    assert Case.objects.filter(status=Status.RESOLVED, organisation__isnull=False).count() == 1
    # 城管 staff see exactly what was sent to them (returned ones included) or what a whistle summoned
    # them to (吹哨报到), nothing else of the city.
    sent = set(OrgAssignment.objects.filter(organisation__posts__user=staff).values_list("case_id", flat=True))
    summoned = set(Summons.objects.filter(organisation__posts__user=staff).values_list("whistle__case_id", flat=True))
    assert summoned - sent  # the demo's whistles summon them too
    assert set(cases_visible_to(staff).values_list("pk", flat=True)) == sent | summoned
