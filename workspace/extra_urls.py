"""Intake's verification of authorisations and real-name checks, the service of a case's letters and the
revocation of a granted repair, under /staff/ (namespace "workspace", from workspace.urls)."""

from django.urls import path

from . import (
    case_urls,  # noqa: F401  (registers the case_kind converter)
    identity_views,
    people_views,
    revocation_views,
    service_views,
)

urlpatterns = [
    path("authorisations/", people_views.AuthorisationListView.as_view(), name="authorisations"),
    path("authorisations/<int:pk>/", people_views.AuthorisationView.as_view(), name="authorisation"),
    path(
        "authorisations/<int:pk>/document/",
        people_views.AuthorisationDocumentView.as_view(),
        name="authorisation-document",
    ),
    path("identities/", identity_views.IdentityClaimListView.as_view(), name="identities"),
    path("identities/window/", identity_views.WindowLinkView.as_view(), name="identity-window"),
    path("identities/<int:pk>/", identity_views.IdentityClaimView.as_view(), name="identity"),
    path(
        "identities/<int:pk>/document/",
        identity_views.IdentityDocumentView.as_view(),
        name="identity-document",
    ),
    path(
        "cases/<case_kind:kind>/<int:pk>/letters/<int:letter_pk>/service/",
        service_views.LetterServiceView.as_view(),
        name="letter-service",
    ),
    path(
        "cases/<case_kind:kind>/<int:pk>/revocations/",
        revocation_views.RevocationsView.as_view(),
        name="revocations",
    ),
    path(
        "cases/<case_kind:kind>/<int:pk>/revocations/<int:revocation_pk>/",
        revocation_views.RevocationDecisionView.as_view(),
        name="revocation",
    ),
]
