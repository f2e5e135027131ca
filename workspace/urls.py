"""The staff workspace at /staff/: queues (queue_urls), the case file and its screens (case_urls),
the dashboard and the audit views (report_urls)."""

from django.urls import include, path

app_name = "workspace"

urlpatterns = [
    path("", include("workspace.queue_urls")),
    path("", include("workspace.case_urls")),
    path("", include("workspace.report_urls")),
]
