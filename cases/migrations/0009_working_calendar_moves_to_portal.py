"""The working calendar's models now belong to portal.workcalendar (its 0001 took
them over with their tables): drop them from this app's state, and nothing from
the database."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_escalation_notices_and_no_dedupe_index"),
        ("workcalendar", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CalendarDay"),
                migrations.DeleteModel(name="WorkingPeriod"),
            ],
            database_operations=[],
        ),
    ]
