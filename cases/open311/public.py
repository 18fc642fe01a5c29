"""Open311 reads without an api_key (issue #22 item 1): public fields of public matters.

GeoReport v2 lets anyone read requests; we keep reads private unless both
settings.OPEN311_PUBLIC_READS is on and the matter's district opted in
(PublicReads, edited in the admin). Even then a public read answers only:

- ordinary matters (never mediation) whose category, and its family head, is
  not marked sensitive;
- the service, the status, status notes staff marked public, the building
  (its address, id and coordinates: never the unit, the household, the
  resident's own address text or point), and the dates.

The description, the agency and anything about the reporter are never in a
public answer: a description is the resident's own words and may name people.
"""

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from cases.models import Case, CaseEvent, CaseKind, Intake

from .models import PublicReads, ServiceRequest

PUBLIC_COLUMNS = ("number", "status", "created_at", "handle_due_at", "due_at", "building_id", "building__address",
                  "building__number", "building__latitude", "building__longitude", "category__name",
                  "category__code")


def enabled():
    return bool(getattr(settings, "OPEN311_PUBLIC_READS", False))


def _district_open(prefix=""):
    return Exists(PublicReads.objects.filter(district_id=OuterRef(f"{prefix}district_id"), enabled=True))


def _private_category():
    """A category (or its family head) marked sensitive or mediation: never read in public."""
    return (Q(category__is_mediation=True) | Q(category__is_sensitive=True)
            | Q(category__parent__isnull=False) & (Q(category__parent__is_sensitive=True)
                                                  | Q(category__parent__is_mediation=True)))


def public_cases():
    """Matters anyone may read: ordinary, not sensitive, in a district that opened public reads."""
    return Case.objects.filter(_district_open(), kind=CaseKind.ORDINARY).exclude(_private_category())


def public_status_updates():
    """Status changes of public matters, oldest first (their notes only when marked public)."""
    return CaseEvent.objects.filter(case__in=public_cases()).exclude(to_status="").order_by("at", "id")


def public_filing(token):
    """(service_request_id or None) of a filing read without a key, or False when it is not readable.

    Before registration the token answers alone, and only if the key's place lies
    in a district that opened public reads; once registered, only if its case is public.
    """
    filed = ServiceRequest.objects.filter(token=token).select_related("client__area").first()
    if filed is None:
        return False
    if filed.case_id is None:
        # A waiting filing of a matter that will never be public (a sensitive or mediation
        # service) answers as it will once registered: not at all.
        if Intake.objects.filter(tracking_code=filed.tracking_code).filter(_private_category()).exists():
            return False
        # One tree per district: the district is the root of the key's place's tree.
        tree_id = filed.client.area.tree_id
        return None if PublicReads.objects.filter(district__tree_id=tree_id, enabled=True).exists() else False
    number = public_cases().filter(pk=filed.case_id).values_list("number", flat=True).first()
    return number if number is not None else False
