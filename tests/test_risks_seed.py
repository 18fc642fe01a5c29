"""risks/seed.py: the demo city has risks of every grade, overdue reviews and patrol history,
written through the services (so the assessments and the path are what the portal writes)."""

from io import StringIO

import pytest
from django.core.management import call_command

from grid.management.commands import seed_city
from grid.models import Post, Role
from risks.grading import Grade
from risks.models import Finding, FindingKind, Patrol, Risk, RiskAssessment, RiskStatus
from risks.selectors import risks_due


@pytest.mark.clock("2026-11-23T09:00:00+08:00")
def test_the_demo_city_has_risks_of_every_grade_and_patrols(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("risks",))
    out = StringIO()
    call_command("seed_city", scale="demo", seed=5, stdout=out)
    assert "risks:" in out.getvalue()
    assert set(Risk.objects.filter(status=RiskStatus.OPEN).values_list("grade", flat=True)) == set(Grade.values)
    assert Risk.objects.filter(status=RiskStatus.CLOSED).exists()
    assert Risk.objects.filter(review_overdue_since__isnull=False).exists()
    assert RiskAssessment.objects.count() > Risk.objects.count()  # some were reassessed
    assert Patrol.objects.filter(ended_at__isnull=False).count() >= 5
    assert Finding.objects.filter(kind=FindingKind.FIXED).exists()
    # Each at a building of its patrol's grid, so the dashboard's patrol coverage is not 0 %.
    fixed = Finding.objects.filter(kind=FindingKind.FIXED)
    assert not fixed.filter(building__isnull=True).exists()
    assert all(f.building.grid_id == f.patrol.grid_id for f in fixed.select_related("building", "patrol"))
    # The demo grid worker (the demo login) finds risks due on her day.
    from django.utils import timezone

    worker = Post.objects.get(role=Role.GRID_WORKER, user__username="gridworker").user
    assert risks_due(worker, today=timezone.localdate(), within_days=3).exists()
    assert Patrol.objects.filter(worker=worker).exists()
    # Open warnings on the panel (red and orange reviews past due), already marked as told.
    from risks.models import EarlyWarning

    assert EarlyWarning.objects.filter(status="open", rule="review_overdue").exists()
    assert not EarlyWarning.objects.filter(notified_at__isnull=True).exists()
