"""The portal's admin site: the community staff's workplace (社区工作人员的工作台).

Django's default index lists apps alphabetically under "Django 管理", with the
outbox and the working hours in front of staff. Here the index follows the
day's work: to-do first, then cases, residents, volunteers, participation,
mediation, risks and places; the system tables (outbox, notifications, working
hours, API keys, sign-in records) sit in a last section that only
administrators (superusers: an unrestricted scope) see.

The site lives in the lowest layer and names models only by their labels. The
to-do entries come from the apps above: each registers a provider with
`admin.site.register_todo()` (cases/admin_workflow.py does), so nothing here
imports a domain app.

Installed through `PortalAdminConfig` (the INSTALLED_APPS entry that replaces
"django.contrib.admin"), so `admin.site` and every `@admin.register` use it.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _

# (key, title, model labels in the order staff meet them). A model no section names
# goes to "other", shown to all who may open it: never hidden by accident.
SECTIONS = (
    ("cases", _("Cases"), (
        "cases.Intake", "cases.Case", "hotline.HotlineOrder", "cases.Category", "cases.RoutingRule",
        "cases.GridExclusion", "cases.OrgLimit")),
    ("residents", _("Residents"), (
        "residents.Resident", "residents.Household", "residents.CareVisit", "residents.Tag",
        "residents.ResidentEvent", "residents.AccessLog")),
    ("volunteers", _("Volunteers"), (
        "volunteers.Volunteer", "volunteers.Order", "volunteers.Activity", "volunteers.ServiceRecord",
        "volunteers.Team", "volunteers.Station", "volunteers.Account", "volunteers.LedgerTransaction",
        "volunteers.CatalogueItem", "volunteers.Redemption", "volunteers.Honour")),
    ("participation", _("Residents' participation"), (
        "participation.Proposal", "participation.Meeting", "participation.Track", "participation.Project")),
    ("mediation", _("Mediation"), ("cases.Mediation", "cases.MediationRoom")),
    ("risks", _("Risks and patrols"), (
        "risks.Risk", "risks.Patrol", "risks.InspectionPlan", "risks.Duty", "risks.AdmittedService")),
    ("places", _("Places and people"), (
        "grid.Area", "grid.Building", "grid.Unit", "grid.Post", "grid.Organisation", "grid.User",
        "grid.AreaEvent", "privacy.PersonalDataAccess")),
)
OTHER = ("other", _("Other"))
# Technical tables: administrators only. Whole apps by their label, or single models.
SYSTEM = ("system", _("System (administrators)"))
SYSTEM_APPS = frozenset({"auth", "axes", "otp_totp", "open311", "workcalendar"})
SYSTEM_MODELS = frozenset({"cases.Delivery", "cases.Notification"})
TODO = ("todo", _("To do today"))

# How far a to-do count goes before it says "99+": a count is a capped scan, never a full one.
TODO_COUNT_CAP = 99


def is_system(label):
    return label in SYSTEM_MODELS or label.split(".")[0] in SYSTEM_APPS


def is_administrator(user):
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


class PortalAdminSite(admin.AdminSite):
    site_header = _("Grid governance portal · staff workplace")
    site_title = _("Grid governance portal")
    index_title = _("Today's work")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._todo_providers = []

    def register_todo(self, provider):
        """Add a to-do provider: `provider(request)` returns [(label, url, rows), ...] where `rows` is None
        or a callable giving the queryset to count; nothing when the user has no such work.
        Returns the provider, so it can decorate."""
        self._todo_providers.append(provider)
        return provider

    def _todo_section(self, request, counted):
        models = []
        for provider in self._todo_providers:
            for label, url, rows in provider(request):
                name = label
                if counted and rows is not None:
                    found = len(rows().values("pk")[:TODO_COUNT_CAP + 1])
                    shown = f"{TODO_COUNT_CAP}+" if found > TODO_COUNT_CAP else str(found)
                    name = f"{label}（{shown}）"
                models.append({"name": name, "object_name": "todo", "admin_url": url, "add_url": None,
                               "view_only": True, "perms": {"view": True}, "model": None})
        if not models:
            return None
        return self._section(TODO, models)

    @staticmethod
    def _section(key_title, models):
        key, title = key_title
        return {"name": title, "app_label": key, "app_url": models[0]["admin_url"], "has_module_perms": True,
                "models": models, "section": True}

    def get_app_list(self, request, app_label=None):
        administrator = is_administrator(request.user)
        if app_label is not None:
            # An app's own index page (/admin/<app>/): Django's, without the system tables for staff.
            apps = super().get_app_list(request, app_label)
            for app in apps:
                app["models"] = [m for m in app["models"]
                                 if administrator or not is_system(f"{app['app_label']}.{m['object_name']}")]
            return [app for app in apps if app["models"]]

        cached = getattr(request, "_portal_app_list", None)
        if cached is not None:
            return cached
        by_label = {}
        for app in self._build_app_dict(request).values():
            for model in app["models"]:
                by_label[f"{app['app_label']}.{model['object_name']}"] = model
        sections, placed = [], set()
        todo = self._todo_section(request, counted=getattr(request, "_portal_index", False))
        if todo is not None:
            sections.append(todo)
        for key, title, labels in SECTIONS:
            models = [by_label[label] for label in labels if label in by_label and not is_system(label)]
            placed.update(labels)
            if models:
                sections.append(self._section((key, title), models))
        other = [m for label, m in by_label.items() if label not in placed and not is_system(label)]
        if other:
            sections.append(self._section(OTHER, sorted(other, key=lambda m: str(m["name"]))))
        if administrator:
            system = [m for label, m in by_label.items() if is_system(label)]
            if system:
                sections.append(self._section(SYSTEM, sorted(system, key=lambda m: str(m["name"]))))
        request._portal_app_list = sections
        return sections

    def index(self, request, extra_context=None):
        # The counts on the to-do entries: on the index only, not in every page's sidebar.
        request._portal_index = True
        request._portal_app_list = None
        return super().index(request, extra_context)


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"

    def ready(self):
        super().ready()
        # The portal package's one app config registers its URL conf check (portal/lazy_views.py).
        from portal import lazy_views  # noqa: F401
