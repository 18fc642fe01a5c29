"""Rollup columns for the standard definitions (issue #18). The old rows counted by the old
definitions: they are emptied and the state says "not built", so the page tells staff to run
`manage.py rebuild_rollups` (the nightly rebuild does it too) rather than show wrong rates."""

from django.conf import settings
from django.db import migrations, models


def forget_old_rows(apps, schema_editor):
    apps.get_model("dashboards", "CaseRollup").objects.all().delete()
    apps.get_model("dashboards", "RollupState").objects.update(refreshed_at=None, rebuilt_at=None)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0018_backfill_deadline_and_rating_history'),
        ('dashboards', '0002_rollup_backlog'),
        ('grid', '0004_place_history_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(forget_old_rows, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name='caserollup',
            name='case_rollup_ratings_1_to_5',
        ),
        migrations.AddField(
            model_name='caserollup',
            name='deferred',
            field=models.PositiveIntegerField(default=0, verbose_name='deferred'),
        ),
        migrations.AddField(
            model_name='caserollup',
            name='first_time',
            field=models.PositiveIntegerField(default=0, verbose_name='closed without rework'),
        ),
        migrations.AddField(
            model_name='caserollup',
            name='handled',
            field=models.PositiveIntegerField(default=0, verbose_name='resolved at least once'),
        ),
        migrations.AddField(
            model_name='caserollup',
            name='working_minutes',
            field=models.BigIntegerField(default=0, verbose_name='handling time (working minutes)'),
        ),
        migrations.AddField(
            model_name='caserollup',
            name='late',
            field=models.PositiveIntegerField(default=0, verbose_name='resolved late'),
        ),
        migrations.AddField(
            model_name='caserollup',
            name='registered',
            field=models.PositiveIntegerField(default=0, verbose_name='registered'),
        ),
        migrations.AddField(
            model_name='caserollup',
            name='satisfied',
            field=models.PositiveIntegerField(default=0, verbose_name='satisfied ratings'),
        ),
        migrations.AlterField(
            model_name='caserollup',
            name='rated',
            field=models.PositiveIntegerField(default=0, verbose_name='ratings'),
        ),
        migrations.AddConstraint(
            model_name='caserollup',
            constraint=models.CheckConstraint(condition=models.Q(('satisfied__lte', models.F('rated'))), name='case_rollup_satisfied_le_rated'),
        ),
        migrations.AddConstraint(
            model_name='caserollup',
            constraint=models.CheckConstraint(condition=models.Q(('registered__lte', models.F('valid'))), name='case_rollup_registered_le_valid'),
        ),
        migrations.RemoveField(
            model_name='caserollup',
            name='rating_sum',
        ),
    ]
