"""A district's own risk-matrix bands (风险矩阵分级): read for grading, written by its officials.

Published matrices disagree on where R = L × S turns yellow, orange and red
(risks/grading.py); a district that follows another matrix sets its three lower
edges here (the admin, risks/admin.py). The edges must rise (yellow < orange <
red), stay inside 1–25, and leave each grade at least one score L × S can reach
(a band of 17–19 holds no product of 1–5 and would be a grade nobody can get).
Districts without a row grade by the portal's default (grading.MATRIX_BANDS).

A change grades only the assessments made after it: the grade of a risk is
written by its assessments (risks/services.py), never recomputed.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind
from grid.selectors import can_manage_area, scope_of
from portal.errors import DomainError

from . import grading
from .models import MatrixBands

LOW, HIGH = grading.MATRIX_RANGE
# Every R a matrix can give: the products of two scores 1–5.
REACHABLE = frozenset(lik * sev for lik in grading.MATRIX_SCALE for sev in grading.MATRIX_SCALE)


def matrix_bands_for(district_id):
    """The district's edges (yellow, orange, red), or None: grade by the default."""
    if district_id is None:
        return None
    row = MatrixBands.objects.filter(district_id=district_id).values_list("yellow_from", "orange_from",
                                                                           "red_from").first()
    return tuple(row) if row else None


def matrix_bands_visible_to(user, *, managing=False):
    """The bands of the districts the user's posts lie in (the admin: managing posts)."""
    scope = scope_of(user).managing() if managing else scope_of(user)
    if scope.unrestricted:
        return MatrixBands.objects.all()
    return MatrixBands.objects.filter(district__tree_id__in={s.tree_id for s in scope.spans})


def _edge(value, name):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(_("%(name)s must be a whole number.") % {"name": name}, code="bad_edge") from None
    if not LOW < number <= HIGH:
        raise DomainError(_("%(name)s must be between %(low)d and %(high)d.")
                          % {"name": name, "low": LOW + 1, "high": HIGH}, code="bad_edge")
    return number


def check_edges(yellow_from, orange_from, red_from):
    """The three edges as whole numbers, or a DomainError saying what is wrong."""
    yellow = _edge(yellow_from, _("yellow from"))
    orange = _edge(orange_from, _("orange from"))
    red = _edge(red_from, _("red from"))
    if not yellow < orange < red:
        raise DomainError(_("The bands must rise: yellow below orange below red."), code="not_monotonic")
    bands = ((grading.Grade.BLUE, LOW, yellow - 1), (grading.Grade.YELLOW, yellow, orange - 1),
             (grading.Grade.ORANGE, orange, red - 1), (grading.Grade.RED, red, HIGH))
    empty = [grade.label for grade, low, high in bands if not any(low <= r <= high for r in REACHABLE)]
    if empty:
        raise DomainError(_("No L × S falls in the band of %(grades)s; move its edges.")
                          % {"grades": "、".join(str(g) for g in empty)}, code="empty_band")
    return yellow, orange, red


@transaction.atomic
def matrix_bands_set(*, district, yellow_from, orange_from, red_from, acting_user, now):
    """Set a district's matrix bands (its officials, or administrators). Nothing is written on a refusal."""
    district = Area.objects.filter(pk=getattr(district, "pk", district), kind=AreaKind.DISTRICT,
                                   is_active=True).first()
    if district is None or acting_user is None or not (scope_of(acting_user).unrestricted
                                                       or can_manage_area(acting_user, district)):
        raise DomainError(_("Only the district's officials set its risk matrix."), code="forbidden")
    yellow, orange, red = check_edges(yellow_from, orange_from, red_from)
    try:
        with transaction.atomic():
            row, _created = MatrixBands.objects.update_or_create(
                district=district, defaults={"yellow_from": yellow, "orange_from": orange, "red_from": red,
                                             "changed_by": acting_user, "changed_at": now})
    except IntegrityError:
        raise DomainError(_("These bands are not valid."), code="not_monotonic") from None
    return row
