"""Every admin page community staff can reach, in Chinese (issue #21): no English fragment of
Django's or the portal's left on the page.

The admins are found at run time in `admin.site._registry`, so an admin added later is walked
too. The world is the demo city (`seed_city --scale demo`), signed in as its community staff
account with zh-hans asked for. For each admin the user may open, the walk renders the
changelist (with every filter's choices), the add form and the change form of a row in scope,
the admin index and each app index, and reads what a person sees: the text, and the title,
placeholder, aria-label and alt attributes. Scripts, styles and the values of form fields are
not read (a value is the data, typed by people).
"""

import io
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from grid.models import User

pytestmark = pytest.mark.clock("2026-03-02T10:00:00+08:00")

# Seen on the pages before issue #21, or Django's English that a missing catalogue entry shows.
ENGLISH = (
    "Filter by", "Select an option", " object (", "Django", "Add ", "Change ", "Delete", "Save",
    "Search", "Action:", "Go", "Show all", "Clear all filters", "Filter", "Home", "View site",
    "Log out", "Welcome", "History", "None", "Yes", "No", "Unknown", "Today", "Now", "Any date",
    "Past 7 days", "This month", "This year", "selected", "Select ", "Currently:", "Clear",
    "Choose", "Remove", "Timeline", "photo", "Photo", "Not Found", "results", "Hide", "Show",
    "Date:", "Time:", "Note:", "Run the selected action", "Toggle", "Skip to main content",
    "Start typing to filter", "Recent actions", "My actions", "Authentication", "Authorization",
)
# Allowed English inside Chinese pages: names and codes of the domain itself.
ALLOWED = re.compile(r"Open311|API|12345|TOTP|OTP|QR|ID|CSV|Excel|GB/T|PIPL|E\d{4}|[A-Z]{2,}-?\d*")

READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class Visible(HTMLParser):
    """The text a person reads on the page, with the attributes a screen reader speaks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template", "textarea"):
            self._skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "textarea") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def english_on(html):
    parser = Visible()
    parser.feed(html)
    found = []
    for part in parser.parts:
        text = ALLOWED.sub("", part)
        for fragment in ENGLISH:
            pattern = re.escape(fragment)
            if fragment[-1].isalpha():
                pattern += r"\b"
            if fragment[0].isalpha():
                pattern = r"\b" + pattern
            if re.search(pattern, text):
                found.append(f"{fragment!r} in {part[:80]!r}")
    return found


@pytest.mark.django_db(transaction=False)
def test_every_admin_page_staff_reach_is_chinese():
    call_command("seed_city", "--scale", "demo", stdout=io.StringIO())
    user = User.objects.get(username="community")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    request = client.get(reverse("admin:index")).wsgi_request
    problems, walked = [], 0

    def check(url, params=None):
        nonlocal walked
        response = client.get(url, params or {})
        walked += 1
        if response.status_code != 200:
            problems.append(f"{url}: answered {response.status_code}")
            return response
        for found in english_on(response.content.decode()):
            problems.append(f"{url}: {found}")
        return response

    check(reverse("admin:index"))
    apps = set()
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        opts = model._meta
        if not model_admin.has_module_permission(request) or not model_admin.has_view_permission(request):
            continue
        info = (opts.app_label, opts.model_name)
        apps.add(opts.app_label)
        check(reverse("admin:%s_%s_changelist" % info))
        if model_admin.has_add_permission(request):
            check(reverse("admin:%s_%s_add" % info))
        # A row the user may open (reference data lists city-wide rows, some of them not hers).
        obj = next((row for row in model_admin.get_queryset(request).order_by("pk")[:20]
                    if model_admin.has_view_permission(request, row)), None)
        if obj is not None:
            check(reverse("admin:%s_%s_change" % info, args=[obj.pk]))
    for app_label in sorted(apps):
        # An app whose every table is a system one has no index for staff (404, portal/admin_site.py).
        if admin.site.get_app_list(request, app_label):
            check(reverse("admin:app_list", args=[app_label]))

    print(f"\nadmin pages walked in Chinese: {walked}")
    assert walked >= 60, walked
    assert problems == [], "\n".join(problems)


def test_the_english_detector_catches_the_fragments_of_issue_21():
    page = ('<h3>Filter by 上报时间</h3><select><option value="">- Select an option -</option></select>'
            '<p>CasePhoto object (1)</p><div id="site-name">Django 管理</div><a title="Add 案件">+</a>')
    found = " ".join(english_on(page))
    for fragment in ("Filter by", "Select an option", " object (", "Django", "Add "):
        assert repr(fragment) in found, found
    assert english_on('<p>案件 E0101 · Open311 · 12345 热线</p><script>var a = "Add ";</script>') == []
