from django.core.management.base import BaseCommand

from grid.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from grid.models import User


class Command(BaseCommand):
    help = "Print the demo portal's URL and the demo logins that exist in this database."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url, **options):
        existing = {u.username: u for u in User.objects.filter(username__in=DEMO_ACCOUNTS)}
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo portal: {url}    admin: {url}admin/"))
        if not existing:
            self.stdout.write("No demo accounts in this database (seed_city --scale demo creates them).")
            return
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
        for username, purpose in DEMO_ACCOUNTS.items():
            if username in existing:
                self.stdout.write(f"  {username:<14} {existing[username]}  — {purpose}")
        self.stdout.write("")
