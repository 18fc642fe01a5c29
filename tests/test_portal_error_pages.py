"""portal/error_pages.py and templates/500.html: the portal's own 500 page (issue #25, part 5).

With DEBUG off an unexpected error answers the portal's page in Chinese, on a phone
viewport; a resident's report or order that failed says plainly it was NOT saved;
and the page renders with the database unreachable (these tests have no database:
pytest-django refuses every query, as a stopped PostgreSQL would).
"""

import pytest
from django.test import Client
from django.urls import reverse

from portal import error_pages

pytestmark = pytest.mark.urls("tests.urls_error_pages")


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_an_error_answers_the_portals_page_in_chinese(client):
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "抱歉，系统出了故障。" in html and "页面暂时无法显示" in html
    assert "Server Error (500)" not in html
    assert "没有保存" not in html  # nothing was being sent
    assert "/static/css/portal.css" in html
    assert response["Cache-Control"] == "no-store"


def test_english_when_the_visitor_chose_english(client):
    response = client.get("/boom/", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert "Sorry, something went wrong on our side." in response.content.decode()


@pytest.mark.parametrize("name, args, words", [
    ("cases:report", [], "您的反映没有保存。"),
    ("cases:report_building", [1], "您的反映没有保存。"),
    ("volunteers:order_place", [], "您的订单没有保存。"),
])
def test_a_report_sent_while_the_database_is_down_says_it_was_not_saved(client, name, args, words):
    """No database in this test: the form's first query fails, as it did with PostgreSQL stopped."""
    url = reverse(name, args=args)
    response = client.post(url, {"category": "E0101", "description": "小区东门有一堆暴露垃圾"})
    assert response.status_code == 500
    html = response.content.decode()
    assert words in html and "您填写的内容我们没有收到，请过几分钟重新提交。" in html
    assert f'href="{url}"' in html  # back to the form
    assert "如有紧急情况，请拨打市民热线 12345。" in html


def test_other_failures_on_public_paths_do_not_say_not_saved(client):
    # Opening the form (GET) or the received page of a report already kept.
    for url in (reverse("cases:report"), reverse("cases:report_done", args=["ABCDEFGHJKMNP"])):
        response = client.get(url)
        assert response.status_code == 500
        assert "没有保存" not in response.content.decode()


def test_a_broken_template_still_answers_a_fixed_page(client, monkeypatch):
    def broken(name):
        raise RuntimeError("template storage unreadable")

    monkeypatch.setattr(error_pages.loader, "get_template", broken)
    response = client.post(reverse("cases:report"), {})
    assert response.status_code == 500
    html = response.content.decode()
    assert "服务器出错，请稍后再试。" in html and "NOT saved" in html and 'name="viewport"' in html


# --- API clients get their API's error shape, not the HTML page ---------------------------------

def test_an_open311_failure_answers_the_spec_s_error_list_in_json_and_xml(client):
    response = client.get("/open311/v2/boom.json")
    assert response.status_code == 500 and response["Content-Type"].startswith("application/json")
    assert response.json() == [{"code": 500, "description": "服务器出错，请稍后再试。"}]
    assert response["Cache-Control"] == "no-store"
    response = client.get("/open311/v2/boom.xml")
    assert response.status_code == 500 and "xml" in response["Content-Type"]
    body = response.content.decode()
    assert "<errors><error><code>500</code>" in body and "<html" not in body


def test_a_failure_in_a_json_api_answers_json(client):
    for url in ("/api/v1/boom/", "/api/hotline/v1/boom/"):
        response = client.get(url, headers={"Accept-Language": "en"})
        assert response.status_code == 500
        assert response.json() == {"error": "server_error", "detail": "Server error. Try again later."}


def test_an_open311_request_sent_while_the_database_is_down_answers_json(client):
    """No database here: the service list's first query fails, as with PostgreSQL stopped."""
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 500
    assert response.json()[0]["code"] == 500
