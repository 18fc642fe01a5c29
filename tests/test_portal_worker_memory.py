"""A web worker's memory (issue #24): view modules imported when their page is first asked for
(portal/lazy_views.py), and cyclic garbage collected between requests (portal/collector.py)."""

import sys

import pytest
from django.test import override_settings
from django.urls import get_resolver, resolve, reverse

from portal.lazy_views import LazyView, check_lazy_views, lazy_views_in, view_modules
from tests.test_portal_lazy_celery import run_python  # a fresh interpreter with the portal's settings

# --- lazy views ----------------------------------------------------------------------------------

# Not cases.views: the admin's workflow pages import it at start-up.
VIEW_MODULES = ("cases.views_public", "cases.open311.views", "dashboards.views", "hub.views",
                "residents.views", "volunteers.views", "risks.views", "grid.privacy.views")


def test_loading_and_reversing_the_url_conf_imports_no_view_module():
    loaded = run_python(
        "import sys, django; django.setup(); from django.urls import get_resolver, reverse; "
        "get_resolver()._populate(); reverse('cases:board'); reverse('cases:dashboard'); "
        f"print(sorted(m for m in {VIEW_MODULES!r} if m in sys.modules))"
    )
    assert loaded == "[]"


def test_resolving_a_page_imports_its_view_module_only():
    loaded = run_python(
        "import sys, django; django.setup(); from django.urls import resolve; "
        "match = resolve('/report/'); getattr(match.func, 'csrf_exempt', False); "  # the CSRF middleware asks
        f"print(sorted(m for m in {VIEW_MODULES!r} if m in sys.modules))"
    )
    assert loaded == "['cases.views_public']"


def test_every_lazy_view_names_a_real_view():
    views = list(lazy_views_in(get_resolver()))
    assert len(views) > 150
    for view in views:
        assert callable(view._load()), view


def test_a_lazy_view_answers_as_the_view_it_stands_for():
    from cases.open311 import views as open311_views
    from cases.views_public import report

    stand_in = resolve(reverse("cases:report")).func
    assert isinstance(stand_in, LazyView)
    assert stand_in._load() is report
    assert resolve(reverse("cases:report"))._func_path == "cases.views_public.report"
    # The CSRF middleware reads the view's own marks through the stand-in.
    post = resolve("/open311/v2/requests.json").func
    assert post.csrf_exempt is True and post._load() is open311_views.requests
    # The report form checks its token itself once the upload is capped (csrf_exempt outside it).
    assert stand_in.csrf_exempt is report.csrf_exempt is True
    rate = resolve(reverse("cases:track_rate", args=["X"])).func
    assert getattr(rate, "csrf_exempt", False) is False


def test_a_lazy_view_of_a_missing_name_fails_when_called_not_when_listed():
    views = view_modules("cases", "views")
    ghost = views.no_such_view
    assert repr(ghost) == "<lazy view cases.views.no_such_view>"
    with pytest.raises(AttributeError):
        ghost(None)


@pytest.mark.django_db
def test_the_csrf_middleware_sees_through_a_stand_in(client):
    assert client.get(reverse("cases:report")).status_code == 200
    strict = client.__class__(enforce_csrf_checks=True)
    # Open311's POST is csrf_exempt on the view: without a token it reaches the view, which answers
    # GeoReport's error for the missing API key (a JSON list), not the CSRF failure page (HTML).
    response = strict.post("/open311/v2/requests.json", {"service_code": "E0101"})
    assert response["Content-Type"].startswith("application/json")
    assert response.json()[0]["description"].startswith("api_key")
    # A page that is not exempt is refused without a token.
    assert strict.post(reverse("cases:track_lookup"), {"code": "X"}).status_code == 403


def test_the_url_check_passes_on_the_portal():
    from django.core.checks import registry

    assert check_lazy_views in registry.registry.get_checks()
    assert check_lazy_views() == []


@pytest.mark.parametrize(("name", "problem"), [("no_such_view", "has no attribute"),
                                                ("AsyncView", "async or a class"),
                                                ("async_view", "async or a class")])
def test_the_url_check_names_a_stand_in_without_a_usable_view(monkeypatch, name, problem):
    import types

    from django.urls import path

    module = types.ModuleType("tests.fake_views")

    async def async_view(request):
        return None

    module.async_view = async_view
    module.AsyncView = type("AsyncView", (), {})
    urls = types.ModuleType("tests.fake_urls")
    urls.urlpatterns = [path("x/", getattr(view_modules("tests", "fake_views"), name))]
    monkeypatch.setitem(sys.modules, "tests.fake_views", module)
    monkeypatch.setitem(sys.modules, "tests.fake_urls", urls)
    with override_settings(ROOT_URLCONF="tests.fake_urls"):
        errors = check_lazy_views()
    assert [e.id for e in errors] == ["portal.E101"] and problem in errors[0].msg


# --- garbage between requests --------------------------------------------------------------------

def test_the_wsgi_app_installs_the_collector():
    answer = run_python(
        "import gc; from portal.wsgi import application; from portal import collector; "
        "from django.core.signals import request_finished; "
        "print(gc.get_threshold()[0] == collector.AUTOMATIC_THRESHOLD, "
        "any('portal.collector' in str(receiver[0]) for receiver in request_finished.receivers))"
    )
    assert answer == "True True"


CYCLES = """
import gc, weakref
from django.core.signals import request_finished
from portal import collector

collector.install()
request_finished.send(sender=None)  # the first request: what is alive now is frozen
print(gc.get_freeze_count() > 0, end=" ")


class Node:
    pass


nodes = [Node() for _ in range(COUNT)]
for node in nodes:
    node.me = node
ref = weakref.ref(nodes[0])
del nodes, node
print(ref() is not None, end=" ")  # the threshold is high: no collection ran midway
request_finished.send(sender=None)
print(ref() is None)
"""


def test_a_requests_cycles_are_collected_once_its_response_is_sent():
    # In a process of its own: the collector changes the interpreter's thresholds and freezes objects.
    from portal import collector

    # More than CPython's default threshold (2,000): with it, a collection would run midway, promote
    # the still-reachable objects, and leave too few young ones for the collection after the response.
    assert run_python(CYCLES.replace("COUNT", "3500")) == "True True True"
    assert 3500 < collector.AUTOMATIC_THRESHOLD


def test_few_new_objects_wait_for_a_later_request():
    assert run_python(CYCLES.replace("COUNT", "1")) == "True True False"
