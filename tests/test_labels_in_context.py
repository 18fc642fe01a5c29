"""One English word, several Chinese meanings: labels that read wrong when a msgid was shared
between pages (found walking the demo). Each now has its own context; the old readings stay where
they fit (the volunteers' honours period, the case export's yes/no column)."""

import pytest
from django.urls import reverse
from django.utils import translation

from grid.models import Role
from risks.models import RiskStatus

from .cases_factories import at
from .dashboard_factories import fixture_cases  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.clock(at(2026, 11, 30, 23, 55))]


def test_the_dashboard_says_reporting_period_and_a_count_of_supervised_matters(city, fixture_cases, make_user,
                                                                                client):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))

    page = client.get(reverse("cases:dashboard_place", args=[city.district.pk]),
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "统计周期" in page and "评选周期" not in page
    assert "督办数" in page and "是否督办" not in page


def test_the_volunteers_honours_keep_their_award_period():
    from volunteers.forms import HonoursFilterForm

    with translation.override("zh-hans"):
        assert str(HonoursFilterForm.base_fields["period"].label) == "评选周期"


def test_an_open_risk_reads_as_not_yet_written_off():
    with translation.override("zh-hans"):
        assert str(RiskStatus.OPEN.label) == "未销号"
        assert str(RiskStatus.CLOSED.label) == "已销号"
    with translation.override("en"):
        assert str(RiskStatus.OPEN.label) == "open"


def test_a_too_long_text_is_said_plainly_not_as_a_variable():
    """Django's own Chinese reads 确保该变量包含不超过… ("make sure this variable…"): residents met it
    on the report form's description. The portal's catalogue says it as a person would."""
    from django import forms

    with translation.override("zh-hans"):
        with pytest.raises(forms.ValidationError) as long:
            forms.CharField(max_length=3).clean("一二三四")
        with pytest.raises(forms.ValidationError) as short:
            forms.CharField(min_length=3).clean("一")
    assert long.value.messages == ["最多 3 个字，现在是 4 个，请删减。"]
    assert short.value.messages == ["至少需要 3 个字，现在是 1 个。"]


def test_the_admins_time_zone_note_is_chinese(city, make_user, client):
    """Django 6.1's admin scripts say "Note: Enter times in the … timezone" beside every date-time
    field when the browser's clock is elsewhere; Django's own zh_Hans catalogue has no Chinese for it
    yet, so staff on a laptop set to another zone read English. The portal's djangojs catalogue does."""
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a))

    script = client.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode("utf-8")

    assert "Note: Enter times in the %(timezone)s timezone. (You are %(offset)s hour behind.)" in script
    assert "\\u6ce8\\u610f\\uff1a\\u8bf7\\u6309" in script or "注意：请按" in script
    assert "\\u4f60\\u6240\\u5728\\u7684\\u65f6\\u533a\\u6162" in script or "你所在的时区慢" in script
