"""Points for closed cases (积分): where the cases app and the volunteers app meet.

When a close commits, cases.signals.case_closed reaches `tasks.case_closed`
(connected in hub/wiring.py), which enqueues `award_case_points`; an hourly
sweep (`award_recent_closed_cases`) catches a message the broker lost. Both end
in `award_closed_case`: it reads the case and who reported or verified it here,
and books the points through volunteers.ledger, which knows nothing of cases.

The points are paid after the close, never inside its transaction: a closed
case does not wait for, or fail with, the ledger. They were paid that way
(by a task on commit) before the apps were split, and still are.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cases.models import Case, CaseEvent, Status
from volunteers.ledger import book_case_points
from volunteers.models import LedgerTransaction, TransactionKind, Volunteer


def case_volunteers(case):
    """Active volunteers who reported a case or verified it on site (by their portal accounts)."""
    users = set(CaseEvent.objects.filter(case=case, action=CaseEvent.Action.VERIFY, actor__isnull=False)
                .values_list("actor_id", flat=True))
    if case.reporter_id:
        users.add(case.reporter_id)
    return list(Volunteer.objects.filter(user_id__in=users, is_active=True, community__isnull=False).order_by("pk"))


@transaction.atomic
def award_closed_case(*, case_id, now=None):
    """volunteers.ledger.CASE_POINTS to each volunteer who reported or verified a closed case.

    Once per case and volunteer for the case's whole life: closing it again after
    a reopen pays nothing more, and neither does an award staff reversed. A case
    no longer closed (reopened before this ran) earns nothing now; its next close
    does. Safe to run twice or concurrently. Returns the new transactions.
    """
    now = now or timezone.now()
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.status != Status.CLOSED:
        return []
    return book_case_points(case=case, volunteers=case_volunteers(case), now=now)


def closed_cases_to_award(*, now, days=2):
    """Ids of cases closed in the last `days` that a volunteer reported or verified and that
    have paid no case points since that close (the sweep behind the on-commit task).

    "Since that close", not "ever": a volunteer who verified it after a reopen is owed
    points for the second close even though the first one paid someone else;
    award_closed_case checks each volunteer's account, so a recheck pays nothing twice."""
    volunteer_verified = CaseEvent.objects.filter(case=OuterRef("pk"), action=CaseEvent.Action.VERIFY,
                                                  actor__volunteer__is_active=True)
    paid = LedgerTransaction.objects.filter(kind=TransactionKind.CASE, case=OuterRef("pk"),
                                            at__gte=OuterRef("closed_at"))
    return list(Case.objects.filter(status=Status.CLOSED, closed_at__gte=now - timedelta(days=days))
                .filter(Q(reporter__volunteer__is_active=True) | Exists(volunteer_verified))
                .exclude(Exists(paid)).values_list("pk", flat=True).distinct()[:10_000])
