"""The case file and the role screens, under /staff/ (namespace "workspace", from workspace.urls)."""

from django.urls import path, register_converter

from . import case_views as views


class CaseKindConverter:
    regex = "repair|objection|reconsideration|complaint"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseKindConverter, "case_kind")

urlpatterns = [
    path("cases/<case_kind:kind>/<int:pk>/", views.CaseFileView.as_view(), name="case"),
    path(
        "cases/<case_kind:kind>/<int:pk>/steps/<slug:step>/", views.CaseStepView.as_view(), name="case-step"
    ),
    path("cases/<case_kind:kind>/<int:pk>/approval/", views.ApprovalView.as_view(), name="approval"),
    path(
        "cases/<case_kind:kind>/<int:pk>/evidence/<int:evidence_pk>/",
        views.CaseFileDownloadView.as_view(),
        name="case-evidence",
    ),
    path(
        "cases/<case_kind:kind>/<int:pk>/signed-form/",
        views.CaseFileDownloadView.as_view(),
        name="case-signed-form",
    ),
    path(
        "cases/<case_kind:kind>/<int:pk>/waive-interview/",
        views.WaiveInterviewView.as_view(),
        name="waive-interview",
    ),
    path(
        "cases/<case_kind:kind>/<int:pk>/evidence/<int:evidence_pk>/verify/",
        views.VerifyEvidenceView.as_view(),
        name="verify-evidence",
    ),
    path(
        "cases/<case_kind:kind>/<int:pk>/interviews/new/",
        views.ScheduleInterviewView.as_view(),
        name="schedule-interview",
    ),
    path(
        "cases/<case_kind:kind>/<int:pk>/interviews/<int:interview_pk>/outcome/",
        views.InterviewOutcomeView.as_view(),
        name="interview-outcome",
    ),
    path("head/extensions/", views.ExtensionsView.as_view(), name="extensions"),
    path("head/waivers/", views.WaiversView.as_view(), name="waivers"),
    path("head/escalations/", views.EscalationsView.as_view(), name="escalations"),
    path("head/escalations/<int:task_pk>/", views.ReassignView.as_view(), name="reassign"),
    path("walk-in/", views.WalkInView.as_view(), name="walk-in"),
    path("walk-in/person/", views.WalkInPersonView.as_view(), name="walk-in-person"),
]
