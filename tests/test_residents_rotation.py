"""Key rotation: manage.py reencrypt_residents and reindex_residents."""

import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test import override_settings

from residents import services
from residents.identity import blind_index, forget_field_keys
from residents.models import Resident

from .cases_factories import fresh_calendar, people  # noqa: F401
from .residents_factories import household_in, resident_in, valid_id_number

NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
OLD, NEW = ["old-salt"], ["new-salt", "old-salt"]


@pytest.fixture(autouse=True)
def keys_follow_settings():
    forget_field_keys()
    yield
    forget_field_keys()


def tokens():
    return dict(Resident.objects.annotate(i=Cast("id_number", TextField()), p=Cast("phone", TextField()))
                .values_list("pk", "i").order_by("pk"))


def plain():
    forget_field_keys()
    return {r.pk: (r.id_number, r.phone) for r in Resident.objects.order_by("pk")}


def run(command, *args):
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def written_under_old_salt(city):
    with override_settings(SALT_KEY=OLD):
        forget_field_keys()
        household = household_in(city.unit_a)
        made = {}
        for i in range(5):
            number = valid_id_number(serial=700 + i)
            phone = f"1390000000{i}" if i != 3 else ""
            made[resident_in(household, f"居民{i}", id_number=number, phone=phone, now=NOW).pk] = (number,
                                                                                                   phone or None)
        resident_in(household, "无证件", id_number="", phone="", now=NOW)
    return made


def test_reencrypt_moves_every_value_to_the_new_salt(written_under_old_salt):
    expected = written_under_old_salt
    with override_settings(SALT_KEY=NEW):
        assert {pk: v for pk, v in plain().items() if pk in expected} == expected  # old rows still open
        before = tokens()
        out, err = run("reencrypt_residents", "--batch-size", "2")
        assert "rows=6 changed=9 already_current=0 empty=3" in out
        assert err == ""
        after = tokens()
        assert all(after[pk] != before[pk] for pk in expected)
        assert {pk: v for pk, v in plain().items() if pk in expected} == expected
        # Repeated: nothing left to do.
        out, _err = run("reencrypt_residents")
        assert "changed=0 already_current=9" in out
        assert tokens() == after
    with override_settings(SALT_KEY=["new-salt"]):  # the old salt dropped
        assert {pk: v for pk, v in plain().items() if pk in expected} == expected
    for number, phone in expected.values():
        assert number not in out + err and (phone is None or phone not in out + err)


def test_without_reencrypt_dropping_the_old_salt_loses_the_values_and_reveal_says_so(written_under_old_salt):
    with override_settings(SALT_KEY=["new-salt"]):
        rows = plain()
        assert all(v[0] is None or v[0].startswith("gAAAA") for v in rows.values())  # the library's silent failure
        with pytest.raises(CommandError, match="5 rows could not be decrypted"):
            run("reencrypt_residents")


def test_reencrypt_resumes_after_a_given_pk(written_under_old_salt):
    pks = sorted(written_under_old_salt)
    with override_settings(SALT_KEY=NEW):
        out, _ = run("reencrypt_residents", "--after", str(pks[2]))
        assert "rows=3 changed=3" in out  # pks[3], pks[4] (phone empty on one) and the empty row
        out, _ = run("reencrypt_residents")
        assert "rows=6 changed=6 already_current=3" in out


def test_reencrypt_leaves_a_row_changed_meanwhile_alone(written_under_old_salt):
    from residents.management import rotation

    pk = sorted(written_under_old_salt)[0]
    with override_settings(SALT_KEY=NEW):
        forget_field_keys()
        old_token = tokens()[pk]
        Resident.objects.filter(pk=pk).update(id_number=valid_id_number(serial=999))  # the app, meanwhile
        assert not rotation.update_if_unchanged(pk, "id_number", old_token, id_index="x")
        assert Resident.objects.get(pk=pk).id_index != "x"


def test_reindex_after_a_new_index_key(written_under_old_salt, city):
    expected = written_under_old_salt
    with override_settings(SALT_KEY=OLD, RESIDENT_INDEX_KEY="index-key-2"):
        forget_field_keys()
        some_number = next(iter(expected.values()))[0]
        assert services.find_by_id_number(some_number) is None  # stale indexes
        out, err = run("reindex_residents", "--batch-size", "4")
        assert "rows=6 changed=9 already_current=0 empty=3" in out and err == ""
        for pk, (number, phone) in expected.items():
            row = Resident.objects.get(pk=pk)
            assert row.id_index == blind_index("id", number)
            assert row.phone_index == (blind_index("phone", phone) if phone else None)
        assert services.find_by_id_number(some_number).pk in expected
        out, _ = run("reindex_residents")
        assert "changed=0 already_current=9" in out
    for number, phone in expected.values():
        assert number not in out and (phone is None or phone not in out)


def test_bad_batch_size_is_refused(db):
    with pytest.raises(CommandError):
        run("reencrypt_residents", "--batch-size", "0")
    with pytest.raises(CommandError):
        run("reindex_residents", "--batch-size", "0")


def test_rotation_covers_the_mediation_parties_too(city, people):
    """Mediation parties store their numbers the residents' way, so a rotation must move them too."""
    from cases.models import MediationParty
    from residents.management.rotation import personal_data_models

    from .mediation_factories import APPLICANT_ID, dispute

    assert personal_data_models() == [Resident, MediationParty]
    with override_settings(SALT_KEY=OLD):
        forget_field_keys()
        case = dispute(city, people, parties=[{"name": "王五", "phone": "13911112222", "id_number": APPLICANT_ID}])
    party = case.mediation.parties.get()
    with override_settings(SALT_KEY=NEW):
        out, err = run("reencrypt_residents")
        assert "changed=2" in out and err == "" and "13911112222" not in out
    with override_settings(SALT_KEY=["new-salt"]):
        forget_field_keys()
        party = MediationParty.objects.get(pk=party.pk)
        assert (party.id_number, party.phone) == (APPLICANT_ID, "13911112222")
    with override_settings(RESIDENT_INDEX_KEY="another-index-key-of-enough-length-2026", SALT_KEY=["new-salt"]):
        out, _err = run("reindex_residents")
        assert "changed=2" in out
        party.refresh_from_db()
        assert party.phone_index == blind_index("phone", "13911112222")
