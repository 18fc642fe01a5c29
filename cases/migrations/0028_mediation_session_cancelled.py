# A session that will not be held: cancelled when its file is concluded; one scheduled per file and moment.

from django.conf import settings
from django.db import migrations, models


def cancel_what_will_not_be_held(apps, schema_editor):
    """Sessions still scheduled on a concluded file, and the second of two scheduled for one file at one
    moment (a double entry), become cancelled, so the new unique constraint holds."""
    Session = apps.get_model("cases", "MediationSession")
    Session.objects.filter(state="scheduled").exclude(mediation__outcome="pending").update(state="cancelled")
    seen = set()
    doubles = []
    for pk, mediation_id, held_at in (Session.objects.filter(state="scheduled").order_by("mediation_id", "held_at", "id")
                                      .values_list("pk", "mediation_id", "held_at")):
        if (mediation_id, held_at) in seen:
            doubles.append(pk)
        seen.add((mediation_id, held_at))
    Session.objects.filter(pk__in=doubles).update(state="cancelled")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0027_mediation_party_removal'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='mediationsession',
            name='mediationsession_state_known',
        ),
        migrations.AlterField(
            model_name='mediationsession',
            name='state',
            field=models.CharField(choices=[('scheduled', 'Scheduled'), ('held', 'Held'), ('cancelled', 'Cancelled')], default='held', max_length=10, verbose_name='state'),
        ),
        migrations.AddConstraint(
            model_name='mediationsession',
            constraint=models.CheckConstraint(condition=models.Q(('state__in', ['scheduled', 'held', 'cancelled'])), name='mediationsession_state_known'),
        ),
        migrations.RunPython(cancel_what_will_not_be_held, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name='mediationsession',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'scheduled')), fields=('mediation', 'held_at'), name='mediationsession_one_scheduled_per_moment'),
        ),
    ]
