"""What participation asks of the apps beside it, provided by the top layer (hub/wiring.py).

Recurring cases become proposals (clusters): participation reads which cases a
proposal may be made from through this hook, and names no other domain app.
"""

from portal.hooks import Hook

cases_for_proposals = Hook(
    "participation.hooks.cases_for_proposals",
    "cases_for_proposals(user) -> the cases `user` sees that a proposal may be made from (never a mediation: "
    "those are private disputes the public board would name); user=None: all of them (the demo seeder). "
    "A queryset with grid, category, created_at and number.",
)

# The households' points card (社会治理积分卡) lives on the volunteers' ledger. Each is called inside the
# transaction that confirms the event, and credits the household once per event (a unique source key).
support_confirmed = Hook(
    "participation.hooks.support_confirmed",
    "support_confirmed(*, support, household, now) -> points on the household's card for a confirmed support.",
)
attendance_confirmed = Hook(
    "participation.hooks.attendance_confirmed",
    "attendance_confirmed(*, attendance, household, now) -> points on the household's card for attending "
    "a deliberation meeting.",
)
