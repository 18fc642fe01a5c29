"""Records and recognition: a volunteer's printable certificate of hours
(志愿服务记录证明), and the rankings and honours of a place and period (光荣榜).

The certificate is reachable by the volunteer (their own) and by staff over
them, through `volunteers_visible_to`; anyone else gets a 404. The honours page
offers the places the user's posts reach (a volunteer without a post: their
own community); staff who manage the place confirm honours from it.
"""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grid.models import Area, AreaKind
from grid.selectors import areas_visible_to, can_manage_area, get_visible_or_404, scope_of
from portal.errors import DomainError

from . import selectors, services
from .forms import CertificateForm, HonourForm, HonoursFilterForm
from .periods import current_year, period_bounds
from .views import _render

RANKING_SIZE = 20
PLACE_CHOICES_MAX = 500
RANKED_KINDS = (AreaKind.DISTRICT, AreaKind.STREET, AreaKind.COMMUNITY)


def _day_start(day):
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


@login_required
@require_GET
def certificate(request, pk):
    """志愿服务记录证明 for one period: every confirmed record, who certified it, and the total."""
    volunteer = get_visible_or_404(selectors.volunteers_visible_to(request.user)
                                   .select_related("community", "street", "district"), pk=pk)
    today = timezone.localdate()
    form = CertificateForm(request.GET or {"since": today.replace(month=1, day=1), "until": today})
    if not form.is_valid():
        return _render(request, "volunteers/certificate.html", {"volunteer": volunteer, "form": form}, status=400)
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    records, total = selectors.certificate_records(volunteer, user=request.user, since=_day_start(since),
                                                   until=_day_start(until + timedelta(days=1)))
    return _render(request, "volunteers/certificate.html", {
        "volunteer": volunteer, "form": form, "records": records, "total": total, "since": since, "until": until,
        "issued_on": today, "number": f"V{volunteer.pk:06d}-{since:%Y%m%d}-{until:%Y%m%d}",
        "issuer": volunteer.community,
    })


def _places(user):
    """Places whose rankings the user may see: the districts, streets and communities of their
    posts' subtrees, and a volunteer's own community (a grid worker's or chief's post holds none)."""
    places = []
    if not scope_of(user).is_empty:
        places = list(areas_visible_to(user).filter(kind__in=RANKED_KINDS, is_active=True)
                      .order_by("tree_id", "lft")[:PLACE_CHOICES_MAX])
    volunteer = services.volunteer_of(user)
    if volunteer and volunteer.community_id and all(a.pk != volunteer.community_id for a in places):
        places += list(Area.objects.filter(pk=volunteer.community_id))
    return places


def _in_place(area, prefix):
    return Q(**{f"{prefix}tree_id": area.tree_id, f"{prefix}lft__gte": area.lft, f"{prefix}lft__lte": area.rght})


@login_required
@require_GET
def honours(request):
    """光荣榜: a place's ranking by points earned in a period, and the honours staff confirmed there."""
    places = _places(request.user)
    if not places:
        raise Http404
    data = request.GET if "place" in request.GET else {"place": places[0].pk, "period": current_year()}
    form = HonoursFilterForm(data, places=places)
    if not form.is_valid():
        return _render(request, "volunteers/honours.html", {"form": form}, status=400)
    place = next(a for a in places if a.pk == form.cleaned_data["place"])
    period = form.cleaned_data["period"]
    since, until = period_bounds(period)
    rows = selectors.ranking(place, since=since, until=until, limit=RANKING_SIZE)
    periods = Q(period=period) | Q(period__startswith=f"{period}-") if len(period) == 4 else Q(period=period)
    awarded = list(selectors.honours_visible_to(request.user).filter(periods, _in_place(place, "area__"))
                   .select_related("volunteer", "area", "confirmed_by").order_by("title", "volunteer__name")[:200])
    may_award = can_manage_area(request.user, place) and not scope_of(request.user).is_empty
    ranked = [{"rank": n, "volunteer_id": row["account__volunteer"], "name": row["account__volunteer__name"],
               "points": row["points"],
               "form": HonourForm(initial={"volunteer": row["account__volunteer"], "place": place.pk,
                                           "period": period}, auto_id=f"h{row['account__volunteer']}_%s")
               if may_award else None}
              for n, row in enumerate(rows, start=1)]
    return _render(request, "volunteers/honours.html", {
        "form": form, "place": place, "period": period, "ranked": ranked, "honours": awarded,
        "titles": services.HONOUR_TITLES, "may_award": may_award,
    })


@login_required
@require_POST
def honour_award(request):
    """One staff-confirmed honour from a ranking row; back to the same place and period."""
    form = HonourForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, error if field in ("__all__", "volunteer", "place", "period")
                               else f"{form.fields[field].label}: {error}")
        return redirect("volunteers:honours")
    data = form.cleaned_data
    place = get_visible_or_404(areas_visible_to(request.user, managing=True), pk=data["place"])
    volunteer = get_visible_or_404(selectors.volunteers_visible_to(request.user), pk=data["volunteer"])
    try:
        honour = services.honour_award(volunteer=volunteer, title=data["title"], area=place, period=data["period"],
                                       citation=data["citation"], acting_user=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("“%(title)s” %(period)s confirmed for %(name)s.")
                         % {"title": honour.title, "period": honour.period, "name": volunteer.name})
    query = urlencode({"place": place.pk, "period": data["period"]})
    return redirect(f"{reverse('volunteers:honours')}?{query}")
