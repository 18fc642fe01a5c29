"""key_person_visit: a key person (重点人员) not visited within the district's interval, for the warning sweep.

A key person is a living resident with a tag flagged `key_person` (residents.Tag;
社区矫正对象 by default). The rule's `threshold` is the interval in days: a key
person whose last care visit (走访, residents.CareVisit, kept on the resident as
`last_visited_at`) is that many days old or more, or who was never visited and
was registered that long ago, raises one warning. Its evidence names the
resident by id only (no name, no tag): staff open the resident's page, which
checks their scope, and the notices sent by e-mail name nobody. The key is the
last visit, so a visit and a new lapse after it are new evidence.

Reads residents, which the risks app may not import: provided through
risks.hooks.case_warning_candidates (hub/warning_rules.py).
"""

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area
from residents.models import Resident, ResidentStatus, Tag
from risks.early_warning import PATH_IDS, Candidate, _grouped
from risks.models import WarningRuleKind


def key_person_visit_candidates(*, rules, now):
    found = []
    today = timezone.localdate(now)
    tag_ids = list(Tag.objects.filter(key_person=True).values_list("pk", flat=True))
    if not tag_ids:
        return found
    # Driven from the tags (key persons are few among a city's residents): the through table's tag index,
    # then the residents by primary key, rather than every living resident of the districts.
    tagged = Resident.tags.through.objects.filter(tag_id__in=tag_ids).values("resident_id")
    for setting, districts in _grouped(rules).items():
        cutoff = now - datetime.timedelta(days=setting.threshold)
        rows = list(
            Resident.objects.filter(pk__in=tagged, district_id__in=districts, status=ResidentStatus.LIVING)
            .filter(Q(last_visited_at__lte=cutoff) | Q(last_visited_at__isnull=True, created_at__lte=cutoff))
            .values_list("pk", "last_visited_at", "created_at", "building_id", *PATH_IDS).order_by("pk"))
        names = dict(Area.objects.filter(pk__in={r[4 + PATH_IDS.index("grid_id")] for r in rows})
                     .values_list("pk", "name"))
        for pk, last_visit, created_at, building_id, *path in rows:
            path = dict(zip(PATH_IDS, path))
            last = timezone.localtime(last_visit).isoformat() if last_visit else None
            since = timezone.localdate(last_visit or created_at)
            days = (today - since).days
            found.append(Candidate(
                rule=WarningRuleKind.KEY_PERSON_VISIT, subject=f"resident:{pk}",
                newest=last or "never", path=path, building_id=building_id,
                title=(_("A key person in %(grid)s has had no visit for %(days)d days (last visit %(date)s)")
                       if last_visit else _("A key person in %(grid)s has had no visit in the %(days)d days since "
                                            "registration (%(date)s)"))
                % {"grid": names.get(path["grid_id"], path["grid_id"]), "days": days, "date": since.isoformat()},
                evidence={"resident": pk, "last_visit": last,
                          "days_without_visit": days, "interval_days": setting.threshold},
            ))
    return found
