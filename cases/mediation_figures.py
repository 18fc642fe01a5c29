"""The figures of mediation work (矛盾纠纷调解) for a set of files and a period.

Definitions (pinned by a hand-computed fixture in tests/test_cases_mediation_figures.py,
and stated in the README's "Mediation" section):

- received (受理): files accepted in the period (`opened_at`);
- concluded (调结): files given an outcome in the period (`concluded_at`);
- successful (调解成功): concluded with an agreement, full or partial (a 调解协议书 was signed);
- success rate (调解成功率) = successful ÷ (concluded − withdrawn): the people's-mediation
  statistics count a dispute as mediated when the committee concluded it; a withdrawn
  application was not mediated to an end, so it is left out of both sides (our reading);
- solved in the community (社区化解) = successful by a community's committee ÷ the same
  denominator: the field reports' "95%以上的矛盾纠纷在社区得到有效化解" (Lianhu);
- referred on: concluded without agreement and referred (诉讼, 仲裁, 行政裁决);
- performed at follow-up = followed up in the period and found performed ÷ followed up in the period.

The caller passes files already scoped (mediations_visible_to) and narrowed to a place.
"""

from dataclasses import dataclass

from django.db.models import Count, Q

from grid.models import AreaKind

from .models import AGREEMENT_OUTCOMES, MediationOutcome, Performance


@dataclass(frozen=True)
class Figures:
    received: int
    concluded: int
    withdrawn: int
    successful: int
    in_community: int
    referred: int
    followed_up: int
    performed: int

    @property
    def mediated(self):
        return self.concluded - self.withdrawn

    @property
    def success_rate(self):
        return self.successful / self.mediated if self.mediated else None

    @property
    def community_rate(self):
        return self.in_community / self.mediated if self.mediated else None

    @property
    def performed_rate(self):
        return self.performed / self.followed_up if self.followed_up else None


def _measures(start, end, prefix=""):
    opened = Q(**{f"{prefix}opened_at__gte": start, f"{prefix}opened_at__lt": end})
    concluded = Q(**{f"{prefix}concluded_at__gte": start, f"{prefix}concluded_at__lt": end}) & ~Q(
        **{f"{prefix}outcome": MediationOutcome.PENDING})
    success = concluded & Q(**{f"{prefix}outcome__in": AGREEMENT_OUTCOMES})
    followed = Q(**{f"{prefix}followed_up_at__gte": start, f"{prefix}followed_up_at__lt": end})
    pk = f"{prefix}pk"
    return {
        "received": Count(pk, filter=opened, distinct=True),
        "concluded": Count(pk, filter=concluded, distinct=True),
        "withdrawn": Count(pk, filter=concluded & Q(**{f"{prefix}outcome": MediationOutcome.WITHDRAWN}),
                           distinct=True),
        "successful": Count(pk, filter=success, distinct=True),
        "in_community": Count(pk, filter=success & Q(**{f"{prefix}committee__kind": AreaKind.COMMUNITY}),
                              distinct=True),
        "referred": Count(pk, filter=concluded & Q(**{f"{prefix}outcome": MediationOutcome.FAILED})
                          & ~Q(**{f"{prefix}referral": ""}), distinct=True),
        "followed_up": Count(pk, filter=followed, distinct=True),
        "performed": Count(pk, filter=followed & Q(**{f"{prefix}performance": Performance.PERFORMED}),
                           distinct=True),
    }


def figures(files, *, start, end):
    """The figures of `files` (a Mediation queryset) for [start, end)."""
    return Figures(**files.aggregate(**_measures(start, end)))


def figures_by(files, field, *, start, end):
    """[(value, Figures)] grouped by a column of the file: "dispute_type", "source" or "mediators"."""
    rows = files.values(field).annotate(**_measures(start, end)).order_by(field)
    out = []
    for row in rows:
        key = row.pop(field)
        found = Figures(**row)
        if found.received or found.concluded or found.followed_up:
            out.append((key, found))
    return out
