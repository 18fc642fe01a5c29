"""Free text typed by people, checked the same way by every app's services."""

from django.utils.translation import gettext as _

from .errors import DomainError

TEXT_MAX = 4000


def clean_text(value, *, field, required=True, limit=TEXT_MAX):
    """The text stripped; DomainError when it is required and blank, or longer than `limit`."""
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("Please fill in the %(field)s.") % {"field": field}, code="blank")
    if len(text) > limit:
        raise DomainError(
            _("The %(field)s is too long (at most %(n)d characters).") % {"field": field, "n": limit},
            code="too_long",
        )
    return text


def clean_line(value, *, label, limit, required=True):
    """One line of text (a name, a title, a short note): runs of whitespace become one space.
    DomainError naming `label` when it is required and blank, or longer than `limit`."""
    text = " ".join(str(value or "").split())
    if required and not text:
        raise DomainError(_("%(what)s is empty.") % {"what": label}, code="blank")
    if len(text) > limit:
        raise DomainError(_("%(what)s has at most %(n)d characters.") % {"what": label, "n": limit}, code="too_long")
    return text
