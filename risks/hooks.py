"""What the risks app asks of the apps beside it, provided by the top layer (hub/wiring.py).

A risk that needs work, or a patrol finding the worker cannot fix herself,
becomes a case: the risks pages offer the case categories, the service opens
the case inside its own transaction (as a grid worker's patrol report), and the
pages link to it when the user may see it. The warning sweep asks for the case rule
and has its notices written to the outbox the same way. risks names no other domain app.
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
open_case_number = Hook(
    "risks.hooks.open_case_number",
    "open_case_number(case_id) -> the case's number while it is still open (not closed, rejected or referred), "
    "else None: a risk is not written off while the work on it is open.",
)
case_visible_to = Hook(
    "risks.hooks.case_visible_to",
    "case_visible_to(user, case) -> whether the user may open the case's page.",
)
case_warning_candidates = Hook(
    "risks.hooks.case_warning_candidates",
    "case_warning_candidates(*, rules, now) -> [risks.early_warning.Candidate, ...]: the rules that read "
    "cases or residents (case_repeat, grid_overdue, report_rise, key_person_visit); `rules` is "
    "{rule kind: {district_id: RuleSetting}} for the districts where each is enabled. The warning sweep "
    "raises them with its own.",
)
notify_staff = Hook(
    "risks.hooks.notify_staff",
    "notify_staff(*, messages, now) -> rows written: messages are (recipients, subject, body) with recipients "
    "(user_id, email) pairs; written to the outbox in the caller's transaction, sent after commit.",
)
