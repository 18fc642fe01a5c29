"""The docking endpoint for courts, police stations and petition offices (诉调/警调/访调对接):
a referral pushed with the body's key becomes a numbered mediation file; bad input answers
400 JSON and writes nothing; the same reference again answers the first file; a body reads
only its own referrals' outcomes, and the written reply once the committee sent it."""

import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from cases import mediation, mediation_followup
from cases.models import Case, CaseEvent, Mediation, MediationParty, MediationReferrer
from cases.open311.models import ApiClient

from .cases_factories import people  # noqa: F401
from .mediation_factories import APPLICANT_ID
from .open311_factories import issue

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]
REFERENCE = "（2026）川0703民诉前调1234号"


@pytest.fixture
def court(city):
    """城关区人民法院's key, bound to street A (community a and its grids); street B is outside."""
    cache.clear()
    client, raw = issue(city.street_a, name="城关区人民法院", rate_limit=10_000)
    referrer = MediationReferrer.objects.create(client=client, source="court", body="城关区人民法院")
    return referrer, raw


def referral_data(city, **overrides):
    data = {"reference": REFERENCE, "dispute_type": "neighbour", "description": "原告诉被告漏水侵权，委派社区人民调解。",
            "claims": "请求被告修复漏水并赔偿损失800元", "place_code": city.community_a.code,
            "reply_due_on": "2026-12-24",
            "parties": [{"role": "applicant", "name": "王五", "id_number": APPLICANT_ID, "phone": "13911112222"},
                        {"role": "respondent", "name": "赵六", "phone": "010-12345678"}]}
    data.update(overrides)
    return data


def api(method, path, raw_key, body=None):
    web = Client()
    headers = {"HTTP_X_API_KEY": raw_key} if raw_key else {}
    if method == "post":
        payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return web.post(path, payload, content_type="application/json", **headers)
    return web.get(path, **headers)


def outcome_url(reference=REFERENCE):
    return reverse("cases:mediation_referral", args=[reference])


def test_a_referral_becomes_a_numbered_file_with_its_reference_and_deadline(city, court):
    response = api("post", reverse("cases:mediation_referrals"), court[1], referral_data(city))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["file_number"] == "（2026）幸福社区调字第001号"
    assert (body["reference"], body["channel"], body["referring_body"]) == (REFERENCE, "court", "城关区人民法院")
    assert (body["reply_due_on"], body["outcome"], body["reply"]) == ("2026-12-24", "pending", None)
    case = Case.objects.get()
    assert (case.kind, case.channel, case.community_id, case.external_ref) == (
        "mediation", "department", city.community_a.pk, REFERENCE)
    assert case.status == "dispatched"  # a staff channel: registered and dispatched at once
    file = Mediation.objects.get()
    assert (file.source, file.source_body, file.source_ref, file.referrer_id) == (
        "court", "城关区人民法院", REFERENCE, court[0].pk)
    # The parties are stored like residents': encrypted, masked, never in the answer.
    assert sorted(MediationParty.objects.values_list("name", flat=True)) == ["王五", "赵六"]
    assert APPLICANT_ID not in response.content.decode()
    assert MediationParty.objects.get(name="王五").id_masked.endswith(APPLICANT_ID[-1])


def test_the_same_reference_again_answers_the_first_file_and_writes_nothing(city, court):
    url = reverse("cases:mediation_referrals")
    first = api("post", url, court[1], referral_data(city))
    events = CaseEvent.objects.count()
    again = api("post", url, court[1], referral_data(city, description="重复推送"))
    assert again.status_code == 200
    assert again.json()["file_number"] == first.json()["file_number"]
    assert (Case.objects.count(), Mediation.objects.count(), CaseEvent.objects.count()) == (1, 1, events)


BAD = {
    "malformed JSON": "{not json",
    "not an object": "[1, 2]",
    "missing reference": json.dumps({"dispute_type": "neighbour", "description": "x", "place_code": "P",
                                     "reply_due_on": "2026-12-24"}),
    "NUL in a value": json.dumps({"reference": "A\x00", "dispute_type": "neighbour"}),
}


@pytest.mark.parametrize("body", BAD.values(), ids=BAD.keys())
def test_unreadable_bodies_are_400_and_write_nothing(city, court, body):
    response = api("post", reverse("cases:mediation_referrals"), court[1], body)
    assert response.status_code == 400
    assert set(response.json()) == {"error", "detail"} and response.json()["detail"]
    assert not Case.objects.exists() and not Mediation.objects.exists()


FIELDS = {
    "empty reference": ({"reference": "  "}, "no_reference"),
    "unknown dispute type": ({"dispute_type": "feud"}, "bad_type"),
    "no description": ({"description": ""}, "no_description"),
    "unknown place": ({"place_code": "NOWHERE"}, "bad_place"),
    "no reply deadline": ({"reply_due_on": None}, "no_reply_due_on"),
    "reply deadline not a date": ({"reply_due_on": "next week"}, "bad_date"),
    "reply deadline passed": ({"reply_due_on": "2026-12-01"}, "bad_date"),
    "invalid ID number": ({"parties": [{"name": "王五", "id_number": APPLICANT_ID[:-1] + "X"}]}, "bad_id_number"),
    "parties not a list": ({"parties": "王五"}, "bad_parties"),
    "party with a number for a name": ({"parties": [{"name": 5}]}, "bad_parties"),
    "same person twice": ({"parties": [{"name": "王五", "id_number": APPLICANT_ID},
                                       {"name": "王五", "id_number": APPLICANT_ID}]}, "duplicate_party"),
    "not a dispute category": ({"service_code": "E0101"}, "bad_category"),
}


@pytest.mark.parametrize(("overrides", "code"), FIELDS.values(), ids=FIELDS.keys())
def test_bad_fields_are_400_with_their_code_and_write_nothing(city, court, overrides, code):
    response = api("post", reverse("cases:mediation_referrals"), court[1], referral_data(city, **overrides))
    assert response.status_code == 400, response.content
    assert response.json()["error"].startswith(code[:6]), response.json()
    assert not Case.objects.exists() and not Mediation.objects.exists() and not MediationParty.objects.exists()


def test_a_place_outside_the_keys_scope_answers_like_an_unknown_one(city, court):
    outside = api("post", reverse("cases:mediation_referrals"), court[1],
                  referral_data(city, place_code=city.community_b.code))
    unknown = api("post", reverse("cases:mediation_referrals"), court[1], referral_data(city, place_code="NOWHERE"))
    assert outside.status_code == unknown.status_code == 400
    assert outside.json() == unknown.json()
    assert not Case.objects.exists()


def test_keys_not_issued_to_a_referring_body_are_refused(city, court):
    url = reverse("cases:mediation_referrals")
    assert api("post", url, "", referral_data(city)).status_code == 403
    assert api("post", url, "wrong", referral_data(city)).status_code == 403
    _plain, plain_key = issue(city.street_a, name="市民App")  # an Open311 key, no referrer behind it
    assert api("post", url, plain_key, referral_data(city)).status_code == 403
    revoked, revoked_key = issue(city.street_a, name="已注销派出所")
    MediationReferrer.objects.create(client=revoked, source="police", body="城北派出所")
    ApiClient.objects.filter(pk=revoked.pk).update(revoked_at=revoked.created_at)
    assert api("post", url, revoked_key, referral_data(city)).status_code == 403
    assert api("get", url, court[1]).status_code == 405
    assert not Case.objects.exists()


def test_the_outcome_is_read_by_the_body_that_referred_it_only(city, people, court):
    api("post", reverse("cases:mediation_referrals"), court[1], referral_data(city))
    police, police_key = issue(city.street_a, name="城北派出所")
    MediationReferrer.objects.create(client=police, source="police", body="城北派出所")
    # Another body's reference (or none at all) answers 404 alike.
    assert api("get", outcome_url(), police_key).status_code == 404
    assert api("get", outcome_url("NOPE"), court[1]).status_code == 404
    assert api("get", outcome_url(), "").status_code == 403
    # The police's own push of the same reference is its own file, numbered next.
    mine = api("post", reverse("cases:mediation_referrals"), police_key, referral_data(city))
    assert mine.status_code == 201 and mine.json()["file_number"] == "（2026）幸福社区调字第002号"
    assert mine.json()["channel"] == "police"

    # The committee mediates, fails, refers to litigation and writes its reply: the court reads it.
    case = Mediation.objects.get(referrer=court[0]).case
    staff = people.community
    from cases import services

    services.case_accept(case=case, acting_user=case.assignee or staff)
    mediation.mediation_conclude(case=case, acting_user=staff, outcome="failed", referral="litigation",
                                 note="双方分歧较大")
    pending = api("get", outcome_url(), court[1]).json()
    assert (pending["outcome"], pending["referral"], pending["reply"]) == ("failed", "litigation", None)
    mediation_followup.mediation_reply(case=case, acting_user=staff, text="经调解未能达成协议，建议依法审理。")
    replied = api("get", outcome_url(), court[1])
    assert replied.status_code == 200
    assert replied.json()["reply"]["text"] == "经调解未能达成协议，建议依法审理。"
    assert replied.json()["reply"]["at"].startswith("2026-12-09")


def test_the_openapi_document_describes_the_docking_endpoint():
    from cases.open311.openapi import document

    doc = document()
    post = doc["paths"]["/api/mediation/v1/referrals/"]["post"]
    assert {"200", "201", "400", "403", "429"} <= set(post["responses"])
    assert set(doc["components"]["schemas"]["MediationReferralIn"]["required"]) == {
        "reference", "dispute_type", "description", "place_code", "reply_due_on"}
    get = doc["paths"]["/api/mediation/v1/referrals/{reference}/"]["get"]
    assert "404" in get["responses"] and get["security"] == [{"mediation_key": []}]
    assert doc["components"]["securitySchemes"]["mediation_key"]["name"] == "X-Api-Key"
