"""Calendar days say who keeps them: the chinese-calendar package (via
`manage.py sync_holidays`) or staff. Existing rows start as staff's (the
database default); 0003 hands the untouched shipped ones to the package.
This one, unlike 0001, alters cases_calendarday: it adds the column."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workcalendar', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='calendarday',
            name='source',
            field=models.CharField(choices=[('package', 'chinese-calendar package'), ('staff', 'entered by staff')], db_default='staff', default='staff', max_length=10, verbose_name='source'),
        ),
        migrations.AddConstraint(
            model_name='calendarday',
            constraint=models.CheckConstraint(condition=models.Q(('source__in', ['package', 'staff'])), name='calendar_day_source_known'),
        ),
    ]
