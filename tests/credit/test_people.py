"""Identity verification and agents' authorisations, and what they let an applicant or agent see."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from credit.models import Authorisation, TransitionLog, User
from credit.selectors import records_for
from credit.services.people import verify_applicant
from credit.services.transitions import Forbidden, WrongState, perform_transition
from tests.conftest import Personas
from tests.factories import PersonFactory, UserFactory, make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent() -> object:
    return UserFactory(username="agent", role="applicant")


def authorise(agent, person, **kwargs):  # type: ignore[no-untyped-def]
    return Authorisation.objects.create(
        agent=agent, person=person, document=SimpleUploadedFile("auth.pdf", b"%PDF-1.4"), **kwargs
    )


def test_intake_links_an_account_after_the_real_name_check(personas: Personas, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    person = PersonFactory(name="王芳")
    user = UserFactory(username="wangfang")
    verify_applicant(person=person, user=user, actor=personas.intake)
    person.refresh_from_db()
    assert person.user == user and person.verified_by == personas.intake
    assert user.has_role("applicant")
    entry = TransitionLog.objects.get(transition="verify_identity")
    assert (entry.from_state, entry.to_state, entry.actor) == ("unverified", "verified", personas.intake)


def test_only_intake_verifies_and_a_person_has_one_account(personas: Personas) -> None:
    person = PersonFactory(name="王芳")
    with pytest.raises(Forbidden):
        verify_applicant(person=person, user=UserFactory(username="x"), actor=personas.officer)
    with pytest.raises(WrongState):
        verify_applicant(
            person=personas.applicant_person, user=UserFactory(username="y"), actor=personas.intake
        )
    with pytest.raises(WrongState):
        verify_applicant(person=person, user=personas.applicant, actor=personas.intake)


def test_an_agent_sees_the_records_only_once_the_authorisation_is_verified(
    personas: Personas,
    agent,
    settings,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    settings.MEDIA_ROOT = tmp_path
    record = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    authorisation = authorise(agent, personas.applicant_person)

    def next_request() -> User:  # each request loads the user afresh (its per-request caches with it)
        return User.objects.get(pk=agent.pk)

    assert not records_for(next_request()).exists()
    with pytest.raises(Forbidden):
        perform_transition(authorisation, "verify", actor=personas.officer)
    perform_transition(authorisation, "verify", actor=personas.intake)
    assert list(records_for(next_request())) == [record]
    perform_transition(authorisation, "revoke", actor=personas.intake, reason="委托人撤回授权")
    assert not records_for(next_request()).exists()


def test_an_expired_authorisation_gives_no_access(personas: Personas, agent, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    make_record(person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31))
    yesterday = date(2026, 11, 22)
    authorisation = authorise(
        agent, personas.applicant_person, valid_from=yesterday - timedelta(days=30), valid_until=yesterday
    )
    perform_transition(authorisation, "verify", actor=personas.intake)
    assert not records_for(agent).exists()


def test_a_rejection_needs_a_reason(personas: Personas, agent, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from credit.services.transitions import BadPayload

    settings.MEDIA_ROOT = tmp_path
    authorisation = authorise(agent, personas.applicant_person)
    with pytest.raises(BadPayload):
        perform_transition(authorisation, "reject", actor=personas.intake)
    perform_transition(authorisation, "reject", actor=personas.intake, reason="授权书未签名")
    authorisation.refresh_from_db()
    assert authorisation.status == Authorisation.Status.REJECTED
