"""The staff workspace at /staff/: queues (queue_urls), the case file and its screens (case_urls),
the dashboard and the audit views (report_urls)."""

from django.urls import include, path
from django.views.generic import RedirectView

app_name = "workspace"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workspace:queue"), name="home"),
    path("", include("workspace.queue_urls")),
    path("", include("workspace.case_urls")),
    path("", include("workspace.report_urls")),
    path("", include("workspace.extra_urls")),
]
