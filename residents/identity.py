"""ID numbers and phones: validation (GB 11643 through python-stdnum), the blind
index and the masked forms.

Nothing here logs or formats a full value into a message: errors name the
problem, never the number.
"""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from portal.errors import DomainError


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
    number = ric.compact(str(raw or "")).upper()
    if not number:
        raise DomainError(_("The ID number is empty."), code="bad_id_number")
    if len(number) != 18:
        raise DomainError(
            _("An ID number has 18 characters; this one has %(n)d.") % {"n": len(number)}, code="bad_id_number"
        )
    if not (number[:17].isascii() and number[:17].isdigit()) or not (
        number[17].isdigit() or number[17] == "X"
    ):
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


_PHONE = re.compile(r"\A(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})\Z")


def normalize_phone(raw) -> str:
    """A mainland mobile (11 digits from 13…19) or a landline with area code."""
    phone = re.sub(r"[\s()（）]", "", str(raw or ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    if not phone:
        return ""
    if not _PHONE.match(phone):
        raise DomainError(_("That is not a mainland mobile or landline number."), code="bad_phone")
    return phone


def mask_id_number(number: str) -> str:
    """110101********1234: area code and last four, as Chinese portals show it."""
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}" if number else ""


def mask_phone(phone: str) -> str:
    """138****5678 for a mobile; a landline keeps its area code and last four."""
    if not phone:
        return ""
    if len(phone) == 11 and phone.isdigit():
        return f"{phone[:3]}****{phone[-4:]}"
    return f"{phone[:-4].split('-')[0]}-****{phone[-4:]}" if "-" in phone else f"{phone[:4]}****{phone[-4:]}"


def blind_index(kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised value under RESIDENT_INDEX_KEY.

    The key is not the encryption key and does not rotate with it: rotating it
    means recomputing every index (manage.py reindex_residents).
    """
    return salted_hmac(f"residents.{kind}", value, secret=settings.RESIDENT_INDEX_KEY,
                       algorithm="sha256").hexdigest()
