"""SMS gateways, chosen by settings.SMS_GATEWAY (a dotted path). Each receives our idempotency key, so a
message we send twice (a crash between the gateway's answer and our commit) is delivered once where the
gateway supports keys."""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class GatewayError(Exception):
    pass


class SmsGateway(Protocol):
    def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        """Send one SMS; return the gateway's message id; raise GatewayError when it was not accepted."""
        ...


def masked_phone(number: str) -> str:
    return number[:3] + "****" + number[-4:] if len(number) >= 8 else "****"


class LoggingGateway:
    """The default: writes the message to the log (the phone number masked). For development and demos."""

    def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        logger.info("SMS to %s: %s", masked_phone(to), text)
        return "log-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]


class HttpGateway:
    """POSTs {"to", "text"} as JSON to SMS_GATEWAY_URL with a bearer token and an Idempotency-Key header;
    any 2xx is accepted and its JSON "id" (if any) kept. Adapt a provider by subclassing `request`."""

    def __init__(self) -> None:
        self.url = getattr(settings, "SMS_GATEWAY_URL", "")
        self.token = getattr(settings, "SMS_GATEWAY_TOKEN", "")
        if not self.url:
            raise ImproperlyConfigured("SMS_GATEWAY_URL is required by notifications.gateways.HttpGateway")
        self.timeout = float(getattr(settings, "SMS_GATEWAY_TIMEOUT", 10))

    def request(self, *, to: str, text: str, idempotency_key: str) -> urllib.request.Request:
        body = json.dumps({"to": to, "text": text}).encode()
        return urllib.request.Request(  # noqa: S310  (the URL is the operator's configuration)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": idempotency_key,
            },
        )

    def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        try:
            with urllib.request.urlopen(  # noqa: S310
                self.request(to=to, text=text, idempotency_key=idempotency_key), timeout=self.timeout
            ) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"gateway answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GatewayError(f"gateway unreachable: {exc}") from exc
        try:
            return str(json.loads(raw or b"{}").get("id", ""))
        except (ValueError, AttributeError):
            return ""


def sms_gateway() -> SmsGateway:
    return import_string(getattr(settings, "SMS_GATEWAY", "notifications.gateways.LoggingGateway"))()  # type: ignore[no-any-return]
