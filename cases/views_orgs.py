"""Pages of the organisation track: an organisation's queue (phone), the street command centre's
board, and the moves of the case page that belong to it (merged into cases.views.ACTIONS).

Each view reads through cases.selectors (cases_visible_to is the one door) and makes one
service call; "not yours" answers 404.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from grid.models import AreaKind, Organisation
from grid.selectors import areas_visible_to, scope_of
from grid.views import render_page as _render
from portal.admin_paging import CappedCountPaginator

from . import forms, forms_orgs, routing_orgs, services, services_orgs
from .models import OrgAssignment, Status, Triage
from .selectors import command_board, open_whistles, org_queue_for, org_queue_page


# The grid worker's queue's page size (cases.views.PAGE_SIZE; that module imports this one).
QUEUE_PAGE_SIZE = 50
# How far an organisation's queue is counted (see QueuePaginator).
QUEUE_COUNT_CAP = 500


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


class QueuePaginator(CappedCountPaginator):
    """An organisation's queue is often longer than a page (a district bureau holds thousands):
    counted up to a cap, reading ids only; beyond it the page says "500+" and lists the soonest
    due (the count of 2,000 matters cost more than the page itself)."""

    cap = QUEUE_COUNT_CAP


@login_required
@require_GET
def org_queue(request):
    """An organisation's queue on a phone: matters to sign in and in hand, soonest due first."""
    user = request.user
    organisation_ids = scope_of(user).organisation_ids
    if not organisation_ids:
        raise Http404
    now = timezone.now()
    organisations = list(Organisation.objects.filter(pk__in=sorted(organisation_ids)).order_by("name")
                         .only("id", "name"))
    page = QueuePaginator(org_queue_page(org_queue_for(user)), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    names = {o.pk: o.name for o in organisations} if len(organisations) > 1 else {}
    rows = _queue_rows(page.object_list, now, names)
    return _render(request, "cases/org_queue.html", {"organisations": organisations, "rows": rows, "page": page})


def _queue_rows(cases, now, organisation_names):
    """What each card shows, formatted here once (as the case board's rows) rather than by
    template filters and an included partial per card."""
    statuses = dict(Status.choices)
    detail = reverse("cases:detail", args=[0])[:-2]  # /cases/0/ → /cases/: the case's id goes after it
    sign_in = reverse("cases:act", args=[0, "org_sign_in"]).removeprefix(f"{detail}0/")  # act/org_sign_in/
    rows = []
    for c in cases:
        head = c.description_head
        due = timezone.localtime(c.due_at) if c.due_at else None
        rows.append({
            "number": c.number, "href": f"{detail}{c.pk}/", "sign_in_href": f"{detail}{c.pk}/{sign_in}",
            "status": c.status,
            "status_label": statuses.get(c.status, c.status), "category": c.category_name or "",
            "description": head if len(head) <= 70 else head[:69] + "…",
            "overdue": c.is_overdue(now), "supervised": c.supervised_at is not None,
            "org_supervised": bool(c.org_supervised_due), "carried": c.carried_over_at is not None,
            "to_sign_in": c.status == Status.DISPATCHED,
            "organisation": organisation_names.get(c.organisation_id, ""),
            "building": str(c.building) if c.building_id else "",
            "due_iso": due.isoformat() if due else "", "due": due.strftime("%m-%d %H:%M") if due else "",
        })
    return rows


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
