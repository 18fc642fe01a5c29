"""The timeline's new actions: 吹哨报到 (whistle, report-in, no-show, rating) and 12345
docking (reply, hand-back, follow-up call).

On SQLite, changing the action constraint rebuilds cases_caseevent and drops its
triggers (see 0011): the immutability triggers are made again here, and the
dashboards' rollup-backlog trigger by dashboards 0003, which runs after this.
"""

import importlib

from django.db import migrations, models

_immutable = importlib.import_module("cases.migrations.0011_timeline_refuses_delete")


def sqlite_triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _immutable.add_triggers(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0019_whistles_and_summonses"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='caseevent',
            name='case_event_action_known',
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='action',
            field=models.CharField(choices=[('report', 'Reported'), ('register', 'Registered'), ('reject', 'Rejected'), ('dispatch', 'Dispatched'), ('redispatch', 'Re-dispatched'), ('accept', 'Accepted'), ('return', 'Returned to dispatcher'), ('note', 'Progress'), ('request_extension', 'Extension requested'), ('decide_extension', 'Extension decided'), ('resolve', 'Resolved'), ('verify', 'Verified on site'), ('verify_fail', 'Verification failed (rework)'), ('close', 'Closed'), ('reopen', 'Reopened'), ('mark_duplicate', 'Marked as duplicate'), ('supervise', 'Supervised (督办)'), ('carry_over', 'Carried over (挂账)'), ('lift_carry_over', 'Carry-over lifted'), ('escalate', 'Escalated'), ('rate', 'Rated'), ('alarm_repeat', 'Repeated alarm'), ('mediation', 'Mediation'), ('whistle', 'Whistle blown (吹哨)'), ('report_in', 'Reported in (报到)'), ('no_show', 'Did not report in'), ('rate_summons', 'Response rated (评价)'), ('hotline_reply', 'Reply sent to the hotline (回单)'), ('hotline_return', 'Handed back to the hotline (退单)'), ('hotline_visit', 'Hotline follow-up call (回访)')], max_length=20, verbose_name='action'),
        ),
        migrations.AddConstraint(
            model_name='caseevent',
            constraint=models.CheckConstraint(condition=models.Q(('action__in', ['report', 'register', 'reject', 'dispatch', 'redispatch', 'accept', 'return', 'note', 'request_extension', 'decide_extension', 'resolve', 'verify', 'verify_fail', 'close', 'reopen', 'mark_duplicate', 'supervise', 'carry_over', 'lift_carry_over', 'escalate', 'rate', 'alarm_repeat', 'mediation', 'whistle', 'report_in', 'no_show', 'rate_summons', 'hotline_reply', 'hotline_return', 'hotline_visit'])), name='case_event_action_known'),
        ),
        migrations.RunPython(sqlite_triggers_again, migrations.RunPython.noop),
    ]
