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
