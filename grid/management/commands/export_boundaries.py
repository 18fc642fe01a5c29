"""Write the outlines of the places a user manages as GeoJSON, as the places admin's export does:
each active place with its code, name and kind, and no geometry where it has no outline yet."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from grid.services_boundaries import boundaries_export


class Command(BaseCommand):
    help = "Write the outlines of the places the named user manages as a GeoJSON FeatureCollection."

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="username", required=True, help="whose places (a superuser: all)")
        parser.add_argument("-o", "--output", help="the file to write (default: standard output)")

    def handle(self, *args, username, output, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        collection = boundaries_export(user)
        text = json.dumps(collection, ensure_ascii=False)
        if not output:
            self.stdout.write(text)
            return
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}.") from None
        self.stderr.write(f"{len(collection['features'])} place(s) written to {output}.")
