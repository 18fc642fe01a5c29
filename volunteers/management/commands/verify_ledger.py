from django.core.management.base import BaseCommand, CommandError

from volunteers.ledger import books_problems


class Command(BaseCommand):
    help = "Check the points ledger: every transaction balanced, balances equal their entries, nothing negative."

    def handle(self, *args, **options):
        problems = books_problems()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the points ledger")
        self.stdout.write("The points ledger is sound.")
