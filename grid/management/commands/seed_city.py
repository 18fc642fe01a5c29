"""manage.py seed_city: a synthetic city for the demo, the tests and the benchmark.

    manage.py seed_city --scale demo|medium|large [--seed N] [--if-empty] [--accounts | --no-accounts]
                        [--places-only]

Scales (grid/seeding.py SCALES): large is 10 districts, 100 streets, 2,600
communities, 10,000 grids, 250,000 buildings and 1,000,000 units; medium is a
tenth of each; demo is one district with a few hundred buildings.

Phases, each timed on stdout:

1. plan: the whole place tree in memory, with ids, hierarchical codes, Chinese
   names, nested-set fields (one tree per district, numbered depth-first) and a
   Voronoi outline per grid (grid/voronoi.py) laid out around the city centre;
2. places, buildings, units: bulk inserts (COPY on PostgreSQL), never node by
   node and never a tree rebuild;
3. check: the foreign keys (one query per key on PostgreSQL as a superuser,
   see grid.seeding.trusted_bulk_load), grid.integrity.tree_problems() over
   every tree (a sample of three trees when the city has more than 50,000
   places) and the counts per kind; any problem aborts the seeding;
   then the organisations (grid/seeding_orgs.py: district bureaus and utilities,
   the street's 执法中队/派出所/司法所/市场监管所, a 物业 for most compounds);
4. accounts (default on at demo scale): one login per role, posts granted with
   grid.services.post_grant, all in one community; password
   grid.demo.DEMO_PASSWORD;
5. app seeders: the extension hook for later issues, below.

Extension hook. After the places and accounts, the command looks at the
installed apps residents, cases, volunteers, participation, party and risks, in that order, and for each one
that has a module `<app>/seed.py` calls

    seed(*, scale, rng, stdout, now)

- scale: a grid.seeding.Scale (`scale.name` is "demo", "medium" or "large";
  its counts say how big the city is),
- rng: a random.Random seeded from --seed and the app's label, so one app's
  draws never shift another's,
- stdout: the command's output, for progress lines,
- now: the aware datetime the whole seeding uses as "now".

Apps without seed.py are skipped; a seed.py without `seed` is skipped with a
warning on stderr. Seeders read the places from the database and must insert
in bulk (grid.seeding.write_rows: COPY on PostgreSQL) to keep `large` under ten
minutes; wrapping the load in grid.seeding.trusted_bulk_load(models) replaces
PostgreSQL's per-row foreign-key checks by one check per key at the end.

Everything runs in one transaction: if any phase fails, nothing is left behind.
"""

import argparse
import random
import unicodedata
from contextlib import contextmanager
from importlib import import_module
from time import perf_counter

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grid import seeding, seeding_compounds, seeding_orgs
from grid.demo import DEMO_PASSWORD
from grid.integrity import tree_problems
from grid.models import Area, AreaKind, Building, Compound, Jurisdiction, Organisation, Role, Unit

# Apps that may extend the seeding, in the order their seeders run.
SEEDER_APPS = ("residents", "cases", "volunteers", "participation", "party", "risks")
# Above this many places, check a sample of trees instead of every one.
FULL_CHECK_LIMIT = 50_000
SAMPLE_TREES = 3


PHASE_LABELS = {
    "plan": gettext_lazy("plan"),
    "places": gettext_lazy("places"),
    "buildings": gettext_lazy("buildings"),
    "units": gettext_lazy("units"),
    "analyze": gettext_lazy("analyze"),
    "check": gettext_lazy("check"),
    "accounts": gettext_lazy("accounts"),
    "organisations": gettext_lazy("organisations"),
    "compounds": gettext_lazy("compounds"),
}


class Command(BaseCommand):
    help = "Seed a synthetic city (places, buildings, units, demo accounts) into an empty database."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timings = {}  # phase → seconds, in the order run; app seeders under their label

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(seeding.SCALES), default="demo",
                            help="demo (seconds), medium (a tenth of large) or large (a whole city)")
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same city")
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing if any place exists (the demo script runs this every start)")
        parser.add_argument("--accounts", action=argparse.BooleanOptionalAction, default=None,
                            help="create one demo login per role (default: only at demo scale)")
        parser.add_argument("--places-only", action="store_true",
                            help="skip the app seeders (residents, cases, volunteers, participation)")

    def handle(self, *args, scale, seed, if_empty, accounts, places_only, **options):
        scale = seeding.SCALES[scale]
        self.timings = {}
        existing = Area.objects.count()
        if existing:
            if if_empty:
                self.stdout.write(_("The city is already seeded (%(n)d places); nothing to do.") % {"n": existing})
                return
            raise CommandError(_(
                "The database already has %(n)d places. seed_city fills an empty database: "
                "use --if-empty to skip, or seed a fresh database."
            ) % {"n": existing})
        if accounts is None:
            accounts = scale.name == "demo"
        now = timezone.now()
        started = perf_counter()
        self.stdout.write(_("Seeding a %(scale)s city (seed %(seed)d)…") % {"scale": scale.name, "seed": seed})
        with transaction.atomic():
            plan = self._seed_places(scale=scale, seed=seed, now=now)
            logins = []
            if accounts:
                with self._phase("accounts") as done:
                    logins = seeding.create_demo_accounts(plan=plan, seed=seed, now=now)
                    done(len(logins))
            if not places_only:
                self._run_app_seeders(scale=scale, seed=seed, now=now)
        self.timings["total"] = perf_counter() - started  # commit included
        self.stdout.write(self.style.SUCCESS(
            _("Seeded the %(scale)s city in %(s).1f s.") % {"scale": scale.name, "s": self.timings["total"]}
        ))
        if logins:
            self._print_logins(logins)

    def _seed_places(self, *, scale, seed, now):
        with self._phase("plan") as done:
            plan = seeding.plan_places(scale=scale, seed=seed, first_id=seeding.first_free_id(Area))
            buildings = seeding.plan_buildings(plan=plan, seed=seed, first_id=seeding.first_free_id(Building))
            per_building = seeding.plan_units(buildings=buildings, units=scale.units, seed=seed)
            done(len(plan.areas))
        # Foreign keys are checked once per key in the check phase rather than
        # row by row (seeding.trusted_bulk_load explains why and when).
        skipped_triggers = seeding.skip_row_triggers()
        with self._phase("places") as done:
            done(seeding.write_rows(model=Area, fields=seeding.AREA_FIELDS, rows=seeding.area_rows(plan, now=now)))
        with self._phase("buildings") as done:
            rows = seeding.building_rows(plan=plan, buildings=buildings, seed=seed, now=now)
            done(seeding.write_rows(model=Building, fields=seeding.BUILDING_FIELDS, rows=rows))
        with self._phase("units") as done:
            rows = seeding.unit_rows(buildings=buildings, per_building=per_building,
                                     first_id=seeding.first_free_id(Unit), now=now)
            done(seeding.write_rows(model=Unit, fields=seeding.UNIT_FIELDS, rows=rows))
        with self._phase("analyze") as done:
            seeding.finish_bulk_load([Area, Building, Unit])
            done(None)
        with self._phase("check") as done:
            done(self._check(plan=plan, scale=scale, seed=seed, skipped_triggers=skipped_triggers))
        with self._phase("organisations") as done:
            written = (Organisation, Jurisdiction)
            with seeding.trusted_bulk_load(written):
                count = seeding_orgs.seed_organisations(
                    plan=plan, seed=seed, now=now, first_id=seeding.first_free_id(Organisation),
                    first_jurisdiction_id=seeding.first_free_id(Jurisdiction),
                )
            seeding.finish_bulk_load(written)
            done(count)
        with self._phase("compounds") as done:
            done(seeding_compounds.seed_compounds(grids=plan.of_kind(AreaKind.GRID), seed=seed, now=now,
                                                  first_id=seeding.first_free_id(Compound)))
            seeding.finish_bulk_load([Compound, Building])
        return plan

    def _check(self, *, plan, scale, seed, skipped_triggers):
        """Fail loudly (and roll everything back) if the city is not what was asked for."""
        written = (Area, Building, Unit)
        problems = []
        if skipped_triggers:
            seeding.restore_row_triggers()
            problems += seeding.foreign_key_problems(written)
        else:
            # Otherwise foreign keys are checked at the commit; check them here,
            # so a broken reference aborts with the other problems.
            connection.check_constraints(table_names=[m._meta.db_table for m in written])
        tree_ids = sorted({a.tree_id for a in plan.areas})
        if len(plan.areas) > FULL_CHECK_LIMIT:
            tree_ids = sorted(random.Random(seed).sample(tree_ids, min(SAMPLE_TREES, len(tree_ids))))
        problems += tree_problems(tree_ids)
        counts = dict(Area.objects.values_list("kind").annotate(n=Count("id")).order_by())
        for kind in AreaKind:
            if counts.get(kind.value, 0) != scale.count_of(kind):
                problems.append(f"{counts.get(kind.value, 0)} {kind.value} places, expected {scale.count_of(kind)}")
        for model, expected in ((Building, scale.buildings), (Unit, scale.units)):
            found = model.objects.count()
            if found != expected:
                problems.append(f"{found} {model._meta.model_name} rows, expected {expected}")
        if problems:
            shown = "\n".join(problems[:20])
            raise CommandError(
                _("The seeded city is broken (%(n)d problems); nothing was saved:\n%(problems)s")
                % {"n": len(problems), "problems": shown}
            )
        checked = set(tree_ids)
        return sum(1 for a in plan.areas if a.tree_id in checked)  # places checked

    def _run_app_seeders(self, *, scale, seed, now):
        installed = {config.label: config for config in apps.get_app_configs()}
        for label in SEEDER_APPS:
            if label not in installed:
                continue
            module_name = f"{installed[label].name}.seed"
            try:
                module = import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise  # seed.py exists but imports something missing: a real error
                continue
            seeder = getattr(module, "seed", None)
            if not callable(seeder):
                # A seed.py may hold only reference data for now; say so rather than fail the demo.
                self.stderr.write(_("%(module)s has no seed() function; skipped.") % {"module": module_name})
                continue
            with self._phase(label, label) as done:
                seeder(scale=scale, rng=random.Random(f"{seed}:{label}"), stdout=self.stdout, now=now)
                done(None)

    @contextmanager
    def _phase(self, key, label=None):
        """Time a phase, print it, and keep it in self.timings (bench/run.py reads them)."""
        label = label or PHASE_LABELS[key]
        started = perf_counter()
        result = {}
        yield lambda n: result.update(n=n)
        elapsed = perf_counter() - started
        self.timings[key] = elapsed
        n = result.get("n")
        count = f"{n:>12,}" if n is not None else " " * 12
        self.stdout.write(f"  {pad(str(label), 14)}{count}  {elapsed:7.2f} s")
        self.stdout.flush()

    def _print_logins(self, logins):
        header = (_("username"), _("role"), _("place"), _("password"))
        rows = [header]
        for user, role, place in logins:
            role_label = Role(role).label if role else _("administrator")
            rows.append((user.username, str(role_label), str(place) if place else _("everything"), DEMO_PASSWORD))
        widths = [max(display_width(str(row[i])) for row in rows) for i in range(len(header))]
        self.stdout.write("")
        self.stdout.write(_("Demo logins:"))
        for index, row in enumerate(rows):
            self.stdout.write("  " + " | ".join(pad(str(cell), width) for cell, width in zip(row, widths)))
            if index == 0:
                self.stdout.write("  " + "-+-".join("-" * w for w in widths))


def display_width(text):
    # CJK characters take two terminal columns; pad by what the eye sees.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text, width):
    return text + " " * max(0, width - display_width(text))
