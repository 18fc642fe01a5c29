"""Load place outlines (网格边界) from a GeoJSON file on the server, as the places admin's import does.

For the first load of a district's or a city's outlines, which comes as a file from the city's
grid platform rather than through a browser. The same service as the admin page
(grid.services_boundaries): all or nothing, every error listed, only the places the named user
manages (a superuser reaches every place), each change in the place's history under that user.
"""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from grid.services_boundaries import MAX_BYTES, BoundaryImportError, boundaries_import


class DryRun(Exception):
    """Raised inside the transaction to roll a checked import back."""


class Command(BaseCommand):
    help = ("Load place outlines from a GeoJSON FeatureCollection (one Feature a place, its code in the "
            "properties), all or nothing, as the named staff user.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the GeoJSON file, or - for standard input")
        parser.add_argument("--as", dest="username", required=True,
                            help="the user the import is made as: only the places they manage, and their name "
                                 "in each place's history")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report, change nothing")

    def handle(self, *args, file, username, dry_run, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        raw = read_limited(file)
        try:
            with transaction.atomic():
                result = boundaries_import(raw=raw, acting_user=user)
                if dry_run:
                    raise DryRun
        except DryRun:
            pass
        except BoundaryImportError as error:
            for line in error.errors:
                self.stderr.write(line)
            if error.total > len(error.errors):
                self.stderr.write(f"… and {error.total - len(error.errors)} more.")
            raise CommandError(str(error)) from None
        prefix = "Checked, nothing changed (--dry-run): " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(
            f"{prefix}{len(result.updated)} outline(s) {'would change' if dry_run else 'changed'}, "
            f"{len(result.unchanged)} already as the file has them."))


def read_limited(name):
    """The file's bytes, read no further than one byte past the service's limit (which then refuses it)."""
    try:
        if name == "-":
            return sys.stdin.buffer.read(MAX_BYTES + 1)
        with open(name, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise CommandError(f"Cannot read {name}: {error.strerror or error}.") from None
