"""The public verification page: a court, a bank or a citizen checks a letter by its code, its QR code or
the PDF itself. It shows authenticity, kind, department, date and hash — never personal data."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from . import services
from .models import LetterKind


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Verification code"), max_length=30)


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("The letter (PDF)"))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        limit = settings.LETTERS_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)d KB; letters are at most %(limit)d KB.")
                % {"size": upload.size // 1024, "limit": limit // 1024}
            )
        data = upload.read()
        if not data.startswith(b"%PDF-"):
            raise forms.ValidationError(_("This is not a PDF file."))
        return bytes(data)


UPLOADS_PER_MINUTE = 10


def _too_many_uploads(request: HttpRequest) -> bool:
    """Checking an uploaded PDF parses and validates it (CPU): a few a minute per address is plenty for a
    person, and keeps an anonymous client from occupying the web workers. Behind a proxy, REMOTE_ADDR is the
    proxy's unless the proxy sets it; limit there too (docs/deploy.md)."""
    key = f"verify-upload:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=60)
    return cache.incr(key) > UPLOADS_PER_MINUTE


def _result_context(verification: services.Verification) -> dict[str, object]:
    return {
        "verification": verification,
        "verdict_label": services.Verdict(verification.verdict).label,
        "kind_label": LetterKind(verification.kind).label if verification.kind else "",
    }


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"code_form": CodeForm(request.GET or None), "upload_form": UploadForm()}
    if request.GET.get("code") and context["code_form"].is_valid():  # type: ignore[attr-defined]
        code = context["code_form"].cleaned_data["code"]  # type: ignore[attr-defined]
        context.update(_result_context(services.verify_code(code)))
    if request.method == "POST":
        if _too_many_uploads(request):
            response = render(request, "letters/verify.html", {**context, "throttled": True})
            response.status_code = 429
            return response
        upload_form = UploadForm(request.POST, request.FILES)
        context["upload_form"] = upload_form
        if upload_form.is_valid():
            from .signing import validate_signed_pdf
            from .trust import trust_roots

            data = upload_form.cleaned_data["file"]
            context.update(_result_context(services.verify_file(data)))
            context["signature"] = validate_signed_pdf(data, trust_roots=trust_roots())
    return render(request, "letters/verify.html", context)


def verify_result(request: HttpRequest, code: str) -> HttpResponse:
    """Where the QR code points."""
    context: dict[str, object] = {"code_form": CodeForm(initial={"code": code}), "upload_form": UploadForm()}
    context.update(_result_context(services.verify_code(code)))
    return render(request, "letters/verify.html", context)
