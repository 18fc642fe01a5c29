"""The 400, 403, 404 and expired-form pages (issue #20, part 9): the portal's own, Chinese first,
on a phone viewport, each telling every audience where to go next."""

import pytest
from django.test import Client

pytestmark = [pytest.mark.urls("tests.urls_error_pages"), pytest.mark.django_db]

VIEWPORT = 'name="viewport" content="width=device-width, initial-scale=1"'


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_a_stale_qr_code_finds_the_report_form_and_the_tracking_page(client):
    response = client.get("/campaign-2024/qr/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html and VIEWPORT in html
    assert "页面不存在" in html and "二维码" in html
    assert 'href="/report/"' in html and 'href="/track/"' in html
    assert "Not Found" not in html  # not Django's bare English page


def test_404_in_english_when_chosen(client):
    response = client.get("/nowhere/", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "This page is not here." in response.content.decode()


def test_403_is_the_portals_page(client):
    response = client.get("/forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert VIEWPORT in html and "无权" in html and 'href="/report/"' in html


def test_400_is_the_portals_page(client):
    response = client.get("/malformed/")
    assert response.status_code == 400
    html = response.content.decode()
    assert VIEWPORT in html and "没有保存" in html


def test_an_expired_report_form_says_nothing_was_saved(client):
    from cases.models import Case, Intake

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/report/", {"description": "路灯坏了"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "表单已过期" in html and "没有保存" in html and VIEWPORT in html
    assert not Case.objects.exists() and not Intake.objects.exists()
