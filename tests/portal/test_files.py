"""/my/cases/<kind>/<pk>/files/<id>/: the applicant downloads the evidence they gave (repair, objection,
reconsideration) from private storage; anyone else gets a 404, and no file has a public /media/ address."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from credit.models import Authorisation, CreditRecord, Department
from objections import reconsideration_services
from objections import services as objection_services
from repair import services as repair_services
from tests.conftest import Personas
from tests.factories import make_record
from tests.portal.conftest import (
    act,
    browser,
    complaint_filed,
    objection_filed,
    png,
    reconsideration_filed,
    repair_filed,
    repair_refused,
)

pytestmark = pytest.mark.django_db


def pdf(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PDF")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def url(kind: str, case: Any, piece: Any) -> str:
    return f"/my/cases/{kind}/{case.pk}/files/{piece.pk}/"


def content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def pieces(personas: Personas, record: CreditRecord, office: Department) -> dict[str, tuple[Any, Any]]:
    """One piece of evidence of each kind of case that has evidence, given by the applicant."""
    repair = repair_filed(personas, record)
    repair_piece = repair_services.add_evidence(
        case=repair, upload=png("收据.png"), kind="performance", actor=personas.applicant
    )
    objection = objection_filed(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 4, 1)
        ),
    )
    objection_piece = objection_services.add_evidence(
        objection=objection,
        upload=pdf("判决书.pdf"),
        actor=personas.applicant,
    )
    recon = reconsideration_filed(
        personas,
        repair_refused(
            personas,
            make_record(
                person=personas.applicant_person, department=personas.market, decision_date=date(2026, 3, 1)
            ),
        ),
    )
    recon_piece = reconsideration_services.add_evidence(
        reconsideration=recon, upload=png("决定书.png"), actor=personas.applicant
    )
    return {
        "repair": (repair, repair_piece),
        "objection": (objection, objection_piece),
        "reconsideration": (recon, recon_piece),
    }


@pytest.mark.parametrize("kind", ["repair", "objection", "reconsideration"])
def test_the_applicant_downloads_their_evidence_from_the_case_page(
    personas: Personas, pieces: dict[str, tuple[Any, Any]], kind: str
) -> None:
    case, piece = pieces[kind]
    client = browser(personas.applicant)
    html = client.get(f"/my/cases/{kind}/{case.pk}/").content.decode()
    assert f'href="{url(kind, case, piece)}"' in html and piece.original_name in html
    assert "/media/" not in html
    response = client.get(url(kind, case, piece))
    assert response.status_code == 200 and response["Content-Type"] == piece.content_type
    with piece.file.open("rb") as stored:
        assert content(response) == stored.read()
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_images_are_shown_and_pdfs_downloaded(personas: Personas, pieces: dict[str, tuple[Any, Any]]) -> None:
    client = browser(personas.applicant)
    image = client.get(url("repair", *pieces["repair"]))
    assert image["Content-Disposition"].startswith("inline")
    pdf = client.get(url("objection", *pieces["objection"]))
    assert (
        pdf["Content-Disposition"].startswith("attachment")
        and "filename*=utf-8''" in pdf["Content-Disposition"]
    )


@pytest.mark.parametrize("kind", ["repair", "objection", "reconsideration"])
def test_another_applicant_gets_a_404(
    personas: Personas, pieces: dict[str, tuple[Any, Any]], kind: str
) -> None:
    assert browser(personas.other_applicant).get(url(kind, *pieces[kind])).status_code == 404


def test_a_file_of_another_case_is_not_found_under_this_one(
    personas: Personas, pieces: dict[str, tuple[Any, Any]]
) -> None:
    # Both cases are the applicant's, but the piece belongs to the other: an address is not a key.
    client = browser(personas.applicant)
    objection, objection_piece = pieces["objection"]
    second = objection_filed(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 2, 1)
        ),
    )
    second_piece = objection_services.add_evidence(objection=second, upload=png(), actor=personas.applicant)
    assert client.get(url("objection", second, second_piece)).status_code == 200
    assert client.get(url("objection", objection, second_piece)).status_code == 404
    assert client.get(url("objection", second, objection_piece)).status_code == 404
    repair, _piece = pieces["repair"]
    complaint = complaint_filed(personas, repair)  # a complaint has no evidence
    assert client.get(f"/my/cases/complaint/{complaint.pk}/").status_code == 200
    assert client.get(f"/my/cases/complaint/{complaint.pk}/files/1/").status_code == 404
    assert client.get(f"/my/cases/repair/{repair.pk}/files/999999/").status_code == 404


def test_signed_out_visitors_log_in_and_staff_go_to_their_workspace(
    personas: Personas, pieces: dict[str, tuple[Any, Any]]
) -> None:
    path = url("repair", *pieces["repair"])
    signed_out = Client().get(path)
    assert signed_out.status_code == 302 and signed_out["Location"] == f"/login/?next={path}"
    for staff in (personas.officer, personas.intake, personas.auditor):
        assert browser(staff).get(path)["Location"] == "/staff/"


def test_only_reading_is_allowed(personas: Personas, pieces: dict[str, tuple[Any, Any]]) -> None:
    assert browser(personas.applicant).post(url("repair", *pieces["repair"])).status_code == 405


def test_a_file_missing_from_storage_is_not_found(
    personas: Personas, pieces: dict[str, tuple[Any, Any]]
) -> None:
    case, piece = pieces["repair"]
    piece.file.storage.delete(piece.file.name)
    assert browser(personas.applicant).get(url("repair", case, piece)).status_code == 404


def test_an_agent_downloads_while_the_authorisation_is_in_force(
    personas: Personas, pieces: dict[str, tuple[Any, Any]]
) -> None:
    # The other applicant acts for 张伟 under a verified authorisation, until it is revoked.
    authorisation = Authorisation.objects.create(
        agent=personas.other_applicant,
        person=personas.applicant_person,
        document=SimpleUploadedFile("authorisation.pdf", b"%PDF-1.4 signed"),
    )
    agent = browser(personas.other_applicant)
    path = url("reconsideration", *pieces["reconsideration"])
    assert agent.get(path).status_code == 404  # not verified yet
    authorisation = act(authorisation, "verify", personas.intake)
    assert agent.get(path).status_code == 200
    act(authorisation, "revoke", personas.intake, reason="委托终止")
    assert agent.get(path).status_code == 404


def test_no_file_is_served_from_a_public_media_address(
    personas: Personas, pieces: dict[str, tuple[Any, Any]]
) -> None:
    client = browser(personas.applicant)
    for _case, piece in pieces.values():
        assert client.get(f"/media/{piece.file.name}").status_code == 404
