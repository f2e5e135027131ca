"""The dashboard and the auditor's views, under /staff/ (app_name "workspace")."""

from django.urls import path

from . import report_views

urlpatterns = [
    path("dashboard/", report_views.dashboard, name="dashboard"),
    path("audit/transitions/", report_views.transition_log, name="transition-log"),
    path("audit/transitions/export/", report_views.transition_log_export, name="transition-log-export"),
    path("audit/access/", report_views.access_log, name="access-log"),
    path("audit/access/export/", report_views.access_log_export, name="access-log-export"),
]
