"""Delivery: retried until it works, never sent twice by us, and the HTTP gateway's contract."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from notifications import tasks
from notifications.gateways import GatewayError, HttpGateway
from notifications.models import Channel, Delivery, DeliveryStatus, Preference
from notifications.services import deliver, notify, requeue_stalled
from tests.conftest import Personas

pytestmark = pytest.mark.django_db
SENT: list[dict[str, str]] = []


class FlakyGateway:
    """Fails as often as told, then accepts; records what it accepted."""

    failures = 0

    def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        if FlakyGateway.failures > 0:
            FlakyGateway.failures -= 1
            raise GatewayError("503 from the gateway")
        SENT.append({"to": to, "text": text, "key": idempotency_key})
        return f"msg-{len(SENT)}"


@pytest.fixture
def sms(personas: Personas, settings) -> Delivery:  # type: ignore[no-untyped-def]
    settings.SMS_GATEWAY = "tests.notifications.test_delivery.FlakyGateway"
    SENT.clear()
    FlakyGateway.failures = 0
    personas.applicant.phone = "13800138000"
    personas.applicant.save()
    Preference.objects.create(user=personas.applicant, email=False, sms=True)
    notify(
        "letter.issued",
        key="letter:1",
        case_number="CR1",
        context={
            "person": personas.applicant_person,
            "department": personas.market,
            "letter": type("L", (), {"reference_number": "R1", "get_kind_display": "受理通知书"})(),
        },
    )
    return Delivery.objects.get(channel=Channel.SMS)


def test_a_failing_gateway_is_retried_until_it_accepts(sms: Delivery) -> None:
    FlakyGateway.failures = 2
    with pytest.raises(Retry):
        tasks.deliver.apply(args=[sms.pk], throw=True)
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (DeliveryStatus.FAILED, 1) and "503" in sms.last_error
    with pytest.raises(GatewayError):
        deliver(sms.pk)
    assert deliver(sms.pk) is True
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.provider_id, sms.last_error) == (
        DeliveryStatus.SENT,
        3,
        "msg-1",
        "",
    )
    assert len(SENT) == 1 and SENT[0]["key"] == sms.idempotency_key


def test_a_redelivered_task_sends_nothing_twice(sms: Delivery) -> None:
    assert deliver(sms.pk) is True
    assert deliver(sms.pk) is False
    assert tasks.deliver.apply(args=[sms.pk]).get() is False
    assert len(SENT) == 1


def test_a_live_claim_keeps_a_second_worker_away_and_a_dead_one_is_taken_over(sms: Delivery) -> None:
    now = timezone.now()
    Delivery.objects.filter(pk=sms.pk).update(
        status=DeliveryStatus.SENDING, claimed_until=now + timedelta(minutes=4)
    )
    assert deliver(sms.pk) is False  # another worker is sending it right now
    Delivery.objects.filter(pk=sms.pk).update(claimed_until=now - timedelta(seconds=1))  # that worker died
    assert requeue_stalled() == 1  # eager: sent by the requeued task
    assert len(SENT) == 1 and SENT[0]["key"] == sms.idempotency_key  # the gateway can drop a repeat by key


def test_a_delivery_that_keeps_failing_is_given_up_and_shown(sms: Delivery) -> None:
    FlakyGateway.failures = 100
    for _ in range(tasks.deliver.max_retries):
        with pytest.raises(Retry):
            tasks.deliver.apply(args=[sms.pk], throw=True)
    # The last attempt of the task (retries exhausted) gives up instead of retrying.
    request_retries = tasks.deliver.max_retries
    result = tasks.deliver.apply(args=[sms.pk], retries=request_retries)
    assert result.get() is False
    sms.refresh_from_db()
    assert sms.status == DeliveryStatus.GAVE_UP and sms.attempts == request_retries + 1


class _Handler(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.received.append(
            {"body": body, "key": self.headers["Idempotency-Key"], "auth": self.headers["Authorization"]}
        )
        self.send_response(_Handler.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": "gw-42"}).encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_gateway(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/sms"
    settings.SMS_GATEWAY_TOKEN = "test-token"
    _Handler.received.clear()
    _Handler.status = 200
    yield settings.SMS_GATEWAY_URL
    server.shutdown()


def test_the_http_gateway_sends_json_with_the_idempotency_key(http_gateway: str) -> None:
    assert HttpGateway().send(to="13800138000", text="CR1 有新的文书", idempotency_key="k-1") == "gw-42"
    assert _Handler.received == [
        {"body": {"to": "13800138000", "text": "CR1 有新的文书"}, "key": "k-1", "auth": "Bearer test-token"}
    ]


def test_the_http_gateway_reports_a_refusal(http_gateway: str) -> None:
    _Handler.status = 503
    with pytest.raises(GatewayError, match="503"):
        HttpGateway().send(to="1", text="t", idempotency_key="k")


def test_the_http_gateway_needs_its_url(settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ImproperlyConfigured

    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(ImproperlyConfigured):
        HttpGateway()
