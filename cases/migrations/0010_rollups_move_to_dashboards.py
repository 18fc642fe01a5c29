from django.db import migrations


class Migration(migrations.Migration):
    """The rollup models moved to the dashboards app with their tables (dashboards 0001).

    Only Django's record of the models changes: the database keeps the tables
    cases_caserollup and cases_rollupstate, their rows, indexes and constraints.
    """

    dependencies = [
        ("cases", "0009_working_calendar_moves_to_portal"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CaseRollup"),
                migrations.DeleteModel(name="RollupState"),
            ],
            database_operations=[],
        ),
    ]
