"""The small wish's (微心愿) states: one table, nothing else assigns a status.

    posted --adopt--> adopted --fulfil--> fulfilled --confirm--> confirmed
    posted --withdraw--> withdrawn
    adopted --release--> posted      (its adopter's report-in ended before they fulfilled it)
"""

from django.utils.translation import gettext_lazy as _

from .models import WishStatus

# action: (from, to, what the refusal says when the wish is elsewhere)
TRANSITIONS = {
    "adopt": (WishStatus.POSTED, WishStatus.ADOPTED, _("This wish is no longer open: someone has adopted it.")),
    "fulfil": (WishStatus.ADOPTED, WishStatus.FULFILLED, _("Only an adopted wish can be fulfilled.")),
    "confirm": (WishStatus.FULFILLED, WishStatus.CONFIRMED, _("Only a fulfilled wish can be confirmed.")),
    "withdraw": (WishStatus.POSTED, WishStatus.WITHDRAWN, _("Only an open wish can be withdrawn.")),
    "release": (WishStatus.ADOPTED, WishStatus.POSTED, _("Only an adopted wish not yet fulfilled goes back.")),
}


def actions_from(status):
    return [action for action, (source, _target, _refusal) in TRANSITIONS.items() if source == status]
