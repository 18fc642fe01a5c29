"""The resident's report by location (issue #21): find the building by search or by
"use my location" (grid/views_location.py), then report at it. The grid follows
from the building; nobody is asked for it.

/report/at/<id>/ is the report form at a chosen building, filed as a web report
(the QR route /report/b/<id>/ stays a QR report).
"""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from grid.views_location import where_page

from . import views_public
from .models import Channel


def report_where(request):
    return where_page(
        request,
        title=_("Report a matter"),
        lead=_("First, where is it? Search your building or address, or use your location."),
        choose_url=lambda building_id: reverse("cases:report_at", args=[building_id]),
        list_url=reverse("cases:report"),
    )


# Exempt here only so that the report view's own wrapper (capped_uploads) installs the photo
# size cap before anything reads the body; that wrapper then checks CSRF itself.
@csrf_exempt
def report_at(request, building_id):
    return views_public.report(request, building_id, channel=Channel.WEB)
