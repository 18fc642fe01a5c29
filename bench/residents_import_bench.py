"""Benchmark the resident import: 100,000 rows on PostgreSQL, beside its lower bounds.

    .venv/bin/python bench/residents_import_bench.py [--rows 100000] [--grids 20]

Uses DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/portal_bench_import
(created if missing, migrated). Builds just enough places (one district, street
and community, N grids of 10 buildings × 4 units), generates a CSV with valid
synthetic ID numbers (real check digits), ~2.5 residents per household, phones
and tags, then times:

- preview: `importing.import_preview` (read the file, check every row against
  the database) beside reading the CSV and checking/indexing every ID number
  (GB 11643 + HMAC) alone;
- import: `importing.import_confirm` run in-process (the worker's code path:
  check again + write in one transaction) beside its lower bound: the same
  rows' precomputed values (households, residents, tag rows, history rows)
  inserted with COPY, plus the encryption and HMAC of every ID number and
  phone, computed alone;
- re-import of the same file (preview + import), which must change nothing.

Target (issue 4): 100,000 rows in under 60 s. Results: bench/results/residents_import.json.
"""

import argparse
import datetime
import io
import json
import os
import platform
import sys
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_import"
RESULTS = Path(__file__).resolve().parent / "results" / "residents_import.json"
TARGET_S = 60
DISTRICT_CODE = "510799"
AREAS = ("110105", "110101", "110102", "110108", "310101", "110106")  # codes python-stdnum knows
TAGS = ("独居老人", "空巢老人", "残疾人", "低保户", "党员", "退役军人")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--grids", type=int, default=20)
    return parser.parse_args()


def setup(url):
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from run import ensure_database

    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_VAR_DIR", str(ROOT / "var" / "bench-import"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def places(grid_count):
    """One district → street → community → N grids × 10 buildings × 4 units (reused when present)."""
    from grid import services
    from grid.models import Area, AreaKind, Role, Unit, User

    district = Area.objects.filter(code=DISTRICT_CODE).first()
    if district is None:
        district = services.area_add(kind=AreaKind.DISTRICT, name="基准区", code=DISTRICT_CODE)
        street = services.area_add(kind=AreaKind.STREET, name="基准街道", parent=district)
        community = services.area_add(kind=AreaKind.COMMUNITY, name="基准社区", parent=street)
        for g in range(grid_count):
            grid = services.area_add(kind=AreaKind.GRID, name=f"基准第{g + 1}网格", parent=community)
            for b in range(10):
                building = services.building_add(grid=grid, number=f"{b + 1}号楼")
                for u in range(4):
                    services.unit_add(building=building, number=f"{u + 1}单元")
    community = Area.objects.get(kind=AreaKind.COMMUNITY, parent__parent=district)
    user = User.objects.filter(username="bench-importer").first()
    if user is None:
        user = User.objects.create_user("bench-importer", password="bench-Portal-2026", full_name="导入员")
        services.post_grant(user=user, role=Role.COMMUNITY_STAFF, place=community)
        user.refresh_from_db()
    units = list(Unit.objects.filter(building__grid__parent=community)
                 .select_related("building__grid").order_by("building__grid__code", "building__number", "number"))
    return community, user, units


def reset():
    """Empty the resident tables (TRUNCATE: the append-only triggers refuse DELETE, not TRUNCATE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE residents_residentevent, residents_accesslog, residents_resident_tags, "
                       "residents_carevisit, residents_resident, residents_household, residents_importjob CASCADE")
    vacuum()


def vacuum():
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("residents_resident", "residents_household", "residents_resident_tags",
                      "residents_residentevent"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def id_number(n):
    from stdnum.cn import ric

    area = AREAS[n % len(AREAS)]
    birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=(n * 37) % 25_000)
    body = f"{area}{birth:%Y%m%d}{n // 25_000 % 1000:03d}"
    # The birth date fixes n modulo 25,000 (37 and 25,000 are coprime), the serial n // 25,000:
    # every number is different up to 25 million rows.
    return body + ric.calc_check_digit(body + "0")


def spreadsheet(rows, units):
    """CSV rows: households of 1–4 people (2.5 on average) filling the units' rooms."""
    header = ["网格编码", "楼栋", "单元", "户号", "姓名", "身份证号", "联系电话", "与户主关系", "标签", "迁入日期"]
    lines, n, household = [",".join(header)], 0, 0
    sizes = (2, 3, 1, 4, 2, 3)
    relations = ("户主", "配偶", "子女", "子女")
    surnames = "王李张刘陈杨赵黄周吴"
    while n < rows:
        unit = units[household % len(units)]
        room = f"{(household // len(units)) // 4 + 1}{(household // len(units)) % 4 + 1:02d}"
        for member in range(sizes[household % len(sizes)]):
            if n >= rows:
                break
            tag = TAGS[n % len(TAGS)] if n % 10 == 0 else ""
            lines.append(",".join((unit.building.grid.code, unit.building.number, unit.number, room,
                                   f"{surnames[n % 10]}{n}", id_number(n), f"139{n:08d}",
                                   relations[min(member, 3)], tag, "2015-06-01")))
            n += 1
        household += 1
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def timed(function):
    start = perf_counter()
    value = function()
    return perf_counter() - start, value


def preview_lower_bound(data):
    """Read the CSV and check + index every ID number: what any preview must do before asking the database."""
    import csv

    from residents.identity import blind_index
    from residents.importing import fast_parse_id_number

    today = datetime.date.today()

    def work():
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
        next(reader)
        for row in reader:
            blind_index("id", fast_parse_id_number(row[5], today=today).value)
    return timed(work)[0]


def crypto_lower_bound(data):
    """Encrypt the ID number and the phone of every row and compute both blind indexes, alone."""
    import csv

    from residents.identity import blind_index
    from residents.models import Resident

    field = Resident._meta.get_field("id_number")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    f = field.f

    def work():
        for row in rows:
            f.encrypt(row[5].encode())
            f.encrypt(row[6].encode())
            blind_index("id", row[5])
            blind_index("phone", row[6])
    return timed(work)[0]


def copy_lower_bound(data, units, user):
    """COPY the same rows' precomputed values (households, residents, tags, history) in one transaction, rolled back."""
    import csv

    from django.db import connection, transaction
    from django.utils import timezone

    from grid.services import path_values
    from residents.identity import blind_index, mask_id_number, mask_phone
    from residents.models import Resident, Tag

    f = Resident._meta.get_field("id_number").f
    unit_of = {(u.building.grid.code, u.building.number, u.number): u for u in units}
    paths = {}
    tag_ids = dict(Tag.objects.values_list("name", "pk"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    households, residents, tags = {}, [], []
    now = timezone.now()
    relation = {"户主": "head", "配偶": "spouse", "子女": "child"}
    for row in rows:
        unit = unit_of[(row[0], row[1], row[2])]
        grid = unit.building.grid
        if grid.pk not in paths:
            p = path_values(grid)
            paths[grid.pk] = (p["district_id"], p["street_id"], p["community_id"], p["grid_id"])
        key = (unit.pk, row[3])
        if key not in households:
            households[key] = len(households) + 1
        residents.append((households[key], unit.building_id, paths[grid.pk], row))
    # Values computed before the clock starts: this bound is the database's share.
    prepared = []
    for number, (household_id, building_id, path, row) in enumerate(residents, start=1):
        prepared.append((number, *path, household_id, building_id, row[4], "M", datetime.date(1980, 1, 1),
                         f.encrypt(row[5].encode()).decode(), blind_index("id", row[5]), mask_id_number(row[5]),
                         f.encrypt(row[6].encode()).decode(), blind_index("phone", row[6]), mask_phone(row[6]),
                         relation.get(row[7], "other"), "local", "", "living", datetime.date(2015, 6, 1), "",
                         now, now))
        if row[8]:
            tags.append((number, tag_ids[row[8]]))
    unit_by_pk = {u.pk: u for u in units}
    hh_rows = []
    for (unit_id, room), pk in households.items():
        unit = unit_by_pk[unit_id]
        hh_rows.append((pk, *paths[unit.building.grid.pk], unit.building_id, unit_id, room, now))

    def work():
        raw = connection.connection
        with transaction.atomic():
            with raw.cursor() as cursor:
                with cursor.copy("COPY residents_household (id, district_id, street_id, community_id, grid_id, "
                                 "building_id, unit_id, number, created_at) FROM STDIN") as copy:
                    for values in hh_rows:
                        copy.write_row(values)
                with cursor.copy("COPY residents_resident (id, district_id, street_id, community_id, grid_id, "
                                 "household_id, building_id, name, gender, birth_date, id_number, id_index, "
                                 "id_masked, phone, phone_index, phone_masked, relation, registration, "
                                 "registered_address, status, moved_in_on, note, created_at, updated_at) "
                                 "FROM STDIN") as copy:
                    for values in prepared:
                        copy.write_row(values)
                with cursor.copy("COPY residents_resident_tags (resident_id, tag_id) FROM STDIN") as copy:
                    for values in tags:
                        copy.write_row(values)
                with cursor.copy("COPY residents_residentevent (resident_id, action, actor_id, at, details) "
                                 "FROM STDIN") as copy:
                    for values in prepared:
                        copy.write_row((values[0], "import", user.pk, now, '{"job_id": 0, "created": true}'))
            transaction.set_rollback(True)
    seconds = timed(work)[0]
    vacuum()
    return seconds


def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    setup(url)
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from residents import importing
    from residents.models import Resident, ResidentEvent

    settings.RESIDENT_IMPORT_INLINE_ROWS = 10**9  # run in-process: the worker's code path, without the broker
    settings.RESIDENT_IMPORT_MAX_BYTES = 200 * 1024 * 1024
    seed_s, (community, user, units) = timed(lambda: places(args.grids))
    reset()
    data = spreadsheet(args.rows, units)
    print(f"{args.rows:,} rows, {len(data) / 1e6:.1f} MB CSV, {len(units)} units; places ready in {seed_s:.1f} s")

    lb_preview = preview_lower_bound(data)
    lb_crypto = crypto_lower_bound(data)
    lb_copy = copy_lower_bound(data, units, user)

    def preview():
        return importing.import_preview(upload=SimpleUploadedFile("bench.csv", data), acting_user=user,
                                        now=timezone.now())

    preview_s, job = timed(preview)
    assert job.valid_rows == args.rows, job.errors[:5]
    import_s, job = timed(lambda: importing.import_confirm(job=job, mode="all", acting_user=user,
                                                           now=timezone.now()))
    assert job.status == "done", job.message
    assert Resident.objects.count() == args.rows
    events = ResidentEvent.objects.count()
    vacuum()
    repreview_s, again = timed(preview)
    reimport_s, again = timed(lambda: importing.import_confirm(job=again, mode="all", acting_user=user,
                                                               now=timezone.now()))
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, args.rows), again.message
    assert ResidentEvent.objects.count() == events, "a re-import writes no history"

    total = preview_s + import_s
    lb_import = lb_copy + lb_crypto
    figures = {
        "preview": {"seconds": preview_s, "lower_bound": lb_preview,
                    "lower_bound_is": "csv.reader + GB 11643 check + HMAC of every ID number"},
        "import": {"seconds": import_s, "lower_bound": lb_import,
                   "lower_bound_is": "COPY of precomputed households, residents, tags and history rows "
                                     f"({lb_copy:.2f} s) + Fernet encryption and HMAC of ID number and phone "
                                     f"({lb_crypto:.2f} s)"},
        "preview_plus_import": {"seconds": total, "lower_bound": lb_preview + lb_import, "target": TARGET_S},
        "reimport_preview": {"seconds": repreview_s},
        "reimport": {"seconds": reimport_s, "created": again.created_count, "updated": again.updated_count,
                     "unchanged": again.unchanged_count},
    }
    print(f"{'':<22}{'portal':>10}{'lower bound':>14}{'ratio':>8}")
    for name in ("preview", "import", "preview_plus_import"):
        f = figures[name]
        ratio = f["seconds"] / f["lower_bound"]
        f["ratio"] = ratio
        print(f"{name:<22}{f['seconds']:>9.2f}s{f['lower_bound']:>13.2f}s{ratio:>8.1f}")
    print(f"{'reimport (preview)':<22}{repreview_s:>9.2f}s")
    print(f"{'reimport (import)':<22}{reimport_s:>9.2f}s   0 created, 0 updated, {args.rows:,} unchanged")
    print(f"target: import of {args.rows:,} rows under {TARGET_S} s → "
          f"{'met' if import_s < TARGET_S else 'NOT met'} ({import_s:.1f} s; with the preview {total:.1f} s)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "rows": args.rows, "csv_bytes": len(data), "units": len(units), "figures": figures,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"→ {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
