"""Batch machinery shared by `reencrypt_residents` and `reindex_residents`.

Both walk the residents in primary-key order, a batch per transaction, read the
raw stored tokens (cast to text, so the field does not decrypt them, or hand
back a token it cannot open as if it were the value), and write each changed
row with a conditional UPDATE ... WHERE pk = ? AND <column> = <token read>: a
row the application changed meanwhile was written with the current keys
already and is left alone. A run can stop anywhere and be started again
(`--after <last pk printed>`), and a finished run repeated changes nothing.

Nothing here prints or logs a value: only counts and primary keys.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from residents.identity import ENCRYPTED_FIELDS, forget_field_keys
from residents.models import Resident


@dataclass
class Tally:
    rows: int = 0
    changed: int = 0
    current: int = 0
    empty: int = 0
    conflicts: int = 0
    failed: list = field(default_factory=list)
    last_pk: int | None = None


def personal_data_models():
    """Resident, then every other model storing an ID number and a phone the residents' way
    (the mediation parties of the cases app): found by their fields, so no app is imported here."""
    from django.apps import apps
    from encrypted_fields.fields import EncryptedFieldMixin

    others = []
    for model in apps.get_models():
        if model is Resident:
            continue
        names = {f.name: f for f in model._meta.concrete_fields}
        if all(isinstance(names.get(n), EncryptedFieldMixin) for n in ENCRYPTED_FIELDS) and \
                {"id_index", "phone_index"} <= set(names):
            others.append(model)
    return [Resident, *others]


def batches(*, after=0, batch_size=1000, extra=(), model=Resident):
    """Yield lists of (pk, {column: raw token}, *extra) in pk order, each inside its own transaction."""
    annotations = {f"raw_{name}": Cast(name, TextField()) for name in ENCRYPTED_FIELDS}
    columns = ["pk", *annotations, *extra]
    last = after
    while True:
        with transaction.atomic():
            rows = list(
                model.objects.filter(pk__gt=last).order_by("pk").annotate(**annotations)
                .values_list(*columns)[:batch_size]
            )
            if not rows:
                return
            yield rows
        last = rows[-1][0]


def update_if_unchanged(pk, name, token, *, model=Resident, **values):
    """UPDATE one row where its `name` column still holds `token`; True if it did."""
    return bool(model.objects.filter(pk=pk).annotate(_raw=Cast(name, TextField()))
                .filter(_raw=token).update(**values))


def add_common_arguments(parser):
    parser.add_argument("--batch-size", type=int, default=1000, help="Rows per transaction (default 1000).")
    parser.add_argument("--after", type=int, default=0,
                        help="Resume after this primary key (the last one a stopped run printed); "
                             "applies to residents, the other tables (mediation parties) are walked whole.")


def report(command, verb, tally):
    command.stdout.write(
        f"{verb}: rows={tally.rows} changed={tally.changed} already_current={tally.current} "
        f"empty={tally.empty} changed_meanwhile={tally.conflicts} failed={len(tally.failed)}"
    )
    if tally.failed:
        shown = ", ".join(str(pk) for pk in tally.failed[:50])
        more = f" (+{len(tally.failed) - 50} more)" if len(tally.failed) > 50 else ""
        command.stderr.write(f"rows no configured key decrypts (pk): {shown}{more}")


def prepare():
    """The field caches keys derived from the settings at first use; derive them again now."""
    forget_field_keys()
