"""ID numbers and phones: validation (GB 11643 through python-stdnum), the blind
index, the masked forms, and the encryption keys of the stored values.

The one scheme for personal data in the portal: residents' records and
mediation parties (cases) store an ID number and a phone the same way, through
these functions and `EncryptedCharField` (django-fernet-encrypted-fields).
residents/identity.py re-exports them under their old names.

Nothing here logs or formats a full value into a message: errors name the
problem, never the number.
"""

import base64
import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from portal.errors import DomainError


@dataclass(frozen=True)
class IdNumber:
    """A checked 18-character resident identity card number (居民身份证号码)."""

    value: str
    birth_date: datetime.date
    gender: str  # "M" or "F": the 17th digit, odd for men
    warning: str = ""  # e.g. an area code python-stdnum does not know (new or renamed counties)


@functools.lru_cache(maxsize=4096)
def area_code_known(code):
    """Whether python-stdnum's county table holds the code, in any period.

    Not `ric.get_birth_place`: that also wants the county to have existed in the birth year, but a
    number carries the county where it was issued, so everyone born before their county's code was
    assigned (浦东新区 310115 and 涪城区 510703, both coded in 1992) would be warned about."""
    from stdnum import numdb

    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def parse_id_number(raw, *, today=None) -> IdNumber:
    """Check a number against GB 11643: length, digits, birth date, check digit.

    An area code missing from python-stdnum's table is a warning, not an error:
    counties are created and renamed faster than the table follows.
    Raises DomainError(code="bad_id_number") with a message fit for the person
    who typed it.
    """
    # python-stdnum is imported here, by the pages that check a number: it imports pydoc, and a
    # web worker that never checks one need not hold either (issue #24, worker memory).
    from stdnum import exceptions as stdnum_errors
    from stdnum.cn import ric

    # NFKC folds full-width digits and Ｘ (typed on a Chinese IME, or from Excel)
    # into ASCII; spaces and dashes are how people group the 18 characters.
    number = re.sub(r"[\s\-]", "", ric.compact(unicodedata.normalize("NFKC", str(raw or "")))).upper()
    if not number:
        raise DomainError(_("The ID number is empty."), code="bad_id_number")
    if len(number) != 18:
        raise DomainError(
            _("An ID number has 18 characters; this one has %(n)d.") % {"n": len(number)}, code="bad_id_number"
        )
    if not (number.isascii() and number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise DomainError(_("An ID number is 17 digits and a digit or X."), code="bad_id_number")
    try:
        birth_date = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise DomainError(_("The birth date in the ID number is impossible."), code="bad_id_number") from None
    today = today or datetime.date.today()
    if birth_date > today or birth_date.year < 1890:
        raise DomainError(_("The birth date in the ID number is impossible."), code="bad_id_number")
    if number[17] != ric.calc_check_digit(number):
        raise DomainError(_("The check digit of the ID number is wrong (a typing error?)."), code="bad_id_number")
    warning = ""
    if not area_code_known(number[:6]):
        warning = _("Area code %(code)s is not in the reference table; check it is right.") % {
            "code": number[:6]
        }
    gender = "M" if int(number[16]) % 2 else "F"
    return IdNumber(value=number, birth_date=birth_date, gender=gender, warning=warning)


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


# A number someone can be called back on has at least a local landline's 7 digits ("12345" is the hotline).
PHONE_MIN_DIGITS = 7


# A callback number as typed in the free-form phone fields: digits, +, - and spaces.
CALLBACK_PHONE_RE = re.compile(r"^[0-9+\- ]{3,20}$")


def check_callback_phone(phone):
    """Refuse a callback number with characters a phone number does not have, or too few digits.
    The services call it, and the forms that take such a number, so the error sits by its field."""
    if not phone:
        return
    if not CALLBACK_PHONE_RE.match(phone):
        raise DomainError(_("The phone number has characters a phone number does not have."), code="bad_phone")
    check_callback_digits(phone)


def check_callback_digits(phone):
    """Refuse a phone number with too few digits to call back (forms that keep free-form numbers)."""
    if phone and sum(ch.isdigit() for ch in phone) < PHONE_MIN_DIGITS:
        raise DomainError(_("A phone number to call back has at least %(n)d digits.") % {"n": PHONE_MIN_DIGITS},
                          code="bad_phone")


def mask_id_number(number: str) -> str:
    """110101********1234: area code and last four, as Chinese portals show it.

    Anything but a checked 18-character number is masked whole: the birth date
    in the middle never shows.
    """
    if not number:
        return ""
    if len(number) != 18:
        return "*" * min(len(number), 18)
    return f"{number[:6]}********{number[-4:]}"


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
    means recomputing every index (manage.py reindex_residents). The salt names
    the kind only, so a mediation party's index equals the resident's with the
    same number.
    """
    if not settings.RESIDENT_INDEX_KEY:
        # An empty key would still hash: every index guessable from a list of
        # ID numbers. Refuse instead.
        raise ImproperlyConfigured("RESIDENT_INDEX_KEY is empty.")
    return salted_hmac(f"residents.{kind}", value, secret=settings.RESIDENT_INDEX_KEY,
                       algorithm="sha256").hexdigest()


# --- encryption keys -------------------------------------------------------------
# django-fernet-encrypted-fields derives one Fernet key per (secret, salt):
# SECRET_KEY then SECRET_KEY_FALLBACKS, each with every SALT_KEY in order. The
# first key encrypts; all of them decrypt. The field caches the derived keys on
# itself (cached_property `keys` and `f`); `forget_field_keys` drops them after
# the settings changed (tests, the rotation commands).

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


def forget_field_keys():
    """Make every encrypted field of every model derive its keys again from the settings."""
    from django.apps import apps
    from encrypted_fields.fields import EncryptedFieldMixin

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedFieldMixin):
                field.__dict__.pop("keys", None)
                field.__dict__.pop("f", None)


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
