"""Pages of the organisation track: an organisation's queue (phone), the street command centre's
board, and the moves of the case page that belong to it (merged into cases.views.ACTIONS).

Each view reads through cases.selectors (cases_visible_to is the one door) and makes one
service call; "not yours" answers 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from grid.models import AreaKind, Organisation
from grid.selectors import areas_visible_to, scope_of
from grid.views import render_page as _render

from . import forms, forms_orgs, routing_orgs, services, services_orgs
from .models import OrgAssignment, Status, Triage
from .selectors import command_board, open_whistles, org_queue_for


# The grid worker's queue's page size (cases.views.PAGE_SIZE; that module imports this one).
QUEUE_PAGE_SIZE = 50


def org_actions(Action):
    """The case page's moves of the organisation track, as cases.views.Action specs."""
    F = forms_orgs
    return {
        "org_sign_in": Action(gettext_lazy("Sign in (签收)"), forms.EmptyForm,
                              lambda c, u, d, now: services_orgs.case_org_sign_in(case=c, acting_user=u, now=now),
                              gettext_lazy("Matter %(number)s signed in."), "primary"),
        "org_reply": Action(gettext_lazy("Reply with the result"), F.OrgReplyForm,
                            lambda c, u, d, now: services_orgs.case_org_reply(
                                case=c, acting_user=u, note=d["note"], photos=[d["photo"]] if d.get("photo") else [],
                                now=now),
                            gettext_lazy("Reply sent for matter %(number)s; the grid verifies it on site."),
                            "primary"),
        "org_dispatch": Action(gettext_lazy("Send to an organisation"), F.OrgDispatchForm,
                               lambda c, u, d, now: services_orgs.case_org_dispatch(
                                   case=c, acting_user=u, lead=d["lead_id"], co_handlers=d["co_ids"],
                                   reason=d["reason"], now=now),
                               gettext_lazy("Matter %(number)s sent to the organisation."), "primary"),
        "org_rule": Action(gettext_lazy("Rule on the return"), F.OrgRuleForm,
                           lambda c, u, d, now: services_orgs.case_org_rule(
                               case=c, acting_user=u, lead=d["lead_id"], co_handlers=d["co_ids"],
                               reason=d["reason"], now=now),
                           gettext_lazy("Ruling recorded for matter %(number)s."), "primary"),
        "org_return": Action(gettext_lazy("Not our duty: return to the street (退单)"), forms.ReasonForm,
                             lambda c, u, d, now: services_orgs.case_org_return(case=c, acting_user=u,
                                                                                reason=d["reason"], now=now),
                             gettext_lazy("Matter %(number)s returned to the street."), "danger"),
        "reclassify": Action(gettext_lazy("Change the class"), F.ReclassifyForm,
                             lambda c, u, d, now: services_orgs.case_reclassify(
                                 case=c, acting_user=u, triage=d["triage"], reason=d["reason"], now=now),
                             gettext_lazy("Class of matter %(number)s changed.")),
        "refer": Action(gettext_lazy("Private matter: refer (私事)"), F.ReferForm,
                        lambda c, u, d, now: services_orgs.case_refer(
                            case=c, acting_user=u, referred_to=d["referred_to"], told=d["told"], reason=d["reason"],
                            now=now),
                        gettext_lazy("Matter %(number)s referred."), "danger"),
        "register": Action(gettext_lazy("Register and route"), F.RegisterRouteForm,
                           lambda c, u, d, now: services.case_register(
                               case=c, acting_user=u, category=d["category"] or None, note=d["note"],
                               triage=d["triage"], reason=d["reason"], now=now),
                           gettext_lazy("Case %(number)s registered and routed."), "primary"),
    }


def route_context(case, user):
    """What the case page shows of the organisation track: the proposed route while the matter
    waits for registration, and who it was sent to (current and former)."""
    context = {"proposal": None, "assignments": []}
    if case.status == Status.REPORTED:
        context["proposal"] = routing_orgs.propose(case)
    if case.triage_class == Triage.PUBLIC or case.organisation_id:
        context["assignments"] = list(
            OrgAssignment.objects.filter(case=case).select_related("organisation", "assigned_by").order_by("pk"))
    return context


@login_required
@require_GET
def org_queue(request):
    """An organisation's queue on a phone: matters to sign in and in hand, soonest due first."""
    user = request.user
    organisation_ids = scope_of(user).organisation_ids
    if not organisation_ids:
        raise Http404
    now = timezone.now()
    organisations = list(Organisation.objects.filter(pk__in=sorted(organisation_ids)).order_by("name"))
    # Paged like the grid worker's queue; counted outright: an organisation's queue is often
    # longer than a page, and peeking first would read its first page twice.
    page = Paginator(org_queue_for(user), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    rows = [{"case": c, "overdue": c.is_overdue(now), "status_label": Status(c.status).label,
             "to_sign_in": c.status == Status.DISPATCHED}
            for c in page]
    return _render(request, "cases/org_queue.html", {"organisations": organisations, "rows": rows, "page": page})


@login_required
@require_GET
def command_centre(request, street_id=None):
    """The street command centre's board: big matters awaiting dispatch, returns awaiting a
    ruling, matters with organisations; whistles open (filled by the whistle module)."""
    streets = areas_visible_to(request.user, managing=True).filter(kind=AreaKind.STREET, is_active=True)
    if street_id is None:
        street = streets.order_by("code").first()
        if street is None:
            raise Http404
    else:
        street = streets.filter(pk=street_id).first()
        if street is None:
            raise Http404
    now = timezone.now()
    board = command_board(street.pk)
    sections = {name: [{"case": c, "overdue": c.is_overdue(now)} for c in rows[:100]]
                for name, rows in board.items()}
    return _render(request, "cases/command_centre.html", {
        "street": street, "sections": sections, "exclusions": routing_orgs.grid_exclusions_for(request.user),
        # Whistles open (吹哨报到): who was summoned to the street's open matters, and who reported in.
        "whistles_open": open_whistles(street.pk),
        "now": now,
    })
