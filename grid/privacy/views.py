"""The register of processing activities (个人信息处理活动记录), for administrators.

Every row is read from the activities the apps declare (registry.py) and the
settings in force: nothing on this page is written by hand.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from encrypted_fields.fields import EncryptedFieldMixin

from grid.models import Role
from grid.views import render_page

from . import registry


def _roles(roles):
    if isinstance(roles, str) or not isinstance(roles, (tuple, list)):
        return [str(roles)]
    return [str(Role(r).label) for r in roles]


def _field_row(activity, name):
    model = activity.model_class
    field = model._meta.get_field(name)
    names = {f.name for f in model._meta.get_fields()}
    if isinstance(field, EncryptedFieldMixin):
        kept = _("encrypted")
        if activity.masked_as.get(name, f"{name}_masked") in names:
            kept += _(", shown masked")
    else:
        kept = _("plain")
    if name in activity.indexed:
        kept += _(", blind index")
    who = _roles(activity.reveal_roles.get(name, ())) if name in activity.reveal_roles else []
    if who and activity.also_revealed_by_text:
        who.append(str(activity.also_revealed_by_text))
    return {"name": field.verbose_name, "kept": kept, "reveal": who}


def register_rows(*, now):
    rows = []
    for act in registry.activities():
        days = act.retention_days
        rows.append({
            "key": act.key, "title": act.title, "purpose": act.purpose, "legal_basis": act.legal_basis,
            "model": act.model_class._meta.verbose_name_plural, "table": act.model_class._meta.db_table,
            "fields": [_field_row(act, f) for f in act.fields],
            "seen_masked_by": _roles(act.seen_masked_by),
            "retention_days": days, "retention_setting": act.retention_setting,
            "retention_basis": act.retention_basis,
            "due": act.expired(now).count() if act.expired is not None else None,
        })
    return rows


@login_required
@require_GET
def processing_register(request):
    if not request.user.is_superuser:
        raise PermissionDenied
    now = timezone.now()
    return render_page(request, "privacy/register.html", {"rows": register_rows(now=now), "now": now})
