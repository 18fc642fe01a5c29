"""The holidays come from the chinese-calendar package instead of hand-typed rows.

Until now cases 0002 loaded 2025–2026 from a hand-typed list, so from 2027 a
deadline counted 元旦 as a working day. Here:

1. Rows still exactly as that list shipped them (date, kind and name) are handed
   to the package; anything else in the table stays staff's.
2. The default working periods go into an empty table (cases 0002 no longer
   loads them: a new database gets its whole calendar here).
3. Every year the installed package covers is filled the way
   `manage.py sync_holidays` does it (frozen here: package rows follow the
   package, staff rows are left alone).
"""

from datetime import date, time, timedelta

from django.db import migrations


def _span(first, last, name):
    return [(first + timedelta(days=i), "holiday", name) for i in range((last - first).days + 1)]


# The list cases/data/holidays.py shipped (2025–2026), to recognise its untouched rows.
SHIPPED = [
    *_span(date(2025, 1, 1), date(2025, 1, 1), "元旦"),
    *_span(date(2025, 1, 28), date(2025, 2, 4), "春节"),
    (date(2025, 1, 26), "workday", "春节调休"), (date(2025, 2, 8), "workday", "春节调休"),
    *_span(date(2025, 4, 4), date(2025, 4, 6), "清明节"),
    *_span(date(2025, 5, 1), date(2025, 5, 5), "劳动节"),
    (date(2025, 4, 27), "workday", "劳动节调休"),
    *_span(date(2025, 5, 31), date(2025, 6, 2), "端午节"),
    *_span(date(2025, 10, 1), date(2025, 10, 8), "国庆节、中秋节"),
    (date(2025, 9, 28), "workday", "国庆节调休"), (date(2025, 10, 11), "workday", "国庆节调休"),
    *_span(date(2026, 1, 1), date(2026, 1, 3), "元旦"),
    (date(2026, 1, 4), "workday", "元旦调休"),
    *_span(date(2026, 2, 15), date(2026, 2, 23), "春节"),
    (date(2026, 2, 14), "workday", "春节调休"), (date(2026, 2, 28), "workday", "春节调休"),
    *_span(date(2026, 4, 4), date(2026, 4, 6), "清明节"),
    *_span(date(2026, 5, 1), date(2026, 5, 5), "劳动节"),
    (date(2026, 5, 9), "workday", "劳动节调休"),
    *_span(date(2026, 6, 19), date(2026, 6, 21), "端午节"),
    *_span(date(2026, 9, 25), date(2026, 9, 27), "中秋节"),
    *_span(date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
    (date(2026, 9, 20), "workday", "国庆节调休"), (date(2026, 10, 10), "workday", "国庆节调休"),
]
PERIODS = [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]
FULL_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


def _package_days():
    import chinese_calendar

    def name(english):
        try:
            chinese = chinese_calendar.Holiday(english).chinese
        except ValueError:
            chinese = english
        return FULL_NAMES.get(chinese, chinese)

    days = {day: ("holiday", name(english)[:40]) for day, english in chinese_calendar.holidays.items()}
    days.update({day: ("workday", f"{name(english)}调休"[:40]) for day, english in chinese_calendar.workdays.items()})
    return days


def forward(apps, schema_editor):
    CalendarDay = apps.get_model("workcalendar", "CalendarDay")
    WorkingPeriod = apps.get_model("workcalendar", "WorkingPeriod")
    db = schema_editor.connection.alias
    days = CalendarDay.objects.using(db)

    shipped = {(day, kind, name) for day, kind, name in SHIPPED}
    untouched = [pk for pk, day, kind, name in days.values_list("pk", "date", "kind", "name")
                 if (day, kind, name) in shipped]
    days.filter(pk__in=untouched).update(source="package")

    if not WorkingPeriod.objects.using(db).exists():
        WorkingPeriod.objects.using(db).bulk_create([WorkingPeriod(starts=a, ends=b) for a, b in PERIODS])

    wanted = _package_days()
    years = {day.year for day in wanted}
    rows = {row.date: row for row in days.filter(date__range=(date(min(years), 1, 1), date(max(years), 12, 31)))}
    days.bulk_create([CalendarDay(date=day, kind=kind, name=name, source="package")
                      for day, (kind, name) in wanted.items() if day not in rows])
    for day, row in rows.items():
        if row.source != "package":
            continue
        if day not in wanted:
            row.delete()
        elif (row.kind, row.name) != wanted[day]:
            row.kind, row.name = wanted[day]
            row.save(update_fields=["kind", "name"])


class Migration(migrations.Migration):

    dependencies = [("workcalendar", "0002_calendar_day_source")]

    # Backwards the rows stay: deadlines need them, and 0002 takes the source column away.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
