"""Indexes for finding a building without knowing the tree (issue #21, grid/search.py).

- building_lat_lon (every database): the box around a resident's position.
- building_search_trgm (PostgreSQL only): a trigram GIN index over the building's
  name, address and number, so `icontains` ('%term%') stays fast at a city's scale. It
  needs the pg_trgm extension (shipped with PostgreSQL's contrib package).
  SQLite has neither; there the search scans, which is fine at development sizes.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

# On the expressions Django's `icontains` compares on PostgreSQL (UPPER(col::text) LIKE UPPER(%s)),
# so the portable lookup is the one the index answers.
CREATE_TRGM = """
CREATE INDEX IF NOT EXISTS building_search_trgm ON grid_building USING gin (
    (UPPER(name::text)) gin_trgm_ops, (UPPER(address::text)) gin_trgm_ops, (UPPER(number::text)) gin_trgm_ops
)
"""
DROP_TRGM = "DROP INDEX IF EXISTS building_search_trgm"


def add_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_TRGM)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRGM)


class Migration(migrations.Migration):

    dependencies = [
        ("grid", "0009_buildings_into_compounds"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="building",
            index=models.Index(fields=["latitude", "longitude"], name="building_lat_lon"),
        ),
        # Does nothing on other databases (Django checks the vendor).
        TrigramExtension(),
        migrations.RunPython(add_trigram_index, drop_trigram_index, elidable=False),
    ]
