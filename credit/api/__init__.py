from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from credit.services.transitions import TransitionError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The transition service's errors become 404/403/409/400 with a message and, for 409, the state."""
    if isinstance(exc, TransitionError):
        body: dict[str, Any] = {"detail": exc.message, "code": type(exc).__name__}
        body.update(exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        body = {
            "detail": " ".join(exc.messages),
            "code": getattr(exc, "code", None) or "invalid",
            "errors": errors,
        }
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
