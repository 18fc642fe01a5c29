"""The 三长's "report what I see" page (/cases/see/, issue #21).

Building and unit chiefs (楼栋长/单元长) saw 巡查上报 in their menu and were refused:
patrol reports are a grid worker's duty. Here they report what they see in their
own building or unit, the way a resident does (the community registers it), under
their name, and follow it by its tracking code. The places offered are read from
their own posts only; anything else answers the form's error, and nothing is written.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Building, Role, Unit
from grid.selectors import active_posts
from grid.views import render_page
from portal.fields import files_not_kept
from portal.errors import DomainError

from . import forms as case_forms
from . import services_report
from .forms_chief import ChiefReportForm
from .models import Channel, ReporterKind
from .uploads import capped_uploads, photos_of


def chief_places(user):
    """[(value, label, building, unit)]: the buildings (with their units) and units the user is chief of."""
    posts = list(active_posts(user).filter(role__in=(Role.BUILDING_CHIEF, Role.UNIT_CHIEF))
                 .values_list("role", "building_id", "unit_id"))
    building_ids = {b for role, b, _u in posts if role == Role.BUILDING_CHIEF and b}
    unit_ids = {u for role, _b, u in posts if role == Role.UNIT_CHIEF and u}
    places = []
    buildings = Building.objects.filter(pk__in=building_ids, grid__is_active=True).order_by("number", "pk")
    units = {}
    for unit in Unit.objects.filter(building_id__in=building_ids).select_related("building").order_by("number", "pk"):
        units.setdefault(unit.building_id, []).append(unit)
    for building in buildings:
        places.append((f"b{building.pk}", str(building), building, None))
        places += [(f"u{unit.pk}", f"{building.number} {unit.number}", building, unit)
                   for unit in units.get(building.pk, ())]
    for unit in Unit.objects.filter(pk__in=unit_ids - {u.pk for us in units.values() for u in us},
                                    building__grid__is_active=True).select_related("building").order_by("pk"):
        places.append((f"u{unit.pk}", f"{unit.building} {unit.number}", unit.building, unit))
    return places


@login_required
@capped_uploads
def chief_report(request):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = request.user
    places = chief_places(user)
    status = 200
    if request.method == "POST" and places:
        form = ChiefReportForm(request.POST, request.FILES, refused_uploads=request.refused_uploads, places=places)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services_report.case_report(
                    category=data["category"], description=data["description"], channel=Channel.WEB,
                    building=data["building"], unit=data["unit"], photos=photos_of(data), acting_user=user,
                    reporter_kind=ReporterKind.RESIDENT, reporter_name=user.full_name or user.get_username(),
                    now=timezone.now(),
                )
            except DomainError as error:
                case_forms.add_domain_error(form, error)
            else:
                messages.success(request, _("Reported to the community. Tracking code %(code)s.")
                                 % {"code": case.tracking_code_display})
                return redirect("cases:track", code=case.tracking_code)
        files_not_kept(form, request.FILES)
        status = 400
    else:
        form = ChiefReportForm(places=places) if places else None
        if request.method == "POST":
            status = 403
    return render_page(request, "cases/chief_report.html", {"form": form, "places": places}, status=status)
