"""The places admin's 导入边界 page in a real browser, at 360 px and 1280 px: community staff
upload a GIS export with a mistake (every error listed, nothing saved), then the corrected file
(the outline is saved and the places list says so). Shots go to
test-artifacts/screenshots/boundaries/; every page must fit the phone width, raise no CSP
violation and show Chinese.
"""

import json

import pytest
from django.urls import reverse

from grid.models import Area, Role

from ..factories import build_city, user_with_post
from .conftest import PHONE, SCREENSHOTS, shoot_both_widths
from .test_case_loop import sign_in

SHOTS = SCREENSHOTS / "boundaries"
SQUARE = {"type": "Polygon", "coordinates": [[[104.7, 31.46], [104.71, 31.46], [104.71, 31.47], [104.7, 31.46]]]}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def shoot(page, name):
    shoot_both_widths(page, SHOTS, name)


def geojson(tmp_path, name, *features):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False),
                    encoding="utf-8")
    return str(path)


def test_staff_import_their_grids_outlines(live_server, open_page, tmp_path):
    city = build_city()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, username="outline_staff", full_name="社区干部周敏")
    page = open_page(PHONE, phone=True)
    sign_in(page, staff.username)

    page.goto(page.base + reverse("admin:grid_area_changelist"))
    page.get_by_role("link", name="导入边界（GeoJSON）").click()
    page.wait_for_url(page.base + reverse("admin:grid_area_import_boundaries"))
    assert "每个区划一个 GeoJSON 要素" in page.content()
    # Django 6's breadcrumbs (an ordered list), styled as on every other admin page.
    assert page.locator("ol.breadcrumbs li").count() == 4

    bad = geojson(tmp_path, "bad.geojson",
                  {"type": "Feature", "properties": {"网格编码": city.grid_a.code}, "geometry": SQUARE},
                  {"type": "Feature", "properties": {"网格编码": city.grid_b.code}, "geometry": SQUARE},
                  {"type": "Feature", "properties": {"name": "无编码"}, "geometry": SQUARE})
    page.locator("input[name=file]").set_input_files(bad)
    page.locator("input[type=submit]").click()
    errors = page.locator("ul.errorlist li")
    assert errors.count() == 2
    assert "未导入任何边界" in page.content() and "第 2 个要素" in errors.nth(0).inner_text()
    shoot(page, "refused")
    assert Area.objects.get(pk=city.grid_a.pk).boundary is None

    good = geojson(tmp_path, "good.geojson",
                   {"type": "Feature", "properties": {"网格编码": city.grid_a.code}, "geometry": SQUARE})
    page.locator("input[name=file]").set_input_files(good)
    page.locator("input[type=submit]").click()
    page.wait_for_url(page.base + reverse("admin:grid_area_changelist"))
    assert "边界已导入：1 个有变更" in page.locator(".messagelist:not(#missing-holidays)").inner_text()
    shoot(page, "imported")
    assert Area.objects.get(pk=city.grid_a.pk).boundary == SQUARE
