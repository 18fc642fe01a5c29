"""View modules imported when one of their pages is first asked for, not when the URLconf loads.

Issue #24 (worker memory): the URLconf named every view, so each web worker imported all 106
view, form and API modules of the portal (~5.6 MB of its heap) on its first request, though a
worker mostly serves a handful of pages. A URL module writes

    views, views_public = view_modules(__package__, "views", "views_public")

and keeps `path("cases/", views.board, name="board")`. `views.board` is a stand-in that knows
only its dotted name until it is called or asked for an attribute (the CSRF middleware asks a
view whether it is `csrf_exempt`), then imports its module once and behaves as the view.
Reversing URLs, and resolving one, import nothing but the view that matched.
"""

import inspect
from importlib import import_module

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Reversing URLs asks each pattern's view whether it is class-based (URLPattern.lookup_str):
# answered without importing; a view module's pages are functions.
_NOT_ON_A_FUNCTION = frozenset({"view_class", "view_initkwargs"})


class LazyView:
    def __init__(self, module, name):
        self.__module__ = module
        self.__name__ = self.__qualname__ = name
        self._view = None

    def _load(self):
        if self._view is None:
            view = getattr(import_module(self.__module__), self.__name__)
            # Django tells a coroutine view by its own code flags, which a stand-in cannot carry:
            # it would call one as if it were synchronous. Such a view is named directly.
            if inspect.iscoroutinefunction(view) or inspect.isclass(view):
                raise ImproperlyConfigured(f"{self!r} is async or a class: name it directly in the URL conf.")
            self._view = view
        return self._view

    def __call__(self, *args, **kwargs):
        return self._load()(*args, **kwargs)

    def __getattr__(self, name):
        # Only reached for what the stand-in does not hold itself.
        if name.startswith("__") or (self._view is None and name in _NOT_ON_A_FUNCTION):
            raise AttributeError(name)
        return getattr(self._load(), name)

    def __repr__(self):
        return f"<lazy view {self.__module__}.{self.__name__}>"


class ViewModule:
    """Hands out a LazyView for each attribute: `module.view_name`."""

    def __init__(self, name):
        self._name = name
        self._views = {}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._views:
            self._views[name] = LazyView(self._name, name)
        return self._views[name]


def view_modules(package, *names):
    modules = tuple(ViewModule(f"{package}.{name}") for name in names)
    return modules[0] if len(modules) == 1 else modules


def lazy_views_in(resolver):
    """The stand-ins of every pattern under `resolver`."""
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):
            yield from lazy_views_in(pattern)
        elif isinstance(pattern.callback, LazyView):
            yield pattern.callback


@checks.register(checks.Tags.urls)
def check_lazy_views(app_configs=None, **kwargs):
    """What Django checks of a view when the URL conf loads, checked here since loading no longer
    imports the views: each stand-in names a view that exists, is a function and is not async."""
    from django.urls import get_resolver

    errors = []
    for view in lazy_views_in(get_resolver()):
        try:
            view._load()
        except (ImportError, AttributeError, ImproperlyConfigured) as error:
            errors.append(checks.Error(f"The URL conf names {view!r}, which is not a view it can use: {error}",
                                       obj=view, id="portal.E101"))
    return errors
