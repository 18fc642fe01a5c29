"""The replica router (portal/replica.py): which requests read from the replica, that writes
never do, that a user who just wrote reads from the primary, that a lagging replica is skipped,
and that nothing changes without DATABASE_REPLICA_URL. The suite has one database, so the
"replica" alias is pointed at it and the router's choices are recorded."""

import pytest
from django.urls import reverse

from grid.models import Role
from portal import replica

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed(monkeypatch):
    """Pretend a replica is configured (the alias points at the test database) and record every
    read the router sends to it."""
    sent = []
    monkeypatch.setattr(replica, "ALIAS", "default")
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    monkeypatch.setattr(replica, "replica_lag_seconds", lambda: 0.4)
    original = replica.ReplicaRouter.db_for_read

    def spy(self, model, **hints):
        alias = original(self, model, **hints)
        if alias is not None:
            sent.append(model._meta.label)
        return alias

    monkeypatch.setattr(replica.ReplicaRouter, "db_for_read", spy)
    return sent


def test_without_a_replica_nothing_is_routed(city, make_user, client):
    router = replica.ReplicaRouter()
    assert router.db_for_read(Role) is None and router.db_for_write(Role) == "default"
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    response = client.get(reverse("cases:dashboard_place", args=[city.district.pk]))
    assert response.status_code == 200 and "replica_lag" not in response.context
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert replica.STICKY_COOKIE not in response.cookies


def test_dashboards_read_from_the_replica_and_say_how_far_behind(city, make_user, client, routed):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    response = client.get(reverse("cases:dashboard_place", args=[city.district.pk]))
    assert response.status_code == 200 and routed  # its reads went to the replica
    assert response.context["replica_lag"] == 0.4
    assert "0 s" in response.content.decode() or "0 秒" in response.content.decode()
    assert replica._reading_replica.get() is False  # nothing leaks into the next request


def test_the_dashboard_map_outlines_read_from_the_replica(city, make_user, client, routed):
    """The outlines left the page for their own URL (issue #24): still a dashboard read."""
    from django.core.cache import cache

    cache.clear()  # a cached answer would read no place at all
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    response = client.get(reverse("cases:dashboard_place_shapes", args=[city.district.pk]))
    assert response.status_code == 200 and "grid.Area" in routed


def test_other_pages_and_writes_use_the_primary(city, make_user, client, routed):
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a))
    assert client.get(reverse("cases:board")).status_code == 200
    assert client.get(reverse("place", args=[city.community_a.pk])).status_code == 200
    assert routed == []


def test_a_user_who_just_wrote_reads_from_the_primary(city, make_user, client, routed, settings):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert int(response.cookies[replica.STICKY_COOKIE]["max-age"]) == settings.REPLICA_STICKY_SECONDS
    client.get(reverse("cases:dashboard_place", args=[city.district.pk]))
    assert routed == []
    client.cookies[replica.STICKY_COOKIE] = "1"  # long past: the replica again
    client.get(reverse("cases:dashboard_place", args=[city.district.pk]))
    assert routed
    routed.clear()
    client.cookies[replica.STICKY_COOKIE] = "not-a-time"  # a mangled cookie is no 500, and no pin
    assert client.get(reverse("cases:dashboard_place", args=[city.district.pk])).status_code == 200
    assert routed


def test_a_replica_too_far_behind_is_skipped(city, make_user, client, routed, monkeypatch, settings):
    monkeypatch.setattr(replica, "replica_lag_seconds", lambda: settings.REPLICA_MAX_LAG_SECONDS + 1)
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    assert client.get(reverse("cases:dashboard_place", args=[city.district.pk])).status_code == 200
    assert routed == []


def test_the_replica_is_never_migrated():
    router = replica.ReplicaRouter()
    assert router.allow_migrate("replica", "cases") is False
    assert router.allow_migrate("default", "cases") is True
