"""manage.py rebuild_rollups: recompute the dashboard rollups from the case table.

`--refresh` only recomputes the cases listed in the rollup backlog (what the beat
does every minute). Both are idempotent.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from dashboards.rollups import rollups_rebuild, rollups_refresh


class Command(BaseCommand):
    help = "Recompute the dashboard rollups from the case table (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--refresh", action="store_true", help="only the buckets touched since the last run")

    def handle(self, *args, **options):
        if options["refresh"]:
            count = rollups_refresh(now=timezone.now())
            self.stdout.write(f"{count} bucket(s) recomputed")
        else:
            count = rollups_rebuild(now=timezone.now())
            self.stdout.write(f"{count} rollup row(s) written")
