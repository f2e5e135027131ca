from __future__ import annotations

from datetime import date
from typing import Any

import factory
from django.contrib.auth.models import Group

from credit import identity
from credit.identity import IdType
from credit.models import Department, Membership, Person, User
from credit.models.records import CreditRecord, Domain, RecordType
from credit.services.records import PenaltyInput, register_record


def resident_id(seq: int, birth: str = "19900307") -> str:
    """A valid resident ID number: a real region code, a birth date, a sequence and its check char."""
    first17 = f"370202{birth}{seq % 1000:03d}"
    return first17 + identity.check_char(first17)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"测试局{n}")
    kind = Department.Kind.DECIDING
    city = "测试市"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()

    @factory.post_generation
    def department(self, create: bool, extracted: Department | None, **kwargs: Any) -> None:
        if extracted:
            Membership.objects.get_or_create(user=self, department=extracted)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"申请人{n}")

    @classmethod
    def _create(cls, model_class: type[Person], *args: Any, **kwargs: Any) -> Person:
        number = kwargs.pop("id_number", None) or resident_id(Person.objects.count() + 1)
        id_type = kwargs.pop("id_type", IdType.RESIDENT)
        person = model_class(**kwargs)
        person.set_id_number(id_type, number)
        person.save()
        return person


def make_record(
    *,
    person: Person,
    department: Department,
    decision_date: date,
    tiers: tuple[str, ...] = ("general",),
    domain: str = Domain.FOOD_DRUG,
    penalties: list[PenaltyInput] | None = None,
    number: str | None = None,
) -> CreditRecord:
    return register_record(
        person=person,
        record_type=RecordType.ADMIN_PENALTY,
        domain=domain,
        department=department,
        decision_number=number or f"测罚〔{decision_date.year}〕{CreditRecord.objects.count() + 1}号",
        decision_date=decision_date,
        penalties=penalties or [PenaltyInput(kind="fine", tier=t) for t in tiers],
    )


def dev_signing_identity(department: Department, files: Any) -> Any:
    """A development signing identity for `department` from `letters.pki.create_dev_pki`'s files."""
    from letters.models import SigningIdentity
    from letters.pki import DEV_PASSPHRASE_ENV

    return SigningIdentity.objects.create(
        department=department,
        pkcs12_path=str(files.pkcs12),
        passphrase_env=DEV_PASSPHRASE_ENV,
        seal_image_path=str(files.seal),
        signer_text=department.name,
        development_only=True,
    )
