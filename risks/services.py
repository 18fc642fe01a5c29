"""Every write to the risk register: register, reassess, change the controls, open a case, close.

Functions are `risk_<verb>(*, ..., acting_user, now)`, each one transaction.
The grade is written only by `risk_register` (the first assessment) and
`risk_reassess`, each with its RiskAssessment row; `risk_close` (销号) needs
written evidence and a photo. Patrols are in risks/patrols.py.
"""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import PATH_FIELDS, Area, AreaKind, Building, Unit
from grid.selectors import scope_of
from grid.services import lock_trees
from portal.errors import DomainError
from portal.identity import check_callback_phone
from portal.photos import validate_photo, without_metadata
from portal.text import clean_text

from . import bands, grading, hooks
from .models import PhotoStage, Risk, RiskAssessment, RiskPhoto, RiskStatus, RiskType

MAX_PHOTOS = 4


def _now(now):
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("naive datetime")
    return now


def _path_of(area):
    path = dict.fromkeys((f"{f}_id" for f in PATH_FIELDS), None)
    for pk, kind in Area.objects.filter(tree_id=area.tree_id, lft__lte=area.lft, rght__gte=area.rght).values_list(
            "pk", "kind"):
        path[f"{kind}_id"] = pk
    return path


def _read_place(place, building, unit):
    unit = Unit.objects.select_related("building__grid").filter(pk=unit.pk).first() if unit is not None else None
    if unit is not None:
        if building is not None and building.pk != unit.building_id:
            raise DomainError(_("That unit is not in that building."), code="bad_place")
        building = unit.building
    elif building is not None:
        building = Building.objects.select_related("grid").filter(pk=building.pk).first()
    if building is not None:
        area = building.grid
    elif place is not None:
        area = Area.objects.filter(pk=place.pk).first()
    else:
        area = None
    if area is None:
        raise DomainError(_("Choose where the risk is: a building, or a grid or community."), code="no_place")
    return area, building, unit


def place_path(*, place=None, building=None, unit=None):
    """(area, building, unit, path) read under a shared lock on the district tree, so a move of
    the tree cannot slip between reading the path and committing the row that stores it."""
    area, building, unit = _read_place(place, building, unit)
    locked = set()
    while area.tree_id not in locked and lock_trees(area.tree_id, shared=True):
        locked.add(area.tree_id)
        area, building, unit = _read_place(place, building, unit)
    if not area.is_active:
        raise DomainError(_("“%(place)s” was merged into another place; choose the new one.") % {"place": area.name},
                          code="bad_place")
    return area, building, unit, _path_of(area)


def may_work_on(user, path):
    """Does `user` hold a post on a place over `path` (risks_visible_to, for one row not yet written)?"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    scope = scope_of(user)
    return scope.unrestricted or any(path.get(f"{s.kind}_id") == s.area_id for s in scope.spans)


def _require(user, risk_or_path):
    path = risk_or_path if isinstance(risk_or_path, dict) else {f"{f}_id": getattr(risk_or_path, f"{f}_id")
                                                                  for f in PATH_FIELDS}
    if not may_work_on(user, path):
        raise DomainError(_("You may not work on risks of this place."), code="forbidden")


def _clean_photos(photos):
    photos = [p for p in photos or () if p]
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS}, code="too_many_photos")
    for photo in photos:
        validate_photo(photo)
    return [without_metadata(p) for p in photos]


def _save_photos(risk, photos, stage, now):
    for photo in photos:
        row = RiskPhoto(risk=risk, stage=stage, uploaded_at=now)
        row.image.save(getattr(photo, "name", "") or "photo.jpg", photo, save=False)
        row.save()


def _controls(responsible, responsible_phone, measures):
    responsible = clean_text(responsible, field=_("responsible person or organisation"), limit=100)
    responsible_phone = clean_text(responsible_phone, field=_("phone"), required=False, limit=20)
    check_callback_phone(responsible_phone)
    measures = clean_text(measures, field=_("control measures"))
    return responsible, responsible_phone, measures


def _review_on(grade, now):
    return timezone.localdate(now) + datetime.timedelta(days=grading.review_days(grade))


@transaction.atomic
def risk_register(*, kind, title, description, method, likelihood=None, severity=None, exposure=None,
                  responsible, measures, responsible_phone="", place=None, building=None, unit=None, photos=(),
                  acting_user, now=None):
    """Enter a risk in the register (风险入库) with its first assessment and 定人定责定措施."""
    now = _now(now)
    if kind not in RiskType.values:
        raise DomainError(_("Choose the type of risk."), code="bad_kind")
    title = clean_text(title, field=_("title"), limit=80)
    description = clean_text(description, field=_("description"))
    scored = grading.score(method=method, likelihood=likelihood, severity=severity, exposure=exposure)
    responsible, responsible_phone, measures = _controls(responsible, responsible_phone, measures)
    photos = _clean_photos(photos)
    area, building, unit, path = place_path(place=place, building=building, unit=unit)
    if building is None and area.kind not in (AreaKind.GRID, AreaKind.COMMUNITY, AreaKind.STREET):
        raise DomainError(_("Choose a street, community, grid or building, not a whole district."),
                          code="bad_place")
    _require(acting_user, path)
    scored = _graded_in(scored, path["district_id"])
    review_on = _review_on(scored.grade, now)
    risk = Risk.objects.create(
        kind=kind, title=title, description=description, building=building, unit=unit, method=scored.method,
        score=scored.value, grade=scored.grade, assessed_at=now, responsible=responsible,
        responsible_phone=responsible_phone, measures=measures, review_on=review_on, created_by=acting_user,
        created_at=now, **path,
    )
    _assessment(risk, scored, previous="", review_on=review_on, note="", acting_user=acting_user, now=now)
    _save_photos(risk, photos, PhotoStage.FOUND, now)
    return risk


def _graded_in(scored, district_id):
    """The score graded by the district's own matrix bands, where it has them (risks/bands.py)."""
    if scored.method != grading.Method.MATRIX:
        return scored
    edges = bands.matrix_bands_for(district_id)
    if edges is None:
        return scored
    return grading.score(method=scored.method, likelihood=scored.likelihood, severity=scored.severity,
                         matrix_bands=edges)


def _assessment(risk, scored, *, previous, review_on, note, acting_user, now):
    return RiskAssessment.objects.create(
        risk=risk, at=now, by=acting_user, method=scored.method, likelihood=scored.likelihood,
        exposure=scored.exposure, severity=scored.severity, score=scored.value, grade=scored.grade,
        previous_grade=previous, review_on=review_on, note=note,
    )


def _locked_open(risk):
    fresh = Risk.objects.select_for_update().filter(pk=risk.pk).first()
    if fresh is None:
        raise DomainError(_("This risk does not exist."), code="missing")
    if fresh.status != RiskStatus.OPEN:
        raise DomainError(_("This risk is closed (written off); it cannot change."), code="closed")
    return fresh


@transaction.atomic
def risk_reassess(*, risk, method, likelihood=None, severity=None, exposure=None, note="", acting_user, now=None):
    """A reassessment (复查/重新评估): the only way a grade changes. Sets the next review by the new grade."""
    now = _now(now)
    scored = grading.score(method=method, likelihood=likelihood, severity=severity, exposure=exposure)
    note = clean_text(note, field=_("note"), required=False)
    risk = _locked_open(risk)
    _require(acting_user, risk)
    scored = _graded_in(scored, risk.district_id)
    review_on = _review_on(scored.grade, now)
    _assessment(risk, scored, previous=risk.grade, review_on=review_on, note=note, acting_user=acting_user, now=now)
    Risk.objects.filter(pk=risk.pk).update(method=scored.method, score=scored.value, grade=scored.grade,
                                           assessed_at=now, review_on=review_on, review_overdue_since=None)
    risk.refresh_from_db()
    return risk


@transaction.atomic
def risk_set_controls(*, risk, responsible, measures, responsible_phone="", acting_user, now=None):
    """Change who answers for the risk and how it is controlled (never its grade)."""
    _now(now)
    responsible, responsible_phone, measures = _controls(responsible, responsible_phone, measures)
    risk = _locked_open(risk)
    _require(acting_user, risk)
    Risk.objects.filter(pk=risk.pk).update(responsible=responsible, responsible_phone=responsible_phone,
                                           measures=measures)
    risk.refresh_from_db()
    return risk


@transaction.atomic
def risk_open_case(*, risk, category, description="", acting_user, now=None):
    """A risk that needs work opens one linked case (a patrol report at the risk's place)."""
    now = _now(now)
    risk = _locked_open(risk)
    _require(acting_user, risk)
    if risk.case_id is not None:
        raise DomainError(_("This risk already has a linked case."), code="has_case")
    description = clean_text(description, field=_("description"), required=False) or (
        f"{risk.get_kind_display()}：{risk.title}。{risk.description}")
    grid = risk.grid if risk.building_id is None else None
    if grid is None and risk.building_id is None:
        raise DomainError(_("A case needs a grid or a building; this risk hangs higher up."), code="bad_place")
    case = hooks.open_case(category=category, description=description[:2000], grid=grid, building=risk.building,
                           unit=risk.unit, acting_user=acting_user, now=now)
    Risk.objects.filter(pk=risk.pk).update(case=case)
    risk.refresh_from_db()
    return risk


@transaction.atomic
def risk_close(*, risk, evidence, photos=(), acting_user, now=None):
    """销号: only with written evidence and at least one photo of the risk removed, and not while its
    linked case is open (the work on the risk is not done)."""
    now = _now(now)
    evidence = clean_text(evidence, field=_("evidence of the close"))
    photos = _clean_photos(photos)
    if not photos:
        raise DomainError(_("A risk is closed only with a photo of the evidence."), code="no_evidence")
    risk = _locked_open(risk)
    _require(acting_user, risk)
    open_number = hooks.open_case_number(risk.case_id) if risk.case_id else None
    if open_number:
        raise DomainError(_("The linked case %(number)s is still open: close it first, then write off the risk.")
                          % {"number": open_number}, code="case_open")
    changed = Risk.objects.filter(pk=risk.pk, status=RiskStatus.OPEN).update(
        status=RiskStatus.CLOSED, closed_at=now, closed_by=acting_user, close_evidence=evidence)
    if not changed:
        raise DomainError(_("This risk is closed (written off); it cannot change."), code="closed")
    _save_photos(risk, photos, PhotoStage.CLOSE, now)
    risk.refresh_from_db()
    return risk


def risks_flag_overdue(*, now=None):
    """Mark open risks whose review date has passed (the beat's sweep). One conditional UPDATE:
    a risk already marked is left alone, so runs twice or at once mark each risk once."""
    now = _now(now)
    return Risk.objects.filter(
        Q(status=RiskStatus.OPEN, review_overdue_since__isnull=True, review_on__lt=timezone.localdate(now))
    ).update(review_overdue_since=now)
