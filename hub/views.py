"""Pages that show several domain apps at once.

The grid worker's queue (我的待办) lists their cases and, beside them, the care
visits due among their residents: it reads cases and residents, so it lives
above both. Its URL and name stay /cases/queue/ and `cases:queue`.
"""

from django.contrib.auth.decorators import login_required
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.views import queue_context
from grid.views import render_page
from residents.selectors import resident_scope
from residents.views import due_visit_rows

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
    return render_page(request, "cases/queue.html", {**queue_context(request), **due_visits(request.user)})
