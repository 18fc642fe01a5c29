"""Archive a year of the households' points cards and reset them (idempotent; keeps every ledger row)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.errors import DomainError
from volunteers.household_points import household_years_close, year_of


class Command(BaseCommand):
    help = "Close a year of the households' points cards: archive each balance, reset it to zero."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="the year to close (default: last year)")

    def handle(self, *args, year=None, **options):
        now = timezone.now()
        try:
            closed = household_years_close(year=year or year_of(now) - 1, now=now)
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"closed {closed} household card(s)")
