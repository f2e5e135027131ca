"""An agent submits a written authorisation from the portal: a pending authorisation only for a person held
with exactly that ID number and that name; the same refusal whether no person has the number or the name
differs; repeated misses stop the form for an hour; intake's decision reaches the agent (and the person)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from credit.models import Authorisation, TransitionLog, User
from credit.services.authorisations import (
    MISSES_PER_HOUR,
    AuthorisationInput,
    submit_authorisation,
)
from credit.services.transitions import Forbidden, WrongState, perform_transition
from notifications.models import Channel, Delivery, Notification, Preference
from tests.conftest import Personas
from tests.credit.test_identity_claims import _media, stored  # noqa: F401  (_media: autouse)
from tests.factories import UserFactory, resident_id

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


@pytest.fixture
def agent() -> User:
    return UserFactory(username="agent", role="applicant")


def signed(name: str = "授权委托书.pdf") -> SimpleUploadedFile:
    """A one-page PDF, as a scanner writes one."""
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, "PDF")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def asked(personas: Personas, **change: Any) -> AuthorisationInput:
    values: dict[str, Any] = {
        "name": personas.other_person.name,
        "id_type": "resident_id",
        "id_number": personas.other_person.id_number,
        "scope": "申请信用修复、提出异议及签收相关文书",
        "valid_from": TODAY,
        "valid_until": TODAY + timedelta(days=365),
        "document": signed(),
    }
    values.update(change)
    return AuthorisationInput(**values)


def test_a_matching_person_gets_a_pending_authorisation(
    personas: Personas, agent: User, tmp_path: Path
) -> None:
    authorisation = submit_authorisation(agent=agent, data=asked(personas, name=" 李 娜 "))
    assert authorisation.status == Authorisation.Status.PENDING
    assert (authorisation.agent, authorisation.person) == (agent, personas.other_person)
    assert authorisation.scope == "申请信用修复、提出异议及签收相关文书"
    assert authorisation.document.name.startswith("authorisations/2026/") and len(stored(tmp_path)) == 1
    step = TransitionLog.objects.get(transition="submit", object_id=authorisation.pk)
    assert step.actor == agent


def test_no_such_person_and_another_name_are_refused_alike(
    personas: Personas, agent: User, tmp_path: Path
) -> None:
    nobody = asked(personas, id_number=resident_id(77))
    other_name = asked(personas, name="李娜娜")
    other_type = asked(personas, id_type="hmt_permit", id_number="810000199001010013")
    messages = []
    for attempt in (nobody, other_name):
        with pytest.raises(ValidationError) as refused:
            submit_authorisation(agent=agent, data=attempt)
        assert refused.value.code == "no_match"
        messages.append(refused.value.messages)
    assert messages[0] == messages[1]
    with pytest.raises(ValidationError):
        submit_authorisation(agent=agent, data=other_type)
    assert not Authorisation.objects.exists() and stored(tmp_path) == []


def test_repeated_misses_close_the_form_for_an_hour(
    personas: Personas, agent: User, time_machine: Any
) -> None:
    for seq in range(MISSES_PER_HOUR):
        with pytest.raises(ValidationError):
            submit_authorisation(agent=agent, data=asked(personas, id_number=resident_id(80 + seq)))
    with pytest.raises(ValidationError) as closed:
        submit_authorisation(agent=agent, data=asked(personas))  # even a right one, for now
    assert closed.value.code == "too_many_misses"
    cache.clear()  # the hour has passed (the cache's timeout)
    assert submit_authorisation(agent=agent, data=asked(personas)).status == "pending"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scope": "  "}, "scope"),
        ({"valid_until": TODAY - timedelta(days=1), "valid_from": TODAY - timedelta(days=30)}, "valid_until"),
        ({"valid_until": TODAY + timedelta(days=1), "valid_from": TODAY + timedelta(days=2)}, "valid_until"),
        ({"id_number": "3702021990"}, "id_number"),
        ({"name": " "}, "name"),
        ({"document": SimpleUploadedFile("a.pdf", b"MZ\x90\x00 not a pdf")}, "document"),
    ],
)
def test_what_a_person_gets_wrong_is_said_by_field(
    personas: Personas, agent: User, tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        submit_authorisation(agent=agent, data=asked(personas, **change))
    assert field in refused.value.message_dict
    assert not Authorisation.objects.exists() and stored(tmp_path) == []


def test_one_waits_per_person_and_nobody_authorises_themselves(
    personas: Personas, agent: User, tmp_path: Path
) -> None:
    submit_authorisation(agent=agent, data=asked(personas))
    with pytest.raises(WrongState):
        submit_authorisation(agent=agent, data=asked(personas))
    assert Authorisation.objects.count() == 1 and len(stored(tmp_path)) == 1
    with pytest.raises(ValidationError) as own:
        submit_authorisation(agent=personas.other_applicant, data=asked(personas))
    assert own.value.code == "self"


@pytest.mark.parametrize("who", ["officer", "intake", "auditor", "admin"])
def test_staff_submit_nothing(personas: Personas, who: str) -> None:
    with pytest.raises(Forbidden):
        submit_authorisation(agent=getattr(personas, who), data=asked(personas))


class TestTheDecisionIsAnnounced:
    @pytest.fixture
    def waiting(self, personas: Personas, agent: User) -> Authorisation:
        agent.phone = "13900139000"
        agent.save()
        Preference.objects.create(user=agent, sms=True)
        return submit_authorisation(agent=agent, data=asked(personas))

    def test_verified_the_agent_and_the_person_are_told(
        self, personas: Personas, agent: User, waiting: Authorisation
    ) -> None:
        perform_transition(waiting, "verify", actor=personas.intake)
        to_agent = Notification.objects.get(recipient=agent)
        to_person = Notification.objects.get(recipient=personas.other_applicant)
        assert to_agent.event == to_person.event == "authorisation.verified"
        assert "李娜" in to_agent.body and "已核验" in to_agent.body
        assert "agent" in to_person.body and "如您从未作出该授权" in to_person.body
        sms = Delivery.objects.get(notification=to_agent, channel=Channel.SMS).payload["text"]
        assert waiting.number in sms and "李娜" not in sms

    def test_rejected_only_the_agent_is_told_why(
        self, personas: Personas, agent: User, waiting: Authorisation
    ) -> None:
        perform_transition(waiting, "reject", actor=personas.intake, reason="授权书未经委托人签名")
        told = Notification.objects.get()
        assert told.recipient == agent and told.event == "authorisation.rejected"
        assert "授权书未经委托人签名" in told.body and told.link == "/my/authorisations/"

    def test_revoked_both_are_told(self, personas: Personas, agent: User, waiting: Authorisation) -> None:
        perform_transition(waiting, "verify", actor=personas.intake)
        perform_transition(waiting, "revoke", actor=personas.intake, reason="委托人撤回授权")
        revoked = Notification.objects.filter(event="authorisation.revoked")
        assert {n.recipient for n in revoked} == {agent, personas.other_applicant}
