"""manage.py escalate_overdue: run the escalation sweep once, now (what the beat does every minute).

Useful when the worker or the broker was down, and in the demo to see escalation at once.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import ngettext

from cases.escalation import escalate_overdue


class Command(BaseCommand):
    help = "Escalate every case past its deadline one level up (idempotent)."

    def handle(self, *args, **options):
        moved = escalate_overdue(now=timezone.now())
        self.stdout.write(ngettext("%(n)d case escalated", "%(n)d cases escalated", moved) % {"n": moved})
