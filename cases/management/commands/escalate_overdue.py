"""manage.py escalate_overdue: run the escalation sweep once, now (what the beat does every minute).

Useful when the worker or the broker was down, and in the demo to see escalation at once.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.escalation import escalate_overdue, supervise_overdue_org_matters


class Command(BaseCommand):
    help = "Escalate every case past its deadline one level up (idempotent)."

    def handle(self, *args, **options):
        now = timezone.now()
        moved = escalate_overdue(now=now)
        self.stdout.write(ngettext("%(n)d case escalated", "%(n)d cases escalated", moved) % {"n": moved})
        # Big matters are supervised (督办) instead, as the beat does.
        supervised = supervise_overdue_org_matters(now=now)
        self.stdout.write(_("Big matters supervised: %(n)d") % {"n": supervised})
