"""Make resident history and the personal-data access log append-only in the
database (triggers refuse UPDATE and DELETE), and ship the built-in care tags.

Note for later migrations: on SQLite, altering either table rebuilds it and
drops its triggers; such a migration must call add_triggers again.
"""

from django.db import migrations

from portal import append_only

TABLES = ("residents_residentevent", "residents_accesslog")


def add_triggers(apps, schema_editor):
    append_only.add(schema_editor, TABLES)


def drop_triggers(apps, schema_editor):
    append_only.drop(schema_editor, TABLES)


# (code, name, visit interval in days, sensitive)
BUILTIN_TAGS = [
    ("elderly_alone", "独居老人", 7, False),
    ("empty_nest", "空巢老人", 14, False),
    ("disabled", "残疾人", 30, False),
    ("low_income", "低保户", 30, False),
    ("left_behind_child", "留守儿童", 14, False),
    ("serious_illness", "大病重病", 14, False),
    ("party_member", "党员", None, False),
    ("veteran", "退役军人", 90, False),
    ("community_correction", "社区矫正对象", 7, True),
]


def add_tags(apps, schema_editor):
    Tag = apps.get_model("residents", "Tag")
    for order, (code, name, interval, sensitive) in enumerate(BUILTIN_TAGS, start=1):
        Tag.objects.update_or_create(code=code, defaults={
            "name": name, "visit_interval_days": interval, "sensitive": sensitive, "builtin": True,
            "ordering": order * 10,
        })


def remove_tags(apps, schema_editor):
    apps.get_model("residents", "Tag").objects.filter(code__in=[t[0] for t in BUILTIN_TAGS]).delete()


class Migration(migrations.Migration):
    dependencies = [("residents", "0001_initial")]

    operations = [
        migrations.RunPython(add_triggers, drop_triggers),
        migrations.RunPython(add_tags, remove_tags),
    ]
