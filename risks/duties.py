"""The grid worker's duties (十项基本职责) as data per district, and the 服务事项准入 list. Reads and writes.

The default ten below are the portal's reading of the field reports (DOMAIN.md:
基础信息采集, 安全隐患排查, 公共卫生事件处置 … are named there); a district
edits its own copy in the admin (`duty_save`). Each kind of work (WorkKind)
counts toward at most one duty of a district, so the monthly record
(hub/work_record.py) never counts a patrol twice; work a district's list leaves
out is shown apart as "not under a duty".
"""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind
from grid.selectors import can_manage_area, scope_of
from portal.errors import DomainError
from portal.text import clean_text

from .models import AdmittedService, Duty, WorkKind

# (number, name, work kinds counted): the default list.
DEFAULT_DUTIES = (
    (1, "基础信息采集", []),
    (2, "社情民意收集", [WorkKind.CASE_REPORTED]),
    (3, "安全隐患排查", [WorkKind.PATROL, WorkKind.RISK_NEW, WorkKind.RISK_REVIEW, WorkKind.FIXED]),
    (4, "矛盾纠纷排查化解", []),
    (5, "特殊人群服务管理", [WorkKind.CARE_VISIT]),
    (6, "政策法规宣传", []),
    (7, "公共卫生与突发事件处置", []),
    (8, "便民代办服务", []),
    (9, "事件就地办理", [WorkKind.CASE_RESOLVED]),
    (10, "准入事项办理", []),
)


def load_default_duties(apps=None):
    """The default list (district None), written once; a data migration and the tests call it."""
    model = apps.get_model("risks", "Duty") if apps else Duty
    for number, name, kinds in DEFAULT_DUTIES:
        model.objects.get_or_create(district=None, number=number,
                                    defaults={"name": name, "work_kinds": [str(k) for k in kinds]})


def duties_visible_to(user, *, managing=False):
    """The default list and the lists of the districts the user's posts reach (the admin: managing posts)."""
    scope = scope_of(user).managing() if managing else scope_of(user)
    if scope.unrestricted:
        return Duty.objects.all()
    districts = {s.area_id for s in scope.spans if s.kind == AreaKind.DISTRICT}
    trees = {s.tree_id for s in scope.spans}
    districts |= set(Area.objects.filter(kind=AreaKind.DISTRICT, tree_id__in=trees).values_list("pk", flat=True))
    return Duty.objects.filter(Q(district__isnull=True) | Q(district_id__in=districts))


def admitted_services_visible_to(user, *, managing=False):
    scope = scope_of(user).managing() if managing else scope_of(user)
    if scope.unrestricted:
        return AdmittedService.objects.all()
    trees = {s.tree_id for s in scope.spans}
    return AdmittedService.objects.filter(district__tree_id__in=trees)


def duties_of(district_id):
    """The duties counted for a district: its own list, else the default one."""
    own = list(Duty.objects.filter(district_id=district_id).order_by("number"))
    return own or list(Duty.objects.filter(district__isnull=True).order_by("number"))


def _may_edit(user, district):
    if user is None:
        return False
    if district is None:
        return scope_of(user).unrestricted
    return can_manage_area(user, district)


@transaction.atomic
def duty_save(*, duty, acting_user):
    """Save a duty (new or changed) of a district's list: number 1–10, a name, known work kinds, each kind
    under one duty of the district. Refusals are DomainErrors; nothing is written."""
    if not _may_edit(acting_user, duty.district):
        raise DomainError(_("Only the district's officials edit its duties."), code="forbidden")
    if duty.district is not None and duty.district.kind != AreaKind.DISTRICT:
        raise DomainError(_("Duties are set per district."), code="bad_place")
    if not isinstance(duty.number, int) or not 1 <= duty.number <= 10:
        raise DomainError(_("A duty's number is 1 to 10."), code="bad_number")
    duty.name = clean_text(duty.name, field=_("duty"), limit=60)
    kinds = duty.work_kinds if isinstance(duty.work_kinds, list) else None
    if kinds is None or any(k not in WorkKind.values for k in kinds):
        raise DomainError(_("Choose the work counted from the list."), code="bad_kind")
    duty.work_kinds = list(dict.fromkeys(kinds))
    others = Duty.objects.filter(district=duty.district).exclude(pk=duty.pk)
    taken = {k for d in others for k in d.work_kinds}
    double = [WorkKind(k).label for k in duty.work_kinds if k in taken]
    if double:
        raise DomainError(_("Already counted under another duty: %(kinds)s.") % {"kinds": "、".join(map(str, double))},
                          code="counted_twice")
    try:
        with transaction.atomic():
            duty.save()
    except IntegrityError:
        raise DomainError(_("This district already has a duty with that number."), code="duplicate") from None
    return duty


@transaction.atomic
def admitted_service_save(*, service, acting_user):
    """Admit a matter to (or withdraw it from) the district's 准入 list."""
    district = Area.objects.filter(pk=service.district_id, kind=AreaKind.DISTRICT).first()
    if district is None or not _may_edit(acting_user, district):
        raise DomainError(_("Only the district's officials keep its list of admitted matters."), code="forbidden")
    service.name = clean_text(service.name, field=_("matter"), limit=100)
    service.department = clean_text(service.department, field=_("department asking"), limit=60)
    service.basis = clean_text(service.basis, field=_("basis (document)"), limit=200)
    if service.duty_id and not Duty.objects.filter(Q(district=district) | Q(district__isnull=True),
                                                   pk=service.duty_id).exists():
        raise DomainError(_("Choose a duty of this district."), code="bad_duty")
    if service.withdrawn_on and service.admitted_on and service.withdrawn_on < service.admitted_on:
        raise DomainError(_("A matter is withdrawn after it was admitted."), code="bad_dates")
    try:
        with transaction.atomic():
            service.save()
    except IntegrityError:
        raise DomainError(_("This matter is already on the district's list."), code="duplicate") from None
    return service
