from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from credit import identity
from credit.identity import IdType
from credit.models import Person
from tests.factories import PersonFactory


def with_check(first17: str) -> str:
    return first17 + identity.check_char(first17)


GOOD_RESIDENT = "11010519491231002X"  # the GB 11643-1999 example number


def test_a_valid_resident_id_passes() -> None:
    assert identity.validate(IdType.RESIDENT, GOOD_RESIDENT) == GOOD_RESIDENT


def test_a_lowercase_x_is_accepted_and_stored_uppercase() -> None:
    assert identity.validate(IdType.RESIDENT, GOOD_RESIDENT.lower()) == GOOD_RESIDENT


def test_spaces_are_ignored() -> None:
    assert identity.validate(IdType.RESIDENT, " 110105 19491231 002X ") == GOOD_RESIDENT


def test_a_wrong_check_character_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError) as exc:
        identity.validate(IdType.RESIDENT, "110105194912310021")
    assert exc.value.code == "checksum"


def test_an_impossible_birth_date_is_refused() -> None:
    number = with_check("11010519490231002")  # 31 February
    with pytest.raises(ValidationError) as exc:
        identity.validate(IdType.RESIDENT, number)
    assert exc.value.code == "birth_date"


def test_a_future_birth_date_is_refused() -> None:
    with pytest.raises(ValidationError):
        identity.validate(IdType.RESIDENT, with_check("11010520990101002"))


@pytest.mark.parametrize(
    "number", ["12345", "1101051949123100211", "11010519491231002Y", "A1010519491231002X"]
)
def test_malformed_numbers_are_refused(number: str) -> None:
    with pytest.raises(ValidationError):
        identity.validate(IdType.RESIDENT, number)


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hong_kong_macao_taiwan_permits_validate_as_their_own_type(prefix: str) -> None:
    number = with_check(f"{prefix}19900101001")
    assert identity.validate(IdType.HMT_PERMIT, number) == number
    # stdnum's cn.ric rejects them; as a resident ID they are the wrong type, said so.
    with pytest.raises(ValidationError) as exc:
        identity.validate(IdType.RESIDENT, number)
    assert exc.value.code == "wrong_type"


def test_a_permit_with_a_wrong_check_character_is_refused() -> None:
    number = with_check("81000019900101001")
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        identity.validate(IdType.HMT_PERMIT, bad)
    assert exc.value.code == "checksum"


def test_a_permit_number_must_start_with_81_82_or_83() -> None:
    with pytest.raises(ValidationError) as exc:
        identity.validate(IdType.HMT_PERMIT, GOOD_RESIDENT)
    assert exc.value.code == "prefix"


def test_a_foreign_permanent_resident_id_starting_with_9_is_valid() -> None:
    number = with_check("93315619850615001")
    assert identity.validate(IdType.FOREIGN_PERMANENT, number) == number
    with pytest.raises(ValidationError):
        identity.validate(IdType.FOREIGN_PERMANENT, GOOD_RESIDENT)


def test_the_mask_keeps_four_characters_at_each_end() -> None:
    assert identity.mask("11010119900101002x") == "1101**********002X"


@pytest.mark.django_db
def test_a_person_stores_the_number_encrypted_and_masked() -> None:
    person = PersonFactory(id_number=GOOD_RESIDENT.lower())
    row = Person.objects.values("id_encrypted", "id_masked", "id_hash").get(pk=person.pk)
    assert GOOD_RESIDENT not in str(row)
    assert row["id_masked"] == "1101**********002X"
    assert Person.objects.get(pk=person.pk).id_number == GOOD_RESIDENT


@pytest.mark.django_db
def test_lookup_is_by_the_whole_number_only() -> None:
    person = PersonFactory(id_number=GOOD_RESIDENT)
    assert list(Person.objects.by_id_number(GOOD_RESIDENT.lower())) == [person]
    assert not Person.objects.by_id_number(GOOD_RESIDENT[:17]).exists()
    assert not Person.objects.by_id_number("1101").exists()


@pytest.mark.django_db
def test_the_lookup_hash_is_keyed() -> None:
    person = PersonFactory(id_number=GOOD_RESIDENT)
    with override_settings(ID_LOOKUP_KEY="another-key"):
        assert not Person.objects.by_id_number(GOOD_RESIDENT).exists()
    assert Person.objects.by_id_number(GOOD_RESIDENT).get() == person


def test_a_rotated_key_still_decrypts_old_tokens() -> None:
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(ID_ENCRYPTION_KEYS=[old]):
        token = identity.encrypt(GOOD_RESIDENT)
    with override_settings(ID_ENCRYPTION_KEYS=[new, old]):
        assert identity.decrypt(token) == GOOD_RESIDENT


@pytest.mark.django_db
def test_rotate_id_keys_re_encrypts_with_the_new_key() -> None:
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(ID_ENCRYPTION_KEYS=[old]):
        person = PersonFactory(id_number=GOOD_RESIDENT)
    with override_settings(ID_ENCRYPTION_KEYS=[new, old]):
        out = StringIO()
        call_command("rotate_id_keys", "--batch-size", "1", stdout=out)
        assert "1 ID number(s) re-encrypted" in out.getvalue()
    with override_settings(ID_ENCRYPTION_KEYS=[new]):  # the old key can now be dropped
        assert Person.objects.get(pk=person.pk).id_number == GOOD_RESIDENT
