from django.core.management.base import BaseCommand, CommandError

from grid.integrity import tree_problems


class Command(BaseCommand):
    help = "Check the nested-set invariants of every place tree and report any corruption."

    def add_arguments(self, parser):
        parser.add_argument("--tree", type=int, action="append", help="only this tree_id (repeatable)")

    def handle(self, *args, tree=None, **options):
        problems = tree_problems(tree)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found in the place trees.")
        self.stdout.write(self.style.SUCCESS("All place trees are sound."))
