"""Personal data outside and inside the residents' records: phones, names, the
blind index, the masked forms, and the encryption keys of the stored values.

Every app that stores a person's name or phone (residents, the reporters of
cases and received reports, the people who order a volunteer) keeps it the
same way (PIPL art. 28, 51): encrypted at rest (django-fernet-encrypted-fields,
keys rotatable), a masked copy in a plain column for lists, searches and
exports, and a blind index only where something is looked up by the value.
A full value is shown only by a logged reveal (residents/services.py
`resident_reveal`, grid/privacy/services.py `personal_reveal`).

Nothing here logs or formats a full value into a message: errors name the
problem, never the number. This module sits in the lowest layer (portal), so
every app may use it; residents/identity.py re-exports what it always had.
"""

import base64
import re
import unicodedata

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from encrypted_fields.fields import EncryptedFieldMixin

from portal.errors import DomainError

_MOBILE = re.compile(r"\A1[3-9]\d{9}\Z")
# Area code (3 characters for Beijing 010 and the 02x cities, else 4) and a
# local number of 7 or 8 digits that does not start with 0.
_LANDLINE = re.compile(r"\A(010|02\d|0[3-9]\d{2})-?([1-9]\d{6,7})\Z")


def normalize_phone(raw) -> str:
    """A mainland mobile (11 digits from 13…19) or a landline, in one canonical form.

    Mobiles are 11 bare digits; landlines are "area-local" (010-12345678)
    however they were typed ("(010)12345678", "01012345678", "+86 10 1234 5678"),
    so the blind index finds a number whatever its spelling.
    """
    phone = re.sub(r"[\s()\-.]", "", unicodedata.normalize("NFKC", str(raw or "")))
    international = False
    if phone.startswith("+86"):
        phone, international = phone[3:], True
    elif phone.startswith("0086"):
        phone, international = phone[4:], True
    if not phone and not international:
        return ""
    if not phone.isascii():
        raise DomainError(_("That is not a mainland mobile or landline number."), code="bad_phone")
    if _MOBILE.match(phone):
        return phone
    if international and not phone.startswith("0"):
        phone = "0" + phone  # +86 10 … drops the trunk 0 of the area code
    match = _LANDLINE.match(phone)
    if not match:
        raise DomainError(_("That is not a mainland mobile or landline number."), code="bad_phone")
    return f"{match[1]}-{match[2]}"


def mask_phone(phone: str) -> str:
    """138****5678 for a mobile; a landline keeps its area code and last four (010-****5678)."""
    if not phone:
        return ""
    if len(phone) == 11 and phone.isascii() and phone.isdigit() and phone.startswith("1"):
        return f"{phone[:3]}****{phone[-4:]}"
    area, dash, local = phone.partition("-")
    if dash and area and len(local) >= 7:
        return f"{area}-****{local[-4:]}"
    # Not a normalised phone: show no more than the last four.
    return "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)


def blind_index(kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised value under RESIDENT_INDEX_KEY.

    The key is not the encryption key and does not rotate with it: rotating it
    means recomputing every index (manage.py reindex_residents).
    """
    if not settings.RESIDENT_INDEX_KEY:
        # An empty key would still hash: every index guessable from a list of
        # ID numbers. Refuse instead.
        raise ImproperlyConfigured("RESIDENT_INDEX_KEY is empty.")
    return salted_hmac(f"residents.{kind}", value, secret=settings.RESIDENT_INDEX_KEY,
                       algorithm="sha256").hexdigest()


class UndecryptableError(Exception):
    """A stored value none of the configured keys opens (a salt or secret removed too early)."""


def derived_keys():
    """The Fernet keys the settings give now, the encrypting one first (as the library derives them)."""
    salts = settings.SALT_KEY if isinstance(settings.SALT_KEY, (list, tuple)) else [settings.SALT_KEY]
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    keys = []
    for secret in secrets:
        for salt in salts:
            kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt.encode(), iterations=100_000)
            keys.append(base64.urlsafe_b64encode(kdf.derive(secret.encode())))
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_SALTS is empty: no key to encrypt residents' data with.")
    return keys


def fernet():
    """A MultiFernet over the current keys (first encrypts, all decrypt)."""
    return MultiFernet([Fernet(k) for k in derived_keys()])


def decrypt_token(token, *, using=None) -> str:
    """The plain value of a stored token, or UndecryptableError.

    The field itself hands back the token unchanged when no key opens it; code
    that must not mistake a token for a value (reveal, rotation) decrypts here.
    """
    if token is None:
        return None
    try:
        return (using or fernet()).decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeError):
        raise UndecryptableError("no configured key decrypts this value") from None


def forget_encrypted_field_keys():
    """Make every encrypted field of every model derive its keys again from the settings.

    The fields cache the derived keys on themselves (cached_property `keys`
    and `f`); tests and the rotation commands change the settings under them.
    """
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, EncryptedFieldMixin):
                field.__dict__.pop("keys", None)
                field.__dict__.pop("f", None)


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
