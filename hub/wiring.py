"""Every reaction of one domain app to another, connected in one place.

cases, residents, volunteers and risks never import each other. Each says what
happened (a signal, sent on commit) and declares what it needs (a hook); this
module, run once by HubConfig.ready(), connects them:

- a case was closed (cases.signals.case_closed) → points for the volunteers who
  reported or verified it (hub/tasks.py → hub/points.py → volunteers.ledger);
- a care visit's follow-up becomes a case (residents.hooks) → the cases app's
  categories, `case_report` on the patrol channel, and its scoping;
- the cases a proposal may be made from (participation.hooks) → the cases
  app's scoping, without mediations;
- the residents a volunteer may be (volunteers.hooks) → residents' scoping;
- a confirmed support or meeting attendance (participation.hooks) → points on
  the household's card (volunteers.household_points), in the same transaction;
  the households a card is read through (volunteers.hooks) → residents' scoping;
- a reported-in party member's confirmed service (party.hooks) → a service record
  and its points (volunteers.services.record_external_service), same transaction;
- a risk or a patrol finding opens a case (risks.hooks) → the cases app's
  categories, `case_report` on the patrol channel, and its scoping;
- the early-warning sweep (risks.early_warning) → the case rule and the outbox
  for its notices (hub/warning_rules.py).
"""

from cases import selectors as case_selectors
from cases import services_report as case_reports
from cases.forms import category_choices
from cases.models import OPEN_STATUSES, Case, Channel, ReporterKind
from cases.signals import case_closed
from residents import hooks as resident_hooks
from residents import selectors as resident_selectors
from residents.participation import hooks as participation_hooks
from residents.party import hooks as party_hooks
from risks import hooks as risk_hooks
from volunteers import household_points
from volunteers import services as volunteer_services
from volunteers import hooks as volunteer_hooks

from . import warning_rules


def points_for_closed_case(sender, *, case_id, **kwargs):
    """On the commit of a close: ask for the volunteers' points. Never raises (hub/tasks.py)."""
    # Imported here: a tasks module brings Celery with it, which a web process loads only
    # when it first sends a task (portal/celery.py).
    from . import tasks

    tasks.case_closed(case_id)


def open_case_for_visit(*, category, description, building, acting_user, now):
    """A care visit's follow-up as a grid worker's patrol report at the resident's building."""
    return case_reports.case_report(category=category, description=description, channel=Channel.PATROL,
                                    building=building, reporter_kind=ReporterKind.GRID_WORKER,
                                    acting_user=acting_user, now=now)


def open_case_for_risk(*, category, description, grid, building, unit, acting_user, now):
    """A risk that needs work, or a patrol finding, as a grid worker's patrol report at its place."""
    return case_reports.case_report(category=category, description=description, channel=Channel.PATROL,
                                    grid=grid, building=building, unit=unit, reporter_kind=ReporterKind.GRID_WORKER,
                                    acting_user=acting_user, now=now)


def open_case_number(case_id):
    return Case.objects.filter(pk=case_id, status__in=OPEN_STATUSES).values_list("number", flat=True).first()


def case_visible_to(user, case):
    return case_selectors.cases_visible_to(user).filter(pk=case.pk).exists()


def cases_for_proposals(user):
    cases = Case.objects.all() if user is None else case_selectors.cases_visible_to(user)
    return case_selectors.public_matters(cases)


def connect():
    case_closed.connect(points_for_closed_case, sender=Case, weak=False, dispatch_uid="hub-points-for-closed-case")
    resident_hooks.case_category_choices.register(category_choices)
    resident_hooks.open_case_for_visit.register(open_case_for_visit)
    resident_hooks.case_visible_to.register(case_visible_to)
    risk_hooks.case_category_choices.register(category_choices)
    risk_hooks.open_case.register(open_case_for_risk)
    risk_hooks.case_visible_to.register(case_visible_to)
    risk_hooks.open_case_number.register(open_case_number)
    risk_hooks.case_warning_candidates.register(warning_rules.case_rule_candidates)
    risk_hooks.notify_staff.register(warning_rules.notify_staff)
    participation_hooks.cases_for_proposals.register(cases_for_proposals)
    volunteer_hooks.residents_visible_to.register(resident_selectors.residents_visible_to)
    volunteer_hooks.households_visible_to.register(resident_selectors.households_visible_to)
    participation_hooks.support_confirmed.register(household_points.credit_support)
    participation_hooks.attendance_confirmed.register(household_points.credit_attendance)
    resident_hooks.household_stars.register(household_points.stars_by_building)
    party_hooks.service_confirmed.register(volunteer_services.record_external_service)
