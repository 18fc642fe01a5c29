"""Party building on a dashboard (党建引领): per community, the members reported in (双报到),
the small wishes (微心愿) adopted and fulfilled, and the hours members served.

Definitions (README "Party organisations, 双报到, wishes and 包片 officials"):
- members reported in: reports-in confirmed by the community and not ended, as of now;
- wishes adopted: wishes adopted in the period (whatever became of them since);
- wishes fulfilled: of those, the ones fulfilled (confirmed by staff or waiting for it);
- hours served: confirmed services that started in the period (a confirmed wish's hours included).
Read through residents.party.selectors (residents' scope), narrowed to the dashboard's place.
"""

from django.utils.translation import gettext as _

from grid.models import AreaKind
from grid.selectors import liaisons_over
from residents.party.selectors import figures_by_community

from .figures import Table


def party_tables(board):
    """[Table]: the figures per community, then the 包片 leaders of the place."""
    area = board.place.area
    rows = figures_by_community(board.user, since=board.period.start, until=board.period.end, place=area)
    table = Table("party", _("Party members and small wishes by community"),
                  [_("Community"), _("Members reported in"), _("Wishes adopted"), _("Wishes fulfilled"),
                   _("Hours served")],
                  [[r["community"], r["members"], r["adopted"], r["fulfilled"], r["hours"]] for r in rows],
                  note=_("Members: confirmed reports-in now. Wishes: adopted in the period, and of those fulfilled. "
                         "Hours: confirmed services that started in the period."))
    tables = [table]
    if area is not None:
        # Those on the place, above it, and on the streets and communities under it.
        above = area.get_ancestors(include_self=True).values_list("pk", flat=True)
        below = area.get_descendants().filter(kind__in=(AreaKind.STREET, AreaKind.COMMUNITY)).values_list(
            "pk", flat=True)
        ids = [*above, *below]
        leaders = [[liaison.user.full_name or liaison.user.username, liaison.get_level_display(), liaison.area.name]
                   for liaison in liaisons_over(ids)]
        tables.append(Table("liaisons", _("Leaders looking after this place (包片)"),
                            [_("Leader"), _("Level"), _("Place")], leaders))
    return tables
