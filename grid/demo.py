"""The demo accounts seed_city creates at demo scale (one per role)."""

from django.utils.translation import gettext_lazy as _

DEMO_PASSWORD = "portal-demo-2026"

# username → what the account is for (the role is given by its posts).
DEMO_ACCOUNTS = {
    "admin": _("administrator (everything)"),
    "district": _("district official"),
    "street": _("street staff"),
    "community": _("community staff (admin)"),
    "gridworker": _("grid worker (phone)"),
    "gridchief": _("grid chief"),
    "buildingchief": _("building chief"),
    "unitchief": _("unit chief"),
    "chengguan": _("street law-enforcement squad (organisation staff, phone)"),
    "mediator": _("people's mediator (phone)"),
    # No post: made by the party seeder (residents/party/seed.py), reported in to the demo community.
    "partymember": _("party member reported in (双报到, phone)"),
}
