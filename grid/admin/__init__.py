"""The Django admin for community staff (社区工作人员): places, buildings, units,
posts, people and place history.

Two rules hold for every admin here, through `ScopedAdminMixin`:

- What a staff member sees comes from one selector in grid/selectors.py, asked
  with `managing=True` (their managing posts only: district official, street
  staff, community staff); permissions come from those posts, not from
  Django's permission table. Anything outside answers 404, the same as a row
  that does not exist.
- Every structural write is one call into grid/services.py. A refusal
  (DomainError) is shown on the page in the user's language and the
  transaction around the request leaves the database as it was.

Built for a city of 10,000 grids and 250,000 buildings: every foreign key is an
autocomplete, changelists select their related rows in the same query, and no
page renders the whole tree.

One module per model: `places.py` (Area), `buildings.py` (Building, Unit),
`compounds.py`, `liaisons.py` (包片), `posts.py`, `organisations.py`, `users.py` (User, with its posts inline), `history.py` (AreaEvent),
`twofactor.py` (authenticator devices, administrators only),
all on the shared part in `scoped.py`. Importing this package registers them
all, and the reference data of grid/admin_reference.py.
"""

# The shared part first: the other apps' admins import these names from grid.admin.
from ..selectors import is_manager
from .scoped import (
    BOTH_LOCATIONS,
    ReadOnlyInline,
    ReadOnlyScopedAdmin,
    ScopedAdminMixin,
    adopt,
    autocomplete_source,
    managing_view,
    post_area,
    takes_managing,
)

# One module per model (importing them registers their admins).
from .places import AreaAdmin
from .buildings import BuildingAdmin, UnitAdmin
from .compounds import CompoundAdmin
from .liaisons import LiaisonAdmin
from .posts import PostAdmin
from .organisations import OrganisationAdmin
from .users import UserAdmin
from .history import AreaEventAdmin
from .twofactor import AuthenticatorDeviceAdmin

# City-wide reference data and the working calendar's admin (a module of its own).
from .. import admin_reference  # noqa: F401

__all__ = [
    "BOTH_LOCATIONS", "AreaAdmin", "CompoundAdmin", "LiaisonAdmin", "AreaEventAdmin", "AuthenticatorDeviceAdmin", "BuildingAdmin", "OrganisationAdmin", "PostAdmin", "ReadOnlyInline", "ReadOnlyScopedAdmin", "ScopedAdminMixin", "UnitAdmin",
    "UserAdmin", "adopt", "autocomplete_source", "is_manager", "managing_view", "post_area", "takes_managing",
]
