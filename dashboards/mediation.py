"""The mediation panel of a dashboard (矛盾纠纷调解): the figures of cases/mediation_figures.py
for the place and period, in total and by dispute type, by channel (诉调/警调/访调) and by mediator.

Files are read through mediations_visible_to (managing posts, like the rest of the
dashboard) and narrowed to the place by their case's stored path.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from cases.mediation_figures import figures, figures_by
from cases.mediation_selectors import mediations_visible_to
from cases.models import DisputeType, MediationSource

from .page import Table, percent


def _row(label, f):
    return [label, f.received, f.concluded, f.successful, percent(f.success_rate), percent(f.community_rate),
            f.referred, percent(f.performed_rate)]


def _columns():
    return [_("Figure"), _("Received"), _("Concluded"), _("Agreements"), _("Success rate (调解成功率)"),
            _("Solved in the community"), _("Referred on"), _("Performed at follow-up")]


def mediation_tables(board):
    """[Table] for the dashboard's place and period."""
    files = mediations_visible_to(board.user, managing=True).filter(board.place.path_q("case__"))
    start, end = board.period.start, board.period.end
    total = figures(files, start=start, end=end)
    tables = [Table("mediation", _("Dispute mediation"), _columns(), [_row(_("All disputes"), total)],
                    note=_("Success rate: agreements ÷ (concluded − withdrawn); solved in the community: agreements "
                           "of a community's committee ÷ the same; performed: found performed ÷ followed up."))]
    types = dict(DisputeType.choices)
    rows = [_row(types.get(key, _("not yet accepted")), f) for key, f in figures_by(files, "dispute_type",
                                                                                  start=start, end=end)]
    tables.append(Table("mediation-types", _("Mediation by dispute type"), _columns(), rows))
    sources = dict(MediationSource.choices)
    rows = [_row(sources.get(key, key), f) for key, f in figures_by(files, "source", start=start, end=end)]
    tables.append(Table("mediation-channels", _("Mediation by channel"), _columns(), rows))
    by_mediator = figures_by(files, "mediators", start=start, end=end)
    names = {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=[k for k, _f in by_mediator if k])}
    rows = [_row(names.get(key, _("no mediator named")), f) for key, f in by_mediator]
    tables.append(Table("mediation-mediators", _("Mediation by mediator"), _columns(), rows))
    return tables
