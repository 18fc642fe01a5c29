"""Helpers for the Open311 and /api/v1/ tests: clients bound to places, a category with questions."""

import pytest

from cases.open311 import services
from cases.open311.models import Datatype, ServiceAttribute
from grid.models import User

from .cases_factories import MONDAY, category

# The resident-facing category the tests file under (暴露垃圾), and one with questions.
CODE = "E0101"


def issue(place, name=None, rate_limit=60):
    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("root", "r@x.org", "pw")
    client, key = services.client_issue(name=name or f"client {place.code}", area=place, acting_user=admin,
                                        rate_limit=rate_limit, now=MONDAY)
    return client, key


def file_registered(**fields):
    """File through services.request_file and run the intake worker: (the request with its case, created)."""
    from cases.services_intake import intake_register_pending

    filed, created = services.request_file(**fields)
    intake_register_pending()
    filed.refresh_from_db()
    return filed, created


def with_questions(code=CODE):
    cat = category(code)
    ServiceAttribute.objects.create(category=cat, code="count", datatype=Datatype.NUMBER, description="How many?",
                                    order=1)
    ServiceAttribute.objects.create(category=cat, code="smell", datatype=Datatype.SINGLE, required=True,
                                    description="Does it smell?", order=2,
                                    values=[{"key": "yes", "name": "有"}, {"key": "no", "name": "无"}])
    ServiceAttribute.objects.create(category=cat, code="kinds", datatype=Datatype.MULTI, description="What kinds?",
                                    order=3, values=[{"key": "food", "name": "厨余"}, {"key": "paper", "name": "纸"}])
    ServiceAttribute.objects.create(category=cat, code="seen", datatype=Datatype.DATETIME, description="Seen at?",
                                    order=4)
    return cat


@pytest.fixture
def street_client(city):
    """A key bound to street A (its community and grids a, a2); street B is outside."""
    return issue(city.street_a)


@pytest.fixture
def other_client(city):
    return issue(city.street_b)
