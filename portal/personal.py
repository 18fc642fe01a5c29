"""Names and phones kept outside the residents' records: reporters of cases,
received reports and Open311 requests, people who order a volunteer.

They are kept the residents' way (PIPL art. 28, 51), with the primitives of
portal/identity.py (the phone's normal form and mask, the keys): encrypted at
rest (django-fernet-encrypted-fields), a masked copy in a plain column for lists,
exports and the admin, and a blind index only where something is looked up by
the value (nothing looks a reporter up). A full value is shown only by a logged
reveal (grid/privacy/services.py `personal_reveal`). This module adds what those
records need beyond a resident's: a name's mask, the columns written together,
the data migration of rows kept in plain text before, and a sealer for the seeders.

Nothing here logs or formats a full value into a message.
"""

import re

from cryptography.fernet import InvalidToken

from portal.errors import DomainError
from portal.identity import (  # noqa: F401  (re-exported for the apps that keep names and phones)
    UndecryptableError,
    decrypt_token,
    fernet,
    forget_field_keys,
    mask_phone,
    normalize_phone,
)


# --- names and phones that are not looked up ----------------------------------------

def mask_name(name: str) -> str:
    """张** / 欧*** / J***: the first character, the rest starred (at most three stars).

    Enough for staff to tell two reporters apart on a list, not to identify one.
    """
    name = " ".join(str(name or "").split())
    if not name:
        return ""
    return name[0] + "*" * max(1, min(len(name) - 1, 3))


def mask_any_phone(raw: str) -> str:
    """The mask of a phone as typed: normalised first when it is a mainland number, else its last four."""
    raw = str(raw or "").strip()
    if not raw:
        return ""
    try:
        return mask_phone(normalize_phone(raw))
    except DomainError:
        return mask_phone(re.sub(r"\s", "", raw))


def name_and_phone_columns(*, name_field, phone_field, name, phone):
    """The stored columns of a name and a phone kept without an index: encrypted value and mask.

    An empty value is stored as NULL with an empty mask, so "nothing recorded"
    and "anonymised" read the same everywhere.
    """
    name = " ".join(str(name or "").split())
    phone = str(phone or "").strip()
    return {
        name_field: name or None, f"{name_field}_masked": mask_name(name),
        phone_field: phone or None, f"{phone_field}_masked": mask_any_phone(phone),
    }


def is_token(value) -> bool:
    """Does `value` read as a Fernet token under the current keys (not a plain value stored before)?"""
    if not value:
        return False
    try:
        decrypt_token(value)
    except UndecryptableError:
        return False
    return True


def encrypt_plain_rows(model, *, name_field, phone_field, batch_size=2000, using="default"):
    """Encrypt and mask the names and phones a table kept in plain text before (a data migration).

    Walks the table by primary-key ranges (never OFFSET, never the whole table in
    memory) and writes each range in its own transaction, so a million rows take
    a bounded amount of memory and an interrupted run resumes: values already
    encrypted are recognised and left alone. Each range is one executemany of a
    plain UPDATE by primary key (psycopg pipelines it): Django's bulk_update
    builds a CASE WHEN per column and row, which cost 2.5 ms a row in Python
    alone (bench/privacy_migration_bench.py). Returns rows changed.
    """
    from django.db import connections, transaction
    from django.db.models import Max, Min, TextField
    from django.db.models.functions import Cast

    connection = connections[using]
    manager = model._base_manager.using(using)
    bounds = manager.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return 0
    keys = fernet()
    fields = [model._meta.get_field(name) for name in
              (name_field, f"{name_field}_masked", phone_field, f"{phone_field}_masked")]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(model._meta.db_table)} SET "
           + ", ".join(f"{quote(f.column)} = %s" for f in fields)
           + f" WHERE {quote(model._meta.pk.column)} = %s")
    changed = 0
    for start in range(bounds["lo"], bounds["hi"] + 1, batch_size):
        rows = (manager.filter(pk__gte=start, pk__lt=start + batch_size)
                .annotate(raw_name=Cast(name_field, TextField()), raw_phone=Cast(phone_field, TextField()))
                .values_list("pk", "raw_name", "raw_phone"))
        params = []
        for pk, raw_name, raw_phone in rows:
            if not any(raw is not None and not _opens(raw, keys) for raw in (raw_name, raw_phone)):
                continue
            values = name_and_phone_columns(name_field=name_field, phone_field=phone_field,
                                            name=_plain(raw_name, keys), phone=_plain(raw_phone, keys))
            params.append([f.get_db_prep_save(values[f.name], connection) for f in fields] + [pk])
        if params:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.executemany(sql, params)
            changed += len(params)
    return changed


def _plain(raw, keys):
    """A stored value as plain text: decrypted if it is a token, else as it was stored."""
    return decrypt_token(raw, using=keys) if raw is not None and _opens(raw, keys) else raw


def _opens(value, keys):
    try:
        keys.decrypt(value.encode())
    except (InvalidToken, UnicodeError):
        return False
    return True


class Sealer:
    """Encrypt and mask a name and a phone for loaders that write rows without the ORM (the seeders).

    Derives the keys once (a field derives them on first use too); each call
    returns (encrypted name, masked name, encrypted phone, masked phone) as the
    columns are ordered on every model that keeps both.
    """

    def __init__(self):
        self._fernet = fernet()

    def _seal(self, value):
        return self._fernet.encrypt(value.encode()).decode() if value else None

    def __call__(self, name, phone):
        return self._seal(name), mask_name(name), self._seal(phone), mask_any_phone(phone)
