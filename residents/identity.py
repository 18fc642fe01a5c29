"""ID numbers: validation (GB 11643 through python-stdnum) and the masked form.
Phones, the blind index and the encryption keys live in portal/personal.py
(every app stores phones the same way) and are re-exported here.

Nothing here logs or formats a full value into a message: errors name the
problem, never the number.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from portal.errors import DomainError

# Shared with every app that stores a phone (portal/personal.py); re-exported for residents' callers.
from portal.personal import (  # noqa: F401
    UndecryptableError,
    blind_index,
    decrypt_token,
    derived_keys,
    fernet,
    forget_encrypted_field_keys,
    mask_phone,
    normalize_phone,
)


@dataclass(frozen=True)
class IdNumber:
    """A checked 18-character resident identity card number (居民身份证号码)."""

    value: str
    birth_date: datetime.date
    gender: str  # "M" or "F": the 17th digit, odd for men
    warning: str = ""  # e.g. an area code python-stdnum does not know (new or renamed counties)


def parse_id_number(raw, *, today=None) -> IdNumber:
    """Check a number against GB 11643: length, digits, birth date, check digit.

    An area code missing from python-stdnum's table is a warning, not an error:
    counties are created and renamed faster than the table follows.
    Raises DomainError(code="bad_id_number") with a message fit for the person
    who typed it.
    """
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
    try:
        ric.get_birth_place(number)
    except stdnum_errors.ValidationError:
        warning = _("Area code %(code)s is not in the reference table; check it is right.") % {
            "code": number[:6]
        }
    gender = "M" if int(number[16]) % 2 else "F"
    return IdNumber(value=number, birth_date=birth_date, gender=gender, warning=warning)


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


# --- encryption keys -------------------------------------------------------------
# django-fernet-encrypted-fields derives one Fernet key per (secret, salt):
# SECRET_KEY then SECRET_KEY_FALLBACKS, each with every SALT_KEY in order. The
# first key encrypts; all of them decrypt. The field caches the derived keys on
# itself (cached_property `keys` and `f`); `forget_field_keys` drops them after
# the settings changed (tests, the rotation commands).

ENCRYPTED_FIELDS = ("id_number", "phone")


def forget_field_keys():
    """Make the encrypted fields (the residents' and every other app's) derive their keys again."""
    forget_encrypted_field_keys()


