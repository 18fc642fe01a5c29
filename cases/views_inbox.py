"""The staff inbox (站内消息, /inbox/): the notices the outbox delivered to the signed-in user.

Only her own rows (`selectors.inbox_for(user)`): nobody reads another's inbox,
so there is no id in the URL to guess. Reading the page does not mark anything
read; "mark all read" is a POST.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grid.views import render_page

from .selectors import inbox_for
from .services_inbox import notifications_mark_read

INBOX_PAGE_SIZE = 30


@login_required
@require_GET
def inbox(request):
    rows = inbox_for(request.user).select_related("case__category")
    page = Paginator(rows, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    unread = inbox_for(request.user, unread_only=True).count()
    return render_page(request, "cases/inbox.html", {"page": page, "notices": list(page.object_list),
                                                     "unread": unread})


@login_required
@require_POST
def inbox_read(request):
    changed = notifications_mark_read(user=request.user, now=timezone.now())
    if changed:
        messages.success(request, _("All notices marked read."))
    return redirect("cases:inbox")
