"""Pages that show several domain apps at once.

The grid worker's monthly work record (网格员工作台账, hub/work_record.py) counts
patrols, cases and care visits toward the district's duties.

The grid worker's queue (我的待办) lists their cases and, beside them, the care
visits due among their residents: it reads cases and residents, so it lives
above both. Its URL and name stay /cases/queue/ and `cases:queue`.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.context_processors import mediates
from cases.escalation_left import left_my_queue
from cases.mediation_selectors import mediation_work_for
from cases.views import queue_context
from grid import selectors as selectors_grid
from grid.models import AreaKind, Post, Role, User
from grid.selectors import areas_visible_to, get_visible_or_404
from grid.views import render_page
from residents.selectors import resident_scope
from residents.views import due_visit_rows

from . import work_record as records

DUE_VISITS_SHOWN = 10


def due_visits(user, limit=DUE_VISITS_SHOWN):
    """Care visits due, for grid workers and staff whose posts reach residents (the issue's "in the queue")."""
    if not resident_scope(user).spans:
        return {}
    due = due_visit_rows(user, today=timezone.localdate(), limit=limit + 1)
    return {"due": due[:limit], "due_more": len(due) > limit, "show_due": True}


@login_required
@require_GET
def queue(request):
    """My queue: my cases (cases.views.queue_context), then the care visits due."""
    left = left_my_queue(request.user, now=timezone.now())
    # A people's mediator's work is on the mediation list: say here what waits there.
    mediation = mediation_work_for(request.user, today=timezone.localdate()) if mediates(request.user) else None
    return render_page(request, "cases/queue.html", {**queue_context(request), **due_visits(request.user),
                                                     "left": left, "mediation_work": mediation})


# --- 网格员工作台账 -----------------------------------------------------------------------

def _workers_managed_by(user):
    """Grid workers posted now on grids under the user's managing posts."""
    posts = Post.objects.filter(role=Role.GRID_WORKER, ended_at__isnull=True,
                                area__in=areas_visible_to(user, managing=True).filter(kind=AreaKind.GRID))
    return User.objects.filter(pk__in=posts.values("user_id"))


@login_required
@require_GET
def work_records(request):
    """The grid workers a community (or street, district) manages, each a link to the month's record."""
    workers = list(_workers_managed_by(request.user).order_by("full_name", "pk")[:500])
    if not workers and not selectors_grid.is_manager(request.user):
        raise Http404
    today = timezone.localdate()
    return render_page(request, "hub/work_records.html", {"workers": workers, "month": today.strftime("%Y-%m")})


@login_required
@require_GET
def work_record(request, user_id):
    """One worker's month, to read or print: her own, or one of the workers the user manages."""
    if user_id == request.user.pk:
        worker = request.user
    else:
        worker = get_visible_or_404(_workers_managed_by(request.user), pk=user_id)
    today = timezone.localdate()
    try:
        first = records.parse_month(request.GET.get("month", ""), today=today)
    except records.BadMonth:
        return render_page(request, "hub/work_record.html", {
            "error": _("Give the month as YYYY-MM, not later than this month."), "worker": worker}, status=400)
    record = records.work_record(worker=worker, first=first)
    return render_page(request, "hub/work_record.html", {"record": record, "worker": worker,
                                                         "month": first.strftime("%Y-%m")})
