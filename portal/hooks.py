"""Hooks: a function one app calls and an app above it provides.

The domain apps (cases, residents, volunteers) sit side by side and never
import each other. When one needs what only another can give (residents need a
case opened for a care visit), it declares a Hook in its own hooks.py and calls
it; the top layer (hub/wiring.py, run by HubConfig.ready()) registers the
implementation. The app that calls names no other app, and a hook nobody
provided fails loudly rather than doing nothing.
"""

from django.core.exceptions import ImproperlyConfigured


class Hook:
    """One implementation, registered once at start-up, called like a function."""

    def __init__(self, name, doc):
        self.name = name
        self.__doc__ = doc
        self._implementation = None

    def register(self, implementation):
        """Provide the implementation (from AppConfig.ready()); returns it, so it can decorate."""
        self._implementation = implementation
        return implementation

    def __call__(self, *args, **kwargs):
        if self._implementation is None:
            raise ImproperlyConfigured(f"Nothing provides {self.name}: is the app that registers it installed?")
        return self._implementation(*args, **kwargs)

    def __repr__(self):
        return f"<Hook {self.name}>"
