"""What the residents app asks of the apps beside it, provided by the top layer (hub/wiring.py).

A care visit's follow-up becomes a case (走访转案件): the resident page offers the
case categories, the service opens the case inside its own transaction, and the
view sends the worker on to the case page when they may see it. residents names
no other domain app; these hooks are how it reaches the cases app.
"""

from portal.hooks import Hook

case_category_choices = Hook(
    "residents.hooks.case_category_choices",
    "case_category_choices() -> [(group name, [(code, name), ...]), ...]: what a case opened from a "
    "visit may be about.",
)
open_case_for_visit = Hook(
    "residents.hooks.open_case_for_visit",
    "open_case_for_visit(*, category, description, building, acting_user, now) -> the case, written in the "
    "caller's transaction (a grid worker's patrol report at the resident's building); DomainError if refused.",
)
case_visible_to = Hook(
    "residents.hooks.case_visible_to",
    "case_visible_to(user, case) -> whether the user may open the case's page.",
)
household_stars = Hook(
    "residents.hooks.household_stars",
    "household_stars(building_ids, *, now=None) -> {building id: [(masked room, stars), ...]}: the households' "
    "points-card stars a building's notice board shows; only for communities that enabled them, never a score.",
)
