"""接诉即办 三率: the 12345 hotline's three rates, per place (dashboards/definitions.py HOTLINE_DEFINITIONS).

- 响应率 response rate: work orders signed in (签收: the first acceptance) by the
  first deadline of their acceptance stage, over the work orders that had to be
  signed in by the cutoff (signed in, or their deadline passed);
- 解决率 solution rate: 回访 answers "solved", over all ratings of those orders
  (an unanswered question is not a "solved");
- 满意率 satisfaction rate: 满意 (5) and 基本满意 (4), over all ratings.

Read live from the case table and the history tables (cases.CaseDeadline,
cases.CaseRating): hotline matters are a share of a place's cases, and the
first sign-in is history the rollups do not hold. Grouping is a parameter
(`by`: a case field such as "street" or "community").

Per organisation (`hotline_rates_by_organisation`, #18 item 4) the unit is the
work order's sending to the organisation (cases.OrgAssignment, counted by
dashboards/org_figures.py): 响应率 is the organisation's own 签收 within its time
to sign in (the case's acceptance-stage deadline belongs to the residential tree,
which an organisation's matter skips); 解决率 and 满意率 are over every rating of
the orders closed while the organisation held them.
"""

from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, Subquery

from cases.models import (
    SATISFIED_MIN_RATING,
    CaseDeadline,
    CaseRating,
    Channel,
    DeadlineKind,
    DeadlineStage,
    Status,
)

from .figures import cutoff_for
from .org_figures import organisation_measures

# Optionally all residents' matters: pass channels=RESIDENT_CHANNELS.
HOTLINE_CHANNELS = (Channel.HOTLINE,)
RESIDENT_CHANNELS = (Channel.HOTLINE, Channel.WEB, Channel.QR, Channel.OPEN311)


@dataclass
class HotlineRates:
    orders: int = 0  # registered work orders
    should_respond: int = 0
    responded: int = 0
    rated: int = 0
    solved: int = 0
    satisfied: int = 0

    def __add__(self, other):
        return HotlineRates(*(getattr(self, f) + getattr(other, f) for f in
                              ("orders", "should_respond", "responded", "rated", "solved", "satisfied")))

    @staticmethod
    def _share(part, whole):
        return part / whole if whole else None

    @property
    def response_rate(self):
        return self._share(self.responded, self.should_respond)

    @property
    def solution_rate(self):
        return self._share(self.solved, self.rated)

    @property
    def satisfaction_rate(self):
        return self._share(self.satisfied, self.rated)


def _first(stage, column):
    return Subquery(CaseDeadline.objects.filter(case_id=OuterRef("pk"), stage=stage, kind=DeadlineKind.FIRST)
                    .values(column)[:1])


def hotline_rates_by(cases, place, period, *, by=None, now=None, channels=HOTLINE_CHANNELS):
    """{group value: HotlineRates} of the matters from `channels` reported at `place` in `period`.

    `by` is a case field to group on (default: the place's children, e.g. "street" for a district);
    None groups everything under the key None.
    """
    cutoff = cutoff_for(period, now)
    orders = cases.filter(place.case_q(), created_at__gte=period.start, created_at__lt=period.end,
                          channel__in=channels, registered_at__isnull=False) \
        .exclude(status__in=(Status.REJECTED, Status.DUPLICATE))
    group = {"key": F(by)} if by else {}
    first = orders.annotate(accept_due=_first(DeadlineStage.ACCEPT, "due_at"),
                            signed_at=_first(DeadlineStage.HANDLE, "at"))
    result = {}
    rows = first.values(**group) if group else first.values()
    response = rows.annotate(
        n=Count("pk"),
        should=Count("pk", filter=Q(accept_due__isnull=False)
                     & (Q(signed_at__isnull=False) | Q(accept_due__lt=cutoff))),
        done=Count("pk", filter=Q(signed_at__lte=F("accept_due"))),
    ).order_by() if group else [first.aggregate(
        n=Count("pk"),
        should=Count("pk", filter=Q(accept_due__isnull=False)
                     & (Q(signed_at__isnull=False) | Q(accept_due__lt=cutoff))),
        done=Count("pk", filter=Q(signed_at__lte=F("accept_due"))),
    )]
    for row in response:
        rates = result.setdefault(row.get("key"), HotlineRates())
        rates.orders, rates.should_respond, rates.responded = row["n"], row["should"], row["done"]
    ratings = CaseRating.objects.filter(case__in=orders.values("pk"))
    rated = ratings.values(key=F(f"case__{by}")) if by else ratings.values()
    aggregates = dict(n=Count("pk"), solved=Count("pk", filter=Q(solved=True)),
                      satisfied=Count("pk", filter=Q(rating__gte=SATISFIED_MIN_RATING)))
    for row in (rated.annotate(**aggregates).order_by() if by else [ratings.aggregate(**aggregates)]):
        rates = result.setdefault(row.get("key"), HotlineRates())
        rates.rated, rates.solved, rates.satisfied = row["n"], row["solved"], row["satisfied"]
    return result


def hotline_rates(cases, place, period, *, now=None, channels=HOTLINE_CHANNELS):
    """The 三率 of the whole place."""
    return hotline_rates_by(cases, place, period, now=now, channels=channels).get(None, HotlineRates())


def hotline_rates_by_organisation(user, place, period, *, now=None, channels=HOTLINE_CHANNELS, read=None):
    """{organisation id: HotlineRates} of the work orders from `channels` under `place` sent to an
    organisation (as lead) in `period`, scoped like the organisations' figures (org_figures.sendings).
    `read`: the page's org_figures.Cohort, if it read one already."""
    return {
        pk: HotlineRates(orders=m.received, should_respond=m.should_sign_in, responded=m.signed_on_time,
                         rated=m.rated, solved=m.solved_said, satisfied=m.satisfied)
        for pk, m in organisation_measures(user, place, period, now, channels=channels, read=read).items()
        if m.received  # co-handling alone is no work order of theirs
    }
