"""What the volunteers app asks of the apps beside it, provided by the top layer (hub/wiring.py).

A volunteer may be a registered resident; the admin offers the residents the
staff member reaches, through the residents app's scoping selector, which
volunteers reaches by this hook without importing residents.
"""

from portal.hooks import Hook

residents_visible_to = Hook(
    "volunteers.hooks.residents_visible_to",
    "residents_visible_to(user) -> the residents `user` reaches (residents.selectors' scoping).",
)

households_visible_to = Hook(
    "volunteers.hooks.households_visible_to",
    "households_visible_to(user) -> the households `user` reaches (residents.selectors' scoping); "
    "the households' points card is read and written through it.",
)
