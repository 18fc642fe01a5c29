"""A standard Open311 client against the live test server (issue #22, "done when").

The PyPI `georeport` client (0.3.x) covers the service list, service definitions
and reading requests, and sends no api_key on reads: those go through it, the
reads as public reads. It has no call for discovery, for POST or for
tokens, so those go through `SpecClient` below: a few lines that follow the
GeoReport v2 text (form-encoded POST with api_key, answer a list with a
token, GET tokens/<token>), nothing the portal's own tests know beyond it.
"""

import pytest
import requests
from georeport import GeoReport

from cases import services_intake
from cases.models import Case, Category, Intake
from cases.open311.models import PublicReads
from cases.seed import load_reference_data

from .clock import FROZEN
from .factories import build_city
from .open311_factories import CODE, issue, with_questions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock(FROZEN)]
NAME, PHONE = "王五", "13700001111"


class SpecClient:
    """What GeoReport v2 asks of a client for the calls `georeport` does not make."""

    def __init__(self, root, api_key):
        self.root, self.api_key = root.rstrip("/"), api_key

    def discovery(self, base):
        return self._ok(requests.get(f"{base}/open311/discovery.json", timeout=10))

    def post_request(self, **fields):
        return self._ok(requests.post(f"{self.root}/requests.json", data={"api_key": self.api_key, **fields},
                                      timeout=10))[0]

    def token(self, token):
        return self._ok(requests.get(f"{self.root}/tokens/{token}.json", params={"api_key": self.api_key},
                                     timeout=10))[0]

    @staticmethod
    def _ok(response):
        response.raise_for_status()
        return response.json()


@pytest.fixture
def world(settings):
    load_reference_data()  # a transactional test before this one may have flushed the categories
    settings.OPEN311_PUBLIC_READS = True
    city = build_city()
    with_questions()
    _api, key = issue(city.street_a)
    PublicReads.objects.create(district=city.district, enabled=True)
    return city, key


def test_georeport_client_against_the_live_server(live_server, world, monkeypatch):
    city, key = world
    # The worker has not come round yet (Celery runs eagerly in tests): filings wait as received.
    monkeypatch.setattr(services_intake, "_kick", lambda: None)
    root = f"{live_server.url}/open311/v2"
    public = GeoReport(root)
    spec = SpecClient(root, key)

    # Discovery names this very endpoint.
    discovery = spec.discovery(live_server.url)
    assert discovery["endpoints"][0]["url"] == f"{root}/" and discovery["changeset"]

    # Services and a definition, in JSON and in XML.
    services = public.get_service_list()
    garbage = next(s for s in services if s["service_code"] == CODE)
    assert garbage["metadata"] is True
    assert CODE in {s["service_code"] for s in GeoReport(root, output_format="xml").get_service_list()}
    definition = public.get_service_definition(CODE)
    assert definition["service_code"] == CODE and definition["description_required"] is False
    assert {a["code"] for a in definition["attributes"]} == {"count", "smell", "kinds", "seen"}
    assert not any(s["service_code"] == "E0501" for s in services)  # mediation is no service

    # POST: a token first (received, not registered yet), then the id.
    filed = spec.post_request(service_code=CODE, address_id=str(city.building_a.pk), description="楼下垃圾成堆",
                              first_name="王", last_name="五", phone=PHONE, **{"attribute[smell]": "yes"})
    assert "service_request_id" not in filed and filed["token"]
    assert spec.token(filed["token"]) == {"token": filed["token"]}
    assert Intake.objects.count() == 1
    assert services_intake.intake_register_pending() == 1
    number = spec.token(filed["token"])["service_request_id"]
    assert number == Case.objects.get().number

    # Public reads through georeport, which sends no key: public fields only, no reporter.
    rows = public.get_service_requests()
    assert [r["service_request_id"] for r in rows] == [number]
    one = public.get_service_request(number)
    assert one["service_code"] == CODE and one["status"] == "open" and one["address"] == "幸福路1号"
    assert one["description"] == ""
    for row in (*rows, one):
        text = str(row)
        assert NAME not in text and "王 五" not in text and PHONE not in text and "楼下垃圾成堆" not in text
    xml_rows = GeoReport(root, output_format="xml").get_service_requests(service_request_id=number)
    assert xml_rows["service_request_id"] == number  # xmltodict: one row is a dict

    # A district that closes its reads closes them to georeport too; a sensitive category likewise.
    PublicReads.objects.update(enabled=False)
    assert public.get_service_requests() == []
    PublicReads.objects.update(enabled=True)
    Category.objects.filter(code=CODE).update(is_sensitive=True)
    assert public.get_service_requests() == []
    with pytest.raises(requests.HTTPError) as refused:
        public.get_service_request(number)
    assert refused.value.response.status_code == 404
