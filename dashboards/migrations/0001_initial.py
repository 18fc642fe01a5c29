import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


def _content_types(apps, schema_editor, *, old, new):
    """Move the models' content types (and so their permissions) with them; none exist on a fresh database."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("caserollup", "rollupstate"):
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_to_dashboards(apps, schema_editor):
    _content_types(apps, schema_editor, old="cases", new="dashboards")


def content_types_to_cases(apps, schema_editor):
    _content_types(apps, schema_editor, old="dashboards", new="cases")


class Migration(migrations.Migration):
    """The rollup models, moved here from the cases app (cases 0009) with their tables.

    The tables exist since cases 0005 and keep their names (`db_table`): this
    migration only records the models in Django's state, and touches nothing in
    the database but the content types' app label.
    """

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('cases', '0010_rollups_move_to_dashboards'),
        ('grid', '0003_area_boundary_validated'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='RollupState',
                    fields=[
                        ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                        ('last_event_id', models.BigIntegerField(default=0, verbose_name='last timeline event read')),
                        ('refreshed_at', models.DateTimeField(blank=True, null=True, verbose_name='refreshed at')),
                        ('rebuilt_at', models.DateTimeField(blank=True, null=True, verbose_name='rebuilt at')),
                    ],
                    options={
                        'verbose_name': 'rollup state',
                        'verbose_name_plural': 'rollup state',
                        'db_table': 'cases_rollupstate',
                        'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='rollup_state_single_row')],
                    },
                ),
                migrations.CreateModel(
                    name='CaseRollup',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('grain', models.CharField(choices=[('community', 'community and day'), ('street', 'street and day'), ('facet', 'district, day, category and channel'), ('handler', 'district, day and handler')], max_length=10, verbose_name='grain')),
                        ('day', models.DateField(verbose_name='day')),
                        ('triage', models.CharField(blank=True, max_length=10, verbose_name='triage class')),
                        ('channel', models.CharField(blank=True, max_length=12, verbose_name='channel')),
                        ('reported', models.PositiveIntegerField(default=0, verbose_name='reported')),
                        ('valid', models.PositiveIntegerField(default=0, verbose_name='valid')),
                        ('open', models.PositiveIntegerField(default=0, verbose_name='open')),
                        ('closed', models.PositiveIntegerField(default=0, verbose_name='closed')),
                        ('on_time', models.PositiveIntegerField(default=0, verbose_name='closed on time')),
                        ('reworked', models.PositiveIntegerField(default=0, verbose_name='reworked')),
                        ('extended', models.PositiveIntegerField(default=0, verbose_name='extended')),
                        ('supervised', models.PositiveIntegerField(default=0, verbose_name='supervised')),
                        ('escalated', models.PositiveIntegerField(default=0, verbose_name='escalated')),
                        ('rated', models.PositiveIntegerField(default=0, verbose_name='rated')),
                        ('rating_sum', models.PositiveIntegerField(default=0, verbose_name='sum of ratings')),
                        ('solved_grid', models.PositiveIntegerField(default=0, verbose_name='solved in the grid')),
                        ('solved_community', models.PositiveIntegerField(default=0, verbose_name='solved in the community')),
                        ('solved_above', models.PositiveIntegerField(default=0, verbose_name='solved above the community')),
                        ('within_2h', models.PositiveIntegerField(default=0)),
                        ('within_8h', models.PositiveIntegerField(default=0)),
                        ('within_24h', models.PositiveIntegerField(default=0)),
                        ('within_48h', models.PositiveIntegerField(default=0)),
                        ('within_72h', models.PositiveIntegerField(default=0)),
                        ('within_120h', models.PositiveIntegerField(default=0)),
                        ('within_168h', models.PositiveIntegerField(default=0)),
                        ('within_360h', models.PositiveIntegerField(default=0)),
                        ('category', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.category', verbose_name='category')),
                        ('community', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='grid.area', verbose_name='community')),
                        ('district', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='grid.area', verbose_name='district')),
                        ('handler', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='handler')),
                        ('place', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='grid.area', verbose_name='place')),
                        ('street', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='grid.area', verbose_name='street')),
                    ],
                    options={
                        'verbose_name': 'case rollup',
                        'verbose_name_plural': 'case rollups',
                        'db_table': 'cases_caserollup',
                        'indexes': [models.Index(fields=['grain', 'district', 'day'], name='case_rollup_district_day'), models.Index(fields=['grain', 'street', 'day'], name='case_rollup_street_day'), models.Index(fields=['grain', 'community', 'day'], name='case_rollup_community_day'), models.Index(fields=['grain', 'day'], name='case_rollup_day')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('grain__in', ['community', 'street', 'facet', 'handler'])), name='case_rollup_grain_known'), models.UniqueConstraint(condition=models.Q(('grain__in', ['community', 'street'])), fields=('grain', 'place', 'day'), name='case_rollup_one_per_place_day'), models.UniqueConstraint(condition=models.Q(('grain', 'facet')), fields=('place', 'day', 'category', 'triage', 'channel'), name='case_rollup_one_per_facet_day'), models.UniqueConstraint(condition=models.Q(('grain', 'handler')), fields=('place', 'day', 'handler'), name='case_rollup_one_per_handler_day'), models.CheckConstraint(condition=models.Q(models.Q(('category__isnull', False), ('grain', 'facet')), models.Q(models.Q(('grain', 'facet'), _negated=True), ('category__isnull', True), ('channel', '')), _connector='OR'), name='case_rollup_facet_has_category'), models.CheckConstraint(condition=models.Q(('grain', 'handler'), ('handler__isnull', True), _connector='OR'), name='case_rollup_handler_only_at_handler_grain'), models.CheckConstraint(condition=models.Q(('valid__lte', models.F('reported'))), name='case_rollup_valid_le_reported'), models.CheckConstraint(condition=models.Q(('on_time__lte', models.F('closed'))), name='case_rollup_on_time_le_closed'), models.CheckConstraint(condition=models.Q(('rating_sum__gte', models.F('rated')), ('rating_sum__lte', django.db.models.expressions.CombinedExpression(models.F('rated'), '*', models.Value(5)))), name='case_rollup_ratings_1_to_5')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_dashboards, content_types_to_cases),
    ]
