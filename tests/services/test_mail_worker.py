"""A real worker delivers e-mail to a real SMTP server, once, even when the task is sent again."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from notifications.models import Channel, Delivery, DeliveryStatus
from notifications.services import _message_id, notify
from notifications.tasks import deliver
from tests.factories import DepartmentFactory, PersonFactory, UserFactory


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    # Set before the worker starts: it inherits this environment.
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(port))
    yield inbox
    controller.stop()


def test_the_worker_delivers_mail_once(smtp: Inbox, real_worker: Any, wait_for: Any) -> None:
    user = UserFactory(username="zhang", email="zhang@example.cn", role="applicant")
    person = PersonFactory(user=user)
    department = DepartmentFactory(code="market")
    with transaction.atomic():
        notify(
            "letter.issued",
            key="letter:77",
            case_number="CR202600000077",
            context={
                "person": person,
                "department": department,
                "letter": type(
                    "L", (), {"reference_number": "示市监信〔2026〕77号", "get_kind_display": "受理通知书"}
                )(),
            },
        )
    delivery = Delivery.objects.get(channel=Channel.EMAIL)
    wait_for(lambda: Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENT).exists())
    wait_for(lambda: len(smtp.messages) == 1)
    message = smtp.messages[0]
    assert message["To"] == "zhang@example.cn" and message["Message-ID"].endswith("@credit-repair>")
    deliver.delay(delivery.pk)  # a duplicated message on the broker
    # The worker runs one task at a time in order: once a later message has arrived, the duplicate has been
    # handled, and it must not have produced a second mail.
    with transaction.atomic():
        notify(
            "letter.issued",
            key="letter:78",
            case_number="CR202600000078",
            context={
                "person": person,
                "department": department,
                "letter": type(
                    "L", (), {"reference_number": "示市监信〔2026〕78号", "get_kind_display": "受理通知书"}
                )(),
            },
        )
    wait_for(lambda: len(smtp.messages) >= 2)
    later = Delivery.objects.get(channel=Channel.EMAIL, idempotency_key__contains="letter:78")
    assert len(smtp.messages) == 2 and smtp.messages[1]["Message-ID"] == _message_id(later.idempotency_key)
