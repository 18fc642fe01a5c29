"""portal/client_address.py: the real client behind trusted proxies (issue #20, part 3).

Behind the compose TLS proxy the rate limits and the lockout counted every resident as the proxy.
"""

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from portal import ratelimit
from portal.client_address import client_address

PROXY = "172.18.0.5"


def request(xff=None):
    extra = {"REMOTE_ADDR": PROXY}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request("203.0.113.7")) == PROXY


@pytest.mark.parametrize("xff, expected", [
    ("203.0.113.7", "203.0.113.7"),
    # A client that writes the header itself cannot choose its address: the proxy appended the real one.
    ("6.6.6.6, 203.0.113.7", "203.0.113.7"),
    (" 203.0.113.7 ", "203.0.113.7"),
    ("2001:db8::1", "2001:db8::1"),
    ("not-an-address", PROXY),
    ("", PROXY),
    (None, PROXY),
])
def test_one_trusted_proxy(settings, xff, expected):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request(xff)) == expected


def test_two_trusted_proxies_take_the_second_entry_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request("6.6.6.6, 203.0.113.7, 10.0.0.2")) == "203.0.113.7"
    # Fewer entries than proxies: it did not come through them; trust only the connection.
    assert client_address(request("203.0.113.7")) == PROXY


def test_rate_limits_count_each_resident_behind_the_proxy_on_their_own(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TEST_RATE = (2, 60)
    cache.clear()
    one, other = request("203.0.113.7"), request("203.0.113.8")
    assert not ratelimit.over_rate(one, "t", "TEST_RATE", (2, 60))
    assert not ratelimit.over_rate(one, "t", "TEST_RATE", (2, 60))
    assert ratelimit.over_rate(one, "t", "TEST_RATE", (2, 60))
    # Another resident behind the same proxy is not refused with them.
    assert not ratelimit.over_rate(other, "t", "TEST_RATE", (2, 60))
    # Nor can the first escape the limit by writing a header of their own.
    assert ratelimit.over_rate(request("9.9.9.9, 203.0.113.7"), "t", "TEST_RATE", (2, 60))


@pytest.mark.django_db
def test_the_lockout_counts_the_real_address(settings, client):
    from axes.models import AccessAttempt

    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(2):
        client.post("/accounts/login/", {"username": "nobody", "password": "wrong"},
                    REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
