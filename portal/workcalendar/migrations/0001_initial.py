"""The working calendar moves from the cases app to portal.workcalendar, in the
migration state only: its tables stay as cases 0001 created them (the models
name them with db_table), so this runs no SQL on them. cases 0009 removes the
models from the cases app's state.

The content types are renamed (cases → workcalendar) rather than recreated, so
the permission rows that hang on them, any group or user holding them, and the
admin's history of calendar edits follow the models.
"""

from django.db import migrations, models

MODELS = ("workingperiod", "calendarday")


def content_types_to(old, new):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        taken = set(ContentType.objects.using(db).filter(app_label=new, model__in=MODELS)
                    .values_list("model", flat=True))
        # A database migrated before contenttypes ran has none to move; post_migrate creates them.
        ContentType.objects.using(db).filter(app_label=old, model__in=set(MODELS) - taken).update(app_label=new)

    return move


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("cases", "0002_reference_data_and_immutable_timeline"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WorkingPeriod",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("starts", models.TimeField(verbose_name="starts")),
                        ("ends", models.TimeField(verbose_name="ends")),
                    ],
                    options={
                        "verbose_name": "working period",
                        "verbose_name_plural": "working periods",
                        "db_table": "cases_workingperiod",
                        "ordering": ["starts"],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("starts__lt", models.F("ends"))),
                                                   name="working_period_starts_before_end"),
                            models.UniqueConstraint(fields=("starts",), name="working_period_unique_start"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="CalendarDay",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("date", models.DateField(unique=True, verbose_name="date")),
                        ("kind", models.CharField(choices=[("holiday", "Public holiday (no work)"),
                                                           ("workday", "Working day in exchange (调休)")],
                                                  max_length=10, verbose_name="kind")),
                        ("name", models.CharField(blank=True, max_length=40, verbose_name="name")),
                    ],
                    options={
                        "verbose_name": "calendar day",
                        "verbose_name_plural": "calendar days",
                        "db_table": "cases_calendarday",
                        "ordering": ["date"],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("kind__in", ["holiday", "workday"])),
                                                   name="calendar_day_kind_known"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to("cases", "workcalendar"), content_types_to("workcalendar", "cases"),
                             elidable=False),
    ]
