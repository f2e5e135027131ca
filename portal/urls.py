from django.urls import path

from . import account, actions, filing, views

app_name = "portal"

CASE = "cases/<slug:kind>/<int:pk>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("consent/", views.consent, name="consent"),
    path("signup/", account.signup, name="signup"),
    path("identity/", account.identity_page, name="identity"),
    path("authorisations/", account.authorisations, name="authorisations"),
    path("authorisations/new/", account.authorisation_new, name="authorisation-new"),
    path("file/repair/", filing.repair_wizard, name="file-repair"),
    path("file/repair/<slug:step>/", filing.repair_wizard, name="file-repair"),
    path("file/objection/", filing.objection_wizard, name="file-objection"),
    path("file/objection/<slug:step>/", filing.objection_wizard, name="file-objection"),
    path("complaints/new/", actions.complaint, name="complaint"),
    path(CASE, views.case_detail, name="case"),
    path(f"{CASE}evidence/", actions.case_evidence, name="case-evidence"),
    path(f"{CASE}files/<int:evidence_pk>/", views.case_file, name="case-file"),
    path(f"{CASE}supply/", actions.case_supply, name="case-supply"),
    path(f"{CASE}withdraw/", actions.case_withdraw, name="case-withdraw"),
    path(f"{CASE}reconsideration/", actions.case_reconsideration, name="case-reconsideration"),
    path(f"{CASE}complaint/", actions.complaint, name="case-complaint"),
]
