"""Intake channels and the reporter's pages: the public report (web and the
building's QR code), tracking and rating, the patrol report, the 12345 hotline
entry and the camera / one-click alarm webhook.

Bad input never saves anything and never answers 500; what a resident typed
comes back escaped; the public pages show no staff notes and nobody's phone.
"""

import io
import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import services, services_intake, services_report
from cases.models import Case, CaseEvent, CasePhoto, Channel, Intake, ReporterKind, Status

from .cases_factories import MONDAY, category, fresh_calendar, people, png, resident_report, to_status  # noqa: F401

TOKEN = "test-alarm-token"


@pytest.fixture
def client():
    """Pages in English, whatever the Chinese catalogue says: the tests read the English msgids."""
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    """Photos go to a scratch directory; rate-limit counters start at zero."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ALARM_WEBHOOK_TOKEN = TOKEN
    cache.clear()
    yield
    cache.clear()


def text_of(response):
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def report_data(city, **overrides):
    data = {
        "category": "E0101",
        "street": city.street_a.pk,
        "community": city.community_a.pk,
        "grid": city.grid_a.pk,
        "building": city.building_a.pk,
        "description": "小区东门有一堆暴露垃圾",
        "reporter_name": "李四",
        "reporter_phone": "13912345678",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


REPORT = reverse("cases:report")


def post_report(client, url, data, **extra):
    """POST the public report page, then let the worker register what it received (the
    Celery task `register_intake` runs this moments later in production)."""
    response = client.post(url, data, **extra)
    services_intake.intake_register_pending()
    return response


# --- the public report ------------------------------------------------------------------

def test_report_page_offers_grouped_categories_and_streets(client, city):
    response = client.get(REPORT)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<optgroup label="市容环境">' in html
    assert '<option value="E0101">暴露垃圾</option>' in html
    # Streets grouped by district; nothing below a street until one is chosen.
    assert '<optgroup label="城关区">' in html and "城北街道" in html
    assert "幸福社区" not in html
    assert 'data-places-url="/report/places/"' in html
    assert "js/cases.js" in html and "<script>" not in html  # no inline script under the CSP


def test_report_needs_no_sign_in_and_saves_a_web_case(client, city):
    response = post_report(client, REPORT, report_data(city))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:report_done", args=[case.tracking_code])
    assert case.channel == Channel.WEB and case.reporter_kind == ReporterKind.RESIDENT
    assert case.status == Status.REPORTED
    assert case.building == city.building_a and case.grid_id == city.grid_a.pk
    assert case.reporter_phone == "13912345678" and case.reporter is None

    done = client.get(response["Location"])
    assert done.status_code == 200
    assert case.tracking_code_display in text_of(done)
    assert reverse("cases:track", args=[case.tracking_code]) in done.content.decode()


def test_report_with_a_photo_keeps_the_photo(client, city):
    response = post_report(client, REPORT, {**report_data(city), "photo": png()})
    assert response.status_code == 302
    photo = CasePhoto.objects.get()
    assert photo.case == Case.objects.get() and photo.event.action == CaseEvent.Action.REPORT


def test_a_photo_loses_its_gps_position_and_stands_upright(client, city):
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.Orientation] = 6  # taken sideways: to be turned 90° clockwise
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 27.0, 36.0),
                                  ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (104.0, 40.0, 48.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buffer, format="JPEG", exif=exif)
    sent = SimpleUploadedFile("home.jpg", buffer.getvalue(), content_type="image/jpeg")
    with Image.open(io.BytesIO(buffer.getvalue())) as original:
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo does carry a position
    response = post_report(client, REPORT, {**report_data(city), "photo": sent})
    assert response.status_code == 302
    photo = CasePhoto.objects.get()
    with photo.image.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif() and "exif" not in image.info
        assert image.size == (20, 40)  # the orientation was applied to the pixels


def test_report_at_grid_level_without_a_building(client, city):
    response = post_report(client, REPORT, report_data(city, building=""))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.grid_id == city.grid_a.pk and case.building is None


def test_building_link_prefills_the_place(client, city):
    response = client.get(REPORT, {"building": city.building_a.pk})
    html = response.content.decode()
    for value, name in ((city.street_a.pk, "城北街道"), (city.community_a.pk, "幸福社区"),
                        (city.grid_a.pk, "幸福第一网格")):
        assert f'<option value="{value}" selected>{name}</option>' in html
    assert f'<option value="{city.building_a.pk}" selected>' in html
    # Nonsense in the link is ignored, not a 500.
    assert client.get(REPORT, {"building": "abc"}).status_code == 200
    assert client.get(REPORT, {"building": "999999"}).status_code == 200


def test_notice_board_qr_code_fixes_the_place(client, city):
    url = reverse("cases:report_building", args=[city.building_b.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "城南街道 › 和平社区 › 和平第一网格 › 9号楼" in text_of(page)
    assert 'name="street"' not in page.content.decode()

    response = post_report(client, url, {"category": "E0302", "description": "车辆堵住消防通道"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == Channel.QR and case.building == city.building_b and case.grid_id == city.grid_b.pk


def test_unknown_building_code_is_a_friendly_404(client, city):
    response = client.get(reverse("cases:report_building", args=[999999]))
    assert response.status_code == 404
    assert reverse("cases:report") in response.content.decode()


def test_refine_without_javascript_shows_the_next_level(client, city):
    response = post_report(client, REPORT, {"_refine": "1", "street": city.street_a.pk, "description": "半句话"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{city.community_a.pk}">幸福社区</option>' in html
    assert "和平社区" not in html  # the other street's community
    assert "errorlist" not in html and "field-error" not in html
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"grid": None, "building": None}, "grid", "Choose where the matter is"),
        ({"street": None, "community": None, "grid": None, "building": None}, "grid", "Choose where the matter is"),
        ({"category": "NOPE"}, "category", "Choose a category from the list."),
        ({"category": ""}, "category", "This field is required."),
        ({"description": "   "}, "description", "This field is required."),
        ({"description": "x" * 4001}, "description", "at most 4000 characters"),
        ({"reporter_phone": "call me maybe"}, "reporter_phone", "phone number"),
    ],
)
def test_bad_report_shows_errors_and_saves_nothing(client, city, overrides, field, message):
    response = post_report(client, REPORT, report_data(city, **overrides))
    assert response.status_code == 400
    assert message in text_of(response)
    assert f"field-{field} has-error" in response.content.decode()
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0


def test_a_tampered_place_combination_is_refused(client, city):
    # The grid of another community: not one of the choices the chosen community offers.
    response = post_report(client, REPORT, report_data(city, grid=city.grid_b.pk, building=city.building_b.pk))
    assert response.status_code == 400
    assert Case.objects.count() == 0
    # A building of another grid than the chosen one.
    response = post_report(client, REPORT, report_data(city, building=city.building_a2.pk))
    assert response.status_code == 400
    assert Case.objects.count() == 0


def test_a_file_that_is_not_an_image_is_refused(client, city):
    fake = SimpleUploadedFile("photo.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
    response = post_report(client, REPORT, {**report_data(city), "photo": fake})
    assert response.status_code == 400
    assert "is not a photo" in text_of(response)
    assert Case.objects.count() == 0 and CasePhoto.objects.count() == 0


def test_an_oversized_photo_is_refused_without_being_stored(client, city, settings):
    settings.CASE_PHOTO_MAX_BYTES = 2000
    # A real image, but over the limit: the upload handler stops reading it.
    big = png("big.png", size=(300, 300))
    big.file.write(b"\0" * 3000)
    big.seek(0)
    response = post_report(client, REPORT, {**report_data(city), "photo": big})
    assert response.status_code == 400
    assert "is too large" in text_of(response) and "big.png" in text_of(response)
    assert Case.objects.count() == 0 and CasePhoto.objects.count() == 0


def test_html_in_a_report_is_stored_as_typed_and_shown_escaped(client, city):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    post_report(client, REPORT, report_data(city, description=evil, reporter_name="<b>名</b>"))
    case = Case.objects.get()
    assert case.description == evil
    html = client.get(reverse("cases:track", args=[case.tracking_code])).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_form_is_csrf_protected(city):
    strict = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    response = strict.post(REPORT, report_data(city))
    assert response.status_code == 403
    assert Case.objects.count() == 0
    page = strict.get(REPORT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert strict.post(REPORT, {**report_data(city), "csrfmiddlewaretoken": token}).status_code == 302


def test_reports_are_rate_limited_per_address(client, city, settings):
    settings.CASE_REPORT_RATE = (2, 600)
    assert post_report(client, REPORT, report_data(city)).status_code == 302
    assert post_report(client, REPORT, report_data(city)).status_code == 302
    response = post_report(client, REPORT, report_data(city))
    assert response.status_code == 429
    assert "Too many reports" in text_of(response)
    assert Case.objects.count() == 2
    # Another address is not affected.
    assert post_report(client, REPORT, report_data(city), REMOTE_ADDR="10.0.0.9").status_code == 302


def test_report_answers_other_methods_with_405(client, city):
    assert client.put(REPORT).status_code == 405


def test_places_endpoint_feeds_the_selects(client, city):
    url = reverse("cases:places")
    data = client.get(url, {"parent": city.street_a.pk}).json()
    assert data == {"kind": "community", "items": [{"id": city.community_a.pk, "name": "幸福社区"}]}
    data = client.get(url, {"parent": city.community_a.pk}).json()
    assert [i["name"] for i in data["items"]] == ["幸福第一网格", "幸福第二网格"]
    data = client.get(url, {"grid": city.grid_a.pk}).json()
    assert data["kind"] == "building" and data["items"][0]["id"] == city.building_a.pk
    assert "幸福路1号" in data["items"][0]["name"]
    assert client.get(url).status_code == 400
    assert client.get(url, {"parent": "x"}).status_code == 400
    assert client.get(url, {"parent": city.grid_a.pk}).status_code == 404
    assert client.get(url, {"parent": 999999}).status_code == 404


def test_done_page_for_an_unknown_code_is_404(client, city):
    assert client.get(reverse("cases:report_done", args=["NOPE"])).status_code == 404


# --- tracking and rating ------------------------------------------------------------------

def test_tracking_shows_status_and_public_timeline_only(client, city, people):
    case = to_status(city, people, Status.HANDLING)
    services.case_note(case=case, acting_user=people.worker, note="内部备注：住户很难沟通", now=timezone.now())
    services.case_note(case=case, acting_user=people.worker, note="已联系环卫，今天清运", is_public=True,
                       now=timezone.now())
    response = client.get(reverse("cases:track", args=[case.tracking_code]))
    assert response.status_code == 200
    text = text_of(response)
    assert "Being handled" in text and case.number in text
    assert "已联系环卫，今天清运" in text
    assert "内部备注" not in text
    # Nobody's personal data: not the reporter's, not the staff's names.
    for secret in ("张三", "13800000000", str(people.worker), str(people.community), people.worker.phone):
        assert secret not in response.content.decode()


def test_tracking_code_lookup(client, city):
    case = resident_report(city)
    typed = case.tracking_code_display.lower().replace("-", " ")
    response = client.get(reverse("cases:track_lookup"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:track", args=[case.tracking_code])
    bad = client.get(reverse("cases:track_lookup"), {"code": "0000"})
    assert bad.status_code == 400 and "13 letters and digits" in text_of(bad)
    assert client.get(reverse("cases:track_lookup")).status_code == 200


def test_unknown_tracking_code_is_a_friendly_404(client, city):
    response = client.get(reverse("cases:track", args=["ABCDEFGHJKMNP"]))
    assert response.status_code == 404
    assert "We found no matter with this code" in text_of(response)
    # The code stays in the box, to correct the one mistyped character.
    assert 'value="ABCDEFGHJKMNP"' in response.content.decode()


def test_tracking_misses_are_rate_limited(client, city, settings):
    settings.CASE_TRACK_MISS_RATE = (3, 600)
    for _ in range(3):
        assert client.get(reverse("cases:track", args=["ABCDEFGHJKMNP"])).status_code == 404
    assert client.get(reverse("cases:track", args=["ABCDEFGHJKMNQ"])).status_code == 429


def test_closed_case_can_be_rated_once(client, city, people):
    case = to_status(city, people, Status.CLOSED)
    url = reverse("cases:track", args=[case.tracking_code])
    page = client.get(url)
    assert 'name="rating"' in page.content.decode()
    response = client.post(reverse("cases:track_rate", args=[case.tracking_code]),
                           {"rating": "5", "comment": "很快就处理好了"}, follow=True)
    assert "Thank you for your rating." in text_of(response)
    case.refresh_from_db()
    assert case.rating == 5 and case.rating_comment == "很快就处理好了" and case.status == Status.CLOSED
    assert 'name="rating"' not in response.content.decode()
    again = client.post(reverse("cases:track_rate", args=[case.tracking_code]), {"rating": "1"}, follow=True)
    assert "already been rated" in text_of(again)
    case.refresh_from_db()
    assert case.rating == 5


def test_an_unsatisfied_reporter_can_reopen(client, city, people):
    case = to_status(city, people, Status.CLOSED)
    response = client.post(reverse("cases:track_rate", args=[case.tracking_code]),
                           {"rating": "1", "comment": "垃圾还在", "reopen": "on"}, follow=True)
    assert "sent back to be handled again" in text_of(response)
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.rework_count == 1


@pytest.mark.parametrize("rating", ["", "0", "6", "abc"])
def test_bad_ratings_are_refused(client, city, people, rating):
    case = to_status(city, people, Status.CLOSED)
    response = client.post(reverse("cases:track_rate", args=[case.tracking_code]),
                           {"rating": rating, "comment": "还没有处理"}, follow=True)
    # The page again (400) with the error beside the rating and the comment as typed; nothing kept.
    body = response.content.decode()
    assert response.status_code == 400 and 'class="field-error"' in body and "还没有处理" in body
    case.refresh_from_db()
    assert case.rated_at is None


def test_a_rating_records_whether_the_matter_was_solved(client, city, people):
    case = to_status(city, people, Status.CLOSED)
    client.post(reverse("cases:track_rate", args=[case.tracking_code]), {"rating": "4", "solved": "yes"})
    case.refresh_from_db()
    assert (case.rating, case.rating_count, case.satisfied_count) == (4, 1, 1)
    assert list(case.ratings.values_list("rating", "solved")) == [(4, True)]


@pytest.mark.parametrize("solved", ["maybe", "1"])
def test_a_bad_solved_answer_is_refused(client, city, people, solved):
    case = to_status(city, people, Status.CLOSED)
    response = client.post(reverse("cases:track_rate", args=[case.tracking_code]),
                           {"rating": "4", "solved": solved}, follow=True)
    assert response.status_code == 400 and 'class="field-error"' in response.content.decode()
    case.refresh_from_db()
    assert case.rated_at is None and not case.ratings.exists()


def test_a_patrol_case_has_no_rating_form_and_refuses_a_rating(client, city, people):
    case = services_report.case_report(category=category(), description="井盖缺失", channel=Channel.PATROL,
                                       building=city.building_a, acting_user=people.worker, now=MONDAY)
    case = services.case_accept(case=case, acting_user=case.assignee, now=MONDAY)
    case = services.case_resolve(case=case, acting_user=case.assignee, note="已处理", photos=[png()], now=MONDAY)
    case = services.case_verify(case=case, acting_user=people.community, passed=True, now=MONDAY)
    case = services.case_close(case=case, acting_user=people.community, now=MONDAY)
    assert 'name="rating"' not in client.get(reverse("cases:track", args=[case.tracking_code])).content.decode()
    response = client.post(reverse("cases:track_rate", args=[case.tracking_code]), {"rating": "5"}, follow=True)
    assert "can be rated" in text_of(response)
    case.refresh_from_db()
    assert case.rated_at is None and not case.ratings.exists()


def test_an_open_case_cannot_be_rated(client, city, people):
    case = to_status(city, people, Status.HANDLING)
    response = client.post(reverse("cases:track_rate", args=[case.tracking_code]), {"rating": "4"}, follow=True)
    assert "it cannot rate now" in text_of(response)
    assert 'name="rating"' not in response.content.decode()


def test_rating_an_unknown_code_is_404(client, city):
    assert client.post(reverse("cases:track_rate", args=["ABCDEFGHJKMNP"]), {"rating": "5"}).status_code == 404


def test_tracking_shows_public_photos_only(client, city, people):
    case = resident_report(city, photos=[png("report.png")])
    case = to_status(city, people, Status.HANDLING)
    services.case_note(case=case, acting_user=people.worker, note="内部照片", photos=[png("inside.png")],
                       now=timezone.now())
    other = resident_report(city, photos=[png("other.png")])
    services.case_resolve(case=case, acting_user=people.worker, note="已清理", photos=[png("done.png")],
                          now=timezone.now())
    internal = CasePhoto.objects.get(case=case, event__is_public=False)
    public = CasePhoto.objects.get(case=case, event__is_public=True)
    page = client.get(reverse("cases:track", args=[case.tracking_code])).content.decode()
    public_url = reverse("cases:track_photo", args=[case.tracking_code, public.pk])
    assert public_url in page
    assert "/media/" not in page
    served = client.get(public_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert client.get(reverse("cases:track_photo", args=[case.tracking_code, internal.pk])).status_code == 404
    foreign = CasePhoto.objects.get(case=other)
    assert client.get(reverse("cases:track_photo", args=[case.tracking_code, foreign.pk])).status_code == 404
    assert client.get(reverse("cases:track_photo", args=["ABCDEFGHJKMNP", public.pk])).status_code == 404


# --- patrol reports ----------------------------------------------------------------------

def test_patrol_form_offers_my_grid_only(client, city, people):
    client.force_login(people.worker)
    page = client.get(reverse("cases:patrol"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="b{city.building_a.pk}"' in html and f'value="g{city.grid_a.pk}"' in html
    assert f'value="b{city.building_b.pk}"' not in html and f'value="b{city.building_a2.pk}"' not in html
    assert "layout-worker" in html


def test_patrol_report_is_registered_and_dispatched(client, city, people):
    client.force_login(people.worker)
    response = client.post(reverse("cases:patrol"), {
        "category": "E0105", "place": f"b{city.building_a.pk}", "description": "3单元楼道堆放纸箱", "photo": png(),
    })
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.channel == Channel.PATROL and case.reporter == people.worker
    assert case.status == Status.DISPATCHED and case.photos.count() == 1


def test_patrol_report_outside_my_grid_is_refused(client, city, people):
    client.force_login(people.worker)
    for place in (f"b{city.building_b.pk}", f"g{city.grid_b.pk}", "b999999", "x1", ""):
        response = client.post(reverse("cases:patrol"), {"category": "E0105", "place": place, "description": "x"})
        assert response.status_code == 400
    assert Case.objects.count() == 0


def test_patrol_page_for_someone_without_a_grid_post(client, city, people):
    client.force_login(people.community)
    response = client.get(reverse("cases:patrol"))
    assert "you hold no such post" in text_of(response)
    assert client.post(reverse("cases:patrol"), {"category": "E0105", "place": f"g{city.grid_a.pk}",
                                                 "description": "x"}).status_code == 400
    assert Case.objects.count() == 0


# --- hotline entry ---------------------------------------------------------------------------

def hotline_data(city, **overrides):
    data = {
        "external_ref": "12345-20261123-0042", "reporter_name": "王五", "reporter_phone": "13700001111",
        "category": "E0304", "community": city.community_a.pk, "grid": city.grid_a.pk,
        "building": city.building_a.pk, "address": "", "description": "楼下烧烤店夜间噪声扰民",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_hotline_entry_by_community_staff(client, city, people):
    client.force_login(people.community)
    page = client.get(reverse("cases:hotline"))
    html = page.content.decode()
    assert page.status_code == 200 and 'name="community"' in html and 'name="street"' not in html
    response = client.post(reverse("cases:hotline"), hotline_data(city), follow=True)
    case = Case.objects.get()
    assert case.channel == Channel.HOTLINE and case.external_ref == "12345-20261123-0042"
    assert case.reporter_phone == "13700001111" and case.reporter == people.community
    assert case.status == Status.DISPATCHED
    assert response.redirect_chain[-1][0] == reverse("cases:detail", args=[case.pk])
    assert case.tracking_code_display in text_of(response)


def test_hotline_cannot_enter_a_place_outside_my_scope(client, city, people):
    client.force_login(people.community)
    response = client.post(reverse("cases:hotline"), hotline_data(
        city, community=city.community_b.pk, grid=city.grid_b.pk, building=city.building_b.pk))
    assert response.status_code == 400
    assert Case.objects.count() == 0


def test_hotline_for_a_district_official_starts_at_the_streets(client, city, people):
    client.force_login(people.district)
    html = client.get(reverse("cases:hotline")).content.decode()
    assert 'name="street"' in html and "城北街道" in html and "城南街道" in html
    assert "涪城区" not in html


def test_hotline_bad_input(client, city, people):
    client.force_login(people.community)
    response = client.post(reverse("cases:hotline"), hotline_data(city, grid="", building="", category="ZZZ"))
    assert response.status_code == 400
    text = text_of(response)
    assert "Choose a category from the list." in text and "Choose where the matter is" in text
    assert Case.objects.count() == 0


def test_intake_pages_need_sign_in(client, city):
    for name in ("cases:patrol", "cases:hotline"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert client.post(reverse(name), {}).status_code == 302
    assert Case.objects.count() == 0


# --- the alarm webhook --------------------------------------------------------------------------

ALARM = reverse("cases:alarm")


def alarm(client, body, *, token=TOKEN, header="HTTP_AUTHORIZATION", raw=None):
    headers = {header: (f"Bearer {token}" if header == "HTTP_AUTHORIZATION" else token)} if token else {}
    payload = raw if raw is not None else json.dumps(body)
    return client.post(ALARM, payload, content_type="application/json", **headers)


def alarm_body(city, **overrides):
    body = {"building": city.building_a.pk, "category": "E0601", "description": "烟感报警：消防通道堵塞",
            "occurred_at": timezone.now().isoformat(), "device_id": "cam-0815"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_alarm_creates_a_case_then_folds_repeats(client, city):
    first = alarm(client, alarm_body(city))
    assert first.status_code == 201
    number = first.json()["case"]
    case = Case.objects.get(number=number)
    assert case.channel == Channel.ALARM and case.status == Status.DISPATCHED and case.external_ref == "cam-0815"
    second = alarm(client, alarm_body(city, description="再次报警"))
    assert second.status_code == 200
    assert second.json() == {"created": False, "case": number, "status": "dispatched", "alarm_count": 2,
                             "duplicate_of": number}
    assert Case.objects.count() == 1
    # Another category at the same place is another matter.
    assert alarm(client, alarm_body(city, category="E0602")).status_code == 201


def test_alarm_by_place_code_and_x_alarm_token(client, city):
    response = alarm(client, alarm_body(city, building=None, place=city.grid_b.code), header="HTTP_X_ALARM_TOKEN")
    assert response.status_code == 201
    assert Case.objects.get().grid_id == city.grid_b.pk


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x", ""])
def test_alarm_needs_the_token(client, city, token):
    response = alarm(client, alarm_body(city), token=token)
    assert response.status_code == 401 and "WWW-Authenticate" in response
    assert Case.objects.count() == 0


def test_alarm_webhook_is_off_without_a_configured_token(client, city, settings):
    settings.ALARM_WEBHOOK_TOKEN = ""
    assert alarm(client, alarm_body(city), token="").status_code == 401
    assert alarm(client, alarm_body(city), token="anything").status_code == 401


NOT_JSON, NOT_AN_OBJECT = "The body is not valid JSON.", "The body must be a JSON object."


@pytest.mark.parametrize("raw, message", [("{not json", NOT_JSON), ("[1, 2]", NOT_AN_OBJECT), ('"text"', NOT_AN_OBJECT),
                                          ("", NOT_JSON), ("\xff\xfe", NOT_JSON), ("null", NOT_AN_OBJECT)])
def test_alarm_malformed_json_is_400(client, city, raw, message):
    response = alarm(client, None, raw=raw)
    assert response.status_code == 400
    assert response.json() == {"error": message}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "NOPE"}, "category"),
        ({"category": None}, "category"),
        ({"building": 999999}, "building"),
        ({"building": None}, "place"),
        ({"building": None, "place": "000000000000000"}, "place"),
        ({"place": "510703001"}, "place"),  # both a building and a place
        ({"description": ""}, "description"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": (timezone.now() + timedelta(hours=2)).isoformat()}, "occurred_at"),
        ({"occurred_at": (timezone.now() - timedelta(days=3)).isoformat()}, "occurred_at"),
        ({"building": {"id": 1}}, "building"),
        ({"latitude": 123}, "latitude"),
    ],
)
def test_alarm_bad_fields_are_400_with_errors(client, city, overrides, field):
    response = alarm(client, alarm_body(city, **overrides))
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert Case.objects.count() == 0


def test_alarm_street_code_is_not_a_place(client, city):
    response = alarm(client, alarm_body(city, building=None, place=city.street_a.code))
    assert response.status_code == 400 and "place" in response.json()["errors"]


def test_alarm_wrong_method_and_oversized_body(client, city):
    assert client.get(ALARM).status_code == 405
    huge = json.dumps(alarm_body(city, description="x" * 70_000))
    assert alarm(client, None, raw=huge).status_code == 413
    assert Case.objects.count() == 0


def test_alarm_needs_no_csrf_token(city):
    strict = Client(enforce_csrf_checks=True)
    assert alarm(strict, alarm_body(city)).status_code == 201


def test_hotline_street_staff_cannot_pick_another_street(client, city, people):
    client.force_login(people.street)
    html = client.get(reverse("cases:hotline")).content.decode()
    assert "城北街道" in html and "城南街道" not in html
    response = client.post(reverse("cases:hotline"), hotline_data(
        city, street=city.street_b.pk, community=city.community_b.pk, grid=city.grid_b.pk,
        building=city.building_b.pk))
    assert response.status_code == 400 and "does not fit" in text_of(response)
    assert Case.objects.count() == 0
    assert client.post(reverse("cases:hotline"), hotline_data(city, street=city.street_a.pk)).status_code == 302


def test_a_nul_in_the_category_is_a_400_not_a_500(client, city):
    response = post_report(client, REPORT, report_data(city, category="E01\x00"))
    assert response.status_code == 400
    assert not Intake.objects.exists() and not Case.objects.exists()


def test_an_incomplete_chain_is_refused(client, city):
    response = post_report(client, REPORT, report_data(city, street=None))
    assert response.status_code == 400 and "does not fit" in text_of(response)
    response = post_report(client, REPORT, report_data(city, community="abc"))
    assert response.status_code == 400
    assert Case.objects.count() == 0


def test_a_valid_report_is_one_statement(client, city):
    """The intake path is the busiest public endpoint: no option lists are built, and the
    category, the place chain and the report are checked and written by one INSERT."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.post(REPORT, report_data(city)).status_code == 302
    # On PostgreSQL the INSERT is a prepared statement: PREPARE once per connection, then EXECUTE.
    statements = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("PREPARE")]
    assert len(statements) == 1, statements
    if connection.vendor == "postgresql":
        assert statements[0].startswith("EXECUTE portal_intake_"), statements
    else:
        assert statements[0].lstrip().startswith("INSERT INTO cases_intake "), statements
    assert Intake.objects.count() == 1 and Case.objects.count() == 0


def test_ids_too_large_for_the_database_are_refused_not_500(client, city, people):
    huge = "9" * 30
    assert client.get(reverse("cases:places"), {"parent": huge}).status_code == 400
    assert client.get(reverse("cases:places"), {"grid": huge}).status_code == 400
    assert client.get(REPORT, {"building": huge}).status_code == 200
    response = post_report(client, REPORT, report_data(city, grid=huge, building=huge))
    assert response.status_code == 400
    assert alarm(client, alarm_body(city, building=int(huge))).status_code == 400
    client.force_login(people.worker)
    assert client.post(reverse("cases:patrol"), {"category": "E0105", "place": f"b{huge}",
                                                 "description": "x"}).status_code == 400
    assert Case.objects.count() == 0


def test_a_photo_sent_with_a_refused_report_is_said_to_be_lost(client, city):
    """No browser refills a file input: the resident is told to choose the photo again, on the photo."""
    response = post_report(client, REPORT, report_data(city, description=" ", photo=png()))
    assert response.status_code == 400
    html = response.content.decode()
    assert "field-photo has-error" in html
    assert "choose the file again" in text_of(response)
    assert Case.objects.count() == 0 and CasePhoto.objects.count() == 0
    # Without a photo sent, nothing is said about one.
    response = post_report(client, REPORT, report_data(city, description=" "))
    assert "field-photo has-error" not in response.content.decode()
