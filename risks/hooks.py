"""What the risks app asks of the apps beside it, provided by the top layer (hub/wiring.py).

A risk that needs work, or a patrol finding the worker cannot fix herself,
becomes a case: the risks pages offer the case categories, the service opens
the case inside its own transaction (as a grid worker's patrol report), and the
pages link to it when the user may see it. risks names no other domain app.
"""

from portal.hooks import Hook

case_category_choices = Hook(
    "risks.hooks.case_category_choices",
    "case_category_choices() -> [(group name, [(code, name), ...]), ...]: what a case opened from a risk may be.",
)
open_case = Hook(
    "risks.hooks.open_case",
    "open_case(*, category, description, grid, building, unit, acting_user, now) -> the case, written in the "
    "caller's transaction (a patrol report, registered and dispatched at once); DomainError if refused.",
)
case_visible_to = Hook(
    "risks.hooks.case_visible_to",
    "case_visible_to(user, case) -> whether the user may open the case's page.",
)
