from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """A rule of the domain refused a write. The message is for the user (translated).

    Services raise it before touching the database; views, admin actions, API
    endpoints and tasks translate it into a message, a 400 or a log line.
    """

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self):
        return str(self.message)


class PostRefused(PermissionDenied):
    """A page the user's posts do not open, with why in words for the user (translated): the 403 page
    shows it instead of its general text. Django's own refusals carry no such words and keep that text."""
