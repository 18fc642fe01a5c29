"""How long the data migration takes to encrypt and mask plain-text reporters (issue #20 item 5).

    DATABASE_URL=postgres://…/portal_bench python bench/privacy_migration_bench.py [rows]

On a migrated PostgreSQL database: inserts `rows` received reports (default
1,000,000) holding a plain name and phone, as the tables stood before cases
0013, runs `portal.personal.encrypt_plain_rows` over them (what the migration
runs, batches of 2,000 by primary-key range) and prints rows per second and the
peak memory; then a second run (nothing left to do) and removes the rows.
Foreign keys are not checked while inserting (session_replication_role), so no
city is needed.
"""

import os
import resource
import sys
import time

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.db import connection  # noqa: E402

from cases.models import Intake  # noqa: E402
from portal.personal import encrypt_plain_rows  # noqa: E402


def main(rows):
    assert connection.vendor == "postgresql", "run it on PostgreSQL"
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SELECT id FROM cases_category ORDER BY id LIMIT 1")
        category = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO cases_intake (tracking_code, received_at, channel, category_id, grid_id, description, "
            "reporter_name, reporter_name_masked, reporter_phone, reporter_phone_masked, photo, failure) "
            "SELECT 'B' || lpad(to_hex(g), 14, '0'), now(), 'web', %s, 1, '路灯坏了', '李四' || (g %% 100), '', "
            "'139' || lpad((g %% 100000000)::text, 8, '0'), '', '', '' FROM generate_series(1, %s) g",
            [category, rows])
        cursor.execute("SET session_replication_role = DEFAULT")
    try:
        started = time.perf_counter()
        changed = encrypt_plain_rows(Intake, name_field="reporter_name", phone_field="reporter_phone")
        took = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"encrypted {changed} rows in {took:.1f} s ({changed / took:,.0f} rows/s), peak RSS {peak:.0f} MB")
        started = time.perf_counter()
        again = encrypt_plain_rows(Intake, name_field="reporter_name", phone_field="reporter_phone")
        print(f"second run: {again} rows changed in {time.perf_counter() - started:.1f} s")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM cases_intake WHERE tracking_code LIKE 'B%%'")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
