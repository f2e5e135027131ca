"""How the portal's forms end: success goes on to a page; failure shows the same form again, with what the
person typed and the reasons, and leaves nothing behind."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.translation import gettext

from credit.services.transitions import TransitionError

# Form errors answer 422: the request was understood, its content refused. The page is the same one, with
# the errors, so a person without JavaScript reads it as an ordinary page.
FORM_ERRORS = 422


def storage_failed() -> str:
    return gettext("The files could not be stored just now, so nothing was filed. Please try again later.")


# A storage failure (a full disk, a network share gone) is ours, not the applicant's.
STORAGE_FAILED_STATUS = 503


def posted(request: HttpRequest) -> Any:
    """The form data of a POST (even an empty one: an unticked box is still a submission), else None."""
    return request.POST if request.method == "POST" else None


def uploaded(request: HttpRequest) -> Any:
    return request.FILES if request.method == "POST" else None


def wants_json(request: HttpRequest) -> bool:
    """The upload script (XHR, for its progress bar) asks for where to go next instead of a redirect."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def done(request: HttpRequest, location: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"location": location})
    return HttpResponseRedirect(location)


# Shown in the browser; anything else (a PDF) is downloaded, as the sandbox below keeps a PDF viewer out.
INLINE_TYPES = ("image/jpeg", "image/png")


def private_file(handle: Any, *, content_type: str, name: str) -> FileResponse:
    """A stored file of the person's case, served to them alone: never cached on the way, never sniffed
    into another type, and never run as a page of this site (the staff case file serves its files alike)."""
    response = FileResponse(
        handle, as_attachment=content_type not in INLINE_TYPES, filename=name, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def reasons(exc: ValidationError | TransitionError) -> list[str]:
    """The messages a service's refusal carries, for the page's error summary."""
    if isinstance(exc, TransitionError):
        found = [exc.message]
        for errors in (exc.extra.get("errors") or {}).values():
            items = errors if isinstance(errors, list) else [errors]
            found.extend(str(error) for error in items if str(error) not in found)
        return found
    return list(exc.messages)
