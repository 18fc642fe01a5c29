"""residents/identity.py: GB 11643 ID numbers, phones, masks, the blind index, the keys."""

import datetime
import hashlib

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from hypothesis import assume, given, settings as hsettings, strategies as st
from stdnum.cn import ric

from portal.errors import DomainError
from residents.identity import (
    UndecryptableError,
    blind_index,
    decrypt_token,
    derived_keys,
    fernet,
    mask_id_number,
    mask_phone,
    normalize_phone,
    parse_id_number,
)

from .residents_factories import valid_id_number


@pytest.fixture(autouse=True)
def in_english():
    """The refusals below are matched by their English wording."""
    from django.utils import translation

    with translation.override("en"):
        yield

TODAY = datetime.date(2026, 3, 1)


def with_check(body17):
    return body17 + ric.calc_check_digit(body17 + "0")


# --- ID numbers -----------------------------------------------------------------

def test_a_known_valid_number_parses_with_birth_date_and_gender():
    parsed = parse_id_number("11010519491231002X", today=TODAY)
    assert parsed.value == "11010519491231002X"
    assert parsed.birth_date == datetime.date(1949, 12, 31)
    assert parsed.gender == "F"  # 17th digit 2: even
    assert parsed.warning == ""


def test_check_digit_x_and_lower_case_x():
    body = next(b for d in range(1, 29) if ric.calc_check_digit((b := f"110105198005{d:02d}001") + "0") == "X")
    assert parse_id_number(body + "x", today=TODAY).value == body + "X"
    assert parse_id_number(body + "X", today=TODAY).value == body + "X"


def test_odd_17th_digit_is_male():
    assert parse_id_number(with_check("11010519800517001"), today=TODAY).gender == "M"


def test_full_width_digits_spaces_and_dashes_are_folded():
    number = with_check("11010519800517001")
    full_width = number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    assert parse_id_number(full_width, today=TODAY).value == number
    assert parse_id_number(f" {number[:6]} {number[6:14]}-{number[14:]} ", today=TODAY).value == number


@pytest.mark.parametrize("raw, fragment", [
    ("", "empty"),
    (None, "empty"),
    ("11010519800517001", "18 characters"),
    ("1101051980051700111", "18 characters"),
    ("11010519800517A011", "17 digits"),
    ("1101051980051700１Y", "17 digits"),
    ("ABCDEFGHIJKLMNOPQR", "17 digits"),
])
def test_malformed_numbers_are_refused(raw, fragment):
    with pytest.raises(DomainError, match=fragment) as err:
        parse_id_number(raw, today=TODAY)
    assert err.value.code == "bad_id_number"


def test_non_ascii_digits_are_refused():
    arabic = "١١٠١٠٥١٩٨٠٠٥١٧٠٠١" + "١"
    with pytest.raises(DomainError, match="17 digits"):
        parse_id_number(arabic, today=TODAY)


@pytest.mark.parametrize("date", ["19990230", "19990229", "20011301", "19800000", "18800101"])
def test_impossible_birth_dates_are_refused(date):
    with pytest.raises(DomainError, match="birth date"):
        parse_id_number(with_check(f"110105{date}001"), today=TODAY)


def test_leap_day_is_a_real_birth_date():
    assert parse_id_number(with_check("11010520000229001"), today=TODAY).birth_date == datetime.date(2000, 2, 29)


def test_future_birth_date_is_refused():
    with pytest.raises(DomainError, match="birth date"):
        parse_id_number(with_check("11010520260302001"), today=TODAY)
    assert parse_id_number(with_check("11010520260301001"), today=TODAY).birth_date == TODAY


def test_wrong_check_digit_is_refused_without_echoing_the_number():
    number = with_check("11010519800517001")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(DomainError, match="check digit") as err:
        parse_id_number(wrong, today=TODAY)
    assert wrong not in str(err.value) and wrong[6:14] not in str(err.value)


@pytest.mark.parametrize("area, born", [("310115", 1980), ("510703", 1960), ("110105", 1948)])
def test_a_county_coded_after_the_birth_year_is_no_warning(area, born):
    """A number carries the county where it was issued: everyone in 浦东新区 (coded 1992) born before
    1992 has 310115. python-stdnum's birth-place lookup would refuse them; the portal does not warn."""
    parsed = parse_id_number(valid_id_number(area=area, birth=datetime.date(born, 5, 1), serial=321))
    assert parsed.warning == "" and parsed.birth_date == datetime.date(born, 5, 1)


def test_unknown_area_code_is_a_warning_not_an_error():
    number = with_check("99999919800517001")
    parsed = parse_id_number(number, today=TODAY)
    assert parsed.value == number
    assert "999999" in parsed.warning
    assert number not in parsed.warning


_BIRTH = st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY)
_AREA = st.sampled_from(["110105", "510703", "440305", "999999", "310115"])


@hsettings(deadline=None)  # no timing assertions: the CI box is shared
@given(area=_AREA, birth=_BIRTH, serial=st.integers(0, 999))
def test_every_number_with_the_right_check_digit_parses(area, birth, serial):
    number = with_check(f"{area}{birth:%Y%m%d}{serial:03d}")
    parsed = parse_id_number(number, today=TODAY)
    assert parsed.value == number
    assert parsed.birth_date == birth
    assert parsed.gender == ("M" if serial % 2 else "F")


@hsettings(deadline=None)  # no timing assertions: the CI box is shared
@given(area=_AREA, birth=_BIRTH, serial=st.integers(0, 999), pos=st.integers(0, 17), digit=st.integers(0, 10))
def test_changing_any_one_character_breaks_the_number(area, birth, serial, pos, digit):
    number = with_check(f"{area}{birth:%Y%m%d}{serial:03d}")
    new = "X" if digit == 10 else str(digit)
    assume(new != number[pos] and (new != "X" or pos == 17))
    changed = number[:pos] + new + number[pos + 1:]
    with pytest.raises(DomainError):
        parse_id_number(changed, today=TODAY)


@hsettings(deadline=None)  # no timing assertions: the CI box is shared
@given(area=_AREA, birth=_BIRTH, serial=st.integers(0, 999))
def test_mask_never_reveals_the_middle(area, birth, serial):
    number = with_check(f"{area}{birth:%Y%m%d}{serial:03d}")
    masked = mask_id_number(number)
    assert masked == number[:6] + "*" * 8 + number[-4:]
    assert f"{birth:%Y%m%d}" not in masked.replace("*", "")[6:]
    assert len(masked) == 18


@hsettings(deadline=None)  # no timing assertions: the CI box is shared
@given(st.text(alphabet="0123456789X", max_size=30))
def test_mask_of_anything_else_shows_no_more_than_an_18_character_number_would(text):
    masked = mask_id_number(text)
    if len(text) == 18:
        assert masked[6:14] == "*" * 8
    else:
        assert set(masked) <= {"*"}


# --- phones ---------------------------------------------------------------------

@pytest.mark.parametrize("raw, normal, masked", [
    ("13800138000", "13800138000", "138****8000"),
    ("138 0013 8000", "13800138000", "138****8000"),
    ("138-0013-8000", "13800138000", "138****8000"),
    ("+86 138 0013 8000", "13800138000", "138****8000"),
    ("008613800138000", "13800138000", "138****8000"),
    ("１３８００１３８０００", "13800138000", "138****8000"),
    ("19912345678", "19912345678", "199****5678"),
    ("010-12345678", "010-12345678", "010-****5678"),
    ("(010)12345678", "010-12345678", "010-****5678"),
    ("01012345678", "010-12345678", "010-****5678"),
    ("+86 10 1234 5678", "010-12345678", "010-****5678"),
    ("0571-87654321", "0571-87654321", "0571-****4321"),
    ("05718765432", "0571-8765432", "0571-****5432"),
    ("（021）62345678", "021-62345678", "021-****5678"),
])
def test_phones_are_normalised_and_masked(raw, normal, masked):
    assert normalize_phone(raw) == normal
    assert mask_phone(normal) == masked


def test_every_spelling_of_a_landline_has_one_index():
    spellings = ["010-12345678", "(010)12345678", "01012345678", "+86 10 12345678", "010 1234 5678"]
    assert len({blind_index("phone", normalize_phone(p)) for p in spellings}) == 1


@pytest.mark.parametrize("raw", ["12345", "1380013800", "138001380001", "12800138000", "23800138000",
                                 "010-0123456", "abc", "+86", "+86 12345", "٠١٠١٢٣٤٥٦٧٨", "138OO138OOO"])
def test_bad_phones_are_refused_without_echoing_them(raw):
    with pytest.raises(DomainError) as err:
        normalize_phone(raw)
    assert err.value.code == "bad_phone"
    assert raw not in str(err.value)


def test_an_empty_phone_is_no_phone():
    assert normalize_phone("") == normalize_phone(None) == normalize_phone("  ") == ""
    assert mask_phone("") == ""


@hsettings(deadline=None)  # no timing assertions: the CI box is shared
@given(st.from_regex(r"\A1[3-9][0-9]{9}\Z", fullmatch=True))
def test_mobile_mask_hides_the_middle_four(phone):
    masked = mask_phone(normalize_phone(phone))
    assert masked == phone[:3] + "****" + phone[-4:]


@hsettings(deadline=None)  # no timing assertions: the CI box is shared
@given(st.from_regex(r"\A(010|02[0-9]|0[3-9][0-9]{2})[1-9][0-9]{6,7}\Z", fullmatch=True))
def test_landline_mask_hides_all_but_area_and_last_four(phone):
    normal = normalize_phone(phone)
    area, local = normal.split("-")
    assert normal.replace("-", "") == phone
    masked = mask_phone(normal)
    assert masked == f"{area}-****{local[-4:]}"
    assert "".join(c for c in masked if c.isdigit()) == area + local[-4:]


# --- blind index --------------------------------------------------------------------

def test_blind_index_is_deterministic_and_differs_by_kind_and_from_a_plain_hash():
    number = valid_id_number()
    a, b = blind_index("id", number), blind_index("id", number)
    assert a == b and len(a) == 64
    assert blind_index("phone", number) != a
    assert hashlib.sha256(number.encode()).hexdigest() != a
    assert blind_index("id", valid_id_number()) != a


def test_blind_index_depends_on_the_index_key_and_refuses_an_empty_one():
    number = valid_id_number()
    before = blind_index("id", number)
    with override_settings(RESIDENT_INDEX_KEY="another-key"):
        assert blind_index("id", number) != before
    with override_settings(RESIDENT_INDEX_KEY=""), pytest.raises(ImproperlyConfigured):
        blind_index("id", number)


# --- keys ---------------------------------------------------------------------------

def test_keys_follow_the_settings_first_salt_first():
    with override_settings(SALT_KEY=["new", "old"], SECRET_KEY_FALLBACKS=[]):
        two = derived_keys()
    with override_settings(SALT_KEY=["old"], SECRET_KEY_FALLBACKS=[]):
        (old,) = derived_keys()
        token = fernet().encrypt(b"13800138000").decode()
    assert len(two) == 2 and two[1] == old and two[0] != old
    with override_settings(SALT_KEY=["new", "old"], SECRET_KEY_FALLBACKS=[]):
        assert decrypt_token(token) == "13800138000"
    with override_settings(SALT_KEY=["new"], SECRET_KEY_FALLBACKS=[]), pytest.raises(UndecryptableError) as err:
        decrypt_token(token)
    assert "13800138000" not in str(err.value)
    with override_settings(SALT_KEY=[]), pytest.raises(ImproperlyConfigured):
        derived_keys()
