"""manage.py deliver_notifications: word pending escalation notices and send every pending outbox
row now (what the beat does every minute)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from cases.notifications import broker_back, deliver_pending
from cases.escalation import escalation_notices_expand


class Command(BaseCommand):
    help = "Send pending notifications (inbox, email, chat robot) that are due."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=5000)

    def handle(self, *args, limit, **options):
        broker_back()
        escalation_notices_expand()
        sent = deliver_pending(now=timezone.now(), limit=limit)
        self.stdout.write(f"{sent} notification(s) sent")
