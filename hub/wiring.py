"""Every reaction of one domain app to another, connected in one place.

cases, residents and volunteers never import each other. Each says what
happened (a signal, sent on commit) and declares what it needs (a hook); this
module, run once by HubConfig.ready(), connects them:

- a case was closed (cases.signals.case_closed) → points for the volunteers who
  reported or verified it (hub/tasks.py → hub/points.py → volunteers.ledger).
"""

from cases.models import Case
from cases.signals import case_closed

from . import tasks


def points_for_closed_case(sender, *, case_id, **kwargs):
    """On the commit of a close: ask for the volunteers' points. Never raises (hub/tasks.py)."""
    tasks.case_closed(case_id)


def connect():
    case_closed.connect(points_for_closed_case, sender=Case, weak=False, dispatch_uid="hub-points-for-closed-case")
