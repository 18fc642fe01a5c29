"""Show what the retention sweep would anonymise now, or run it (PIPL art. 19 and 47).

    manage.py anonymise_personal_data            # dry run: counts per activity, nothing written
    manage.py anonymise_personal_data --run      # anonymise them (what the nightly beat job does)
    manage.py anonymise_personal_data --at 2027-01-01T00:00:00+08:00   # as of another moment (dry run)
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from grid.privacy import registry
from grid.privacy.services import retention_due, retention_run


class Command(BaseCommand):
    help = "Show (or with --run, do) the anonymising of personal data kept past its retention period."

    def add_arguments(self, parser):
        parser.add_argument("--run", action="store_true", help="Anonymise; without it nothing is written.")
        parser.add_argument("--at", help="Count as of this ISO 8601 moment (with a time zone) instead of now.")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, run=False, at=None, batch_size=1000, **options):
        now = timezone.now()
        if at:
            now = parse_datetime(at)
            if now is None or timezone.is_naive(now):
                raise CommandError("--at takes an ISO 8601 date and time with a time zone.")
            if run:
                raise CommandError("--at is for dry runs only: the sweep anonymises as of now.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        due = retention_due(now=now)
        for key, count in due.items():
            act = registry.activity(key)
            self.stdout.write(f"{key}: {count} due ({act.retention_days} {act.retention_basis}, "
                              f"{act.retention_setting})")
        if not run:
            self.stdout.write(f"Dry run: {sum(due.values())} records would be anonymised. Use --run to do it.")
            return
        done = retention_run(now=now, batch_size=batch_size)
        for key, count in done.items():
            self.stdout.write(f"{key}: {count} anonymised")
        self.stdout.write(self.style.SUCCESS(f"Anonymised {sum(done.values())} records."))
