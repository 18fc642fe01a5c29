"""What a page needs to show a record's personal fields masked, each with its reveal form."""

from django.contrib import messages

from portal.errors import DomainError

from . import registry
from .forms import RevealForm
from .selectors import can_reveal
from .services import personal_reveal


def reveal_items(user, record, fields, *, bound=None, revealed=None):
    """[{field, label, masked, form, value}] for `fields` [(field name, label)] of `record`.

    `masked` is read from the stored masked column, never by decrypting; a form is
    offered only where the user may reveal and something is recorded.
    """
    revealed = revealed or {}
    items = []
    for name, label in fields:
        masked = getattr(record, f"{name}_masked")
        activity = registry.activity_for(record, name)
        form = None
        value = revealed.get(name, "")
        if masked and not value and activity is not None and can_reveal(user, activity, record, name):
            form = bound if bound is not None and bound.prefix == name else RevealForm(prefix=name,
                                                                                      initial={"field": name})
        items.append({"field": name, "label": label, "masked": masked, "form": form, "value": value})
    return items


def handle_reveal(request, record, fields):
    """Run a POSTed reveal on `record`; returns (items for the page, HTTP status).

    Each field's form carries its own prefix ("reporter_phone-reason"), so a page
    can show several. Refusals become form errors and a message, never a 500.
    """
    names = {name for name, _label in fields}
    prefix = next((k.removesuffix("-field") for k in request.POST
                   if k.endswith("-field") and k.removesuffix("-field") in names), None)
    form = RevealForm(request.POST, prefix=prefix)
    revealed, status = {}, 200
    if prefix is None:
        status = 400
        form = None
    elif form.is_valid() and form.cleaned_data["field"] == prefix:
        try:
            revealed[prefix] = personal_reveal(record=record, field=prefix, reason=form.cleaned_data["reason"],
                                               acting_user=request.user)
            form = None
        except DomainError as error:
            form.add_error("reason" if error.code == "no_reason" else None, str(error))
            messages.error(request, str(error))
            status = 403 if error.code == "forbidden" else 400
    else:
        status = 400
    return reveal_items(request.user, record, fields, bound=form, revealed=revealed), status
