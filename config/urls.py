from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from credit.workflow import workflow_site
from letters.urls import api_urlpatterns as letters_api
from notifications.urls import api_urlpatterns as notifications_api
from objections.flows import ComplaintFlow, ObjectionFlow, ReconsiderationFlow
from objections.urls import api_urlpatterns as objections_api
from repair.flows import RepairFlow
from repair.urls import api_urlpatterns as repair_api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("credit.api.urls")),
    path("api/v1/", include(letters_api)),
    path("api/v1/", include(notifications_api)),
    path("api/v1/", include(repair_api)),
    path("api/v1/", include(objections_api)),
    # viewflow's staff pages (queue, inbox, archive, task forms) for the case flows, scoped per department.
    path("workflow/", workflow_site(RepairFlow, ObjectionFlow, ReconsiderationFlow, ComplaintFlow).urls),
    path("my/", include("portal.urls")),
    path("staff/", include("workspace.urls")),
    path("", include("letters.urls")),
    path("", include("notifications.urls")),
    path("", include("credit.urls")),
]
