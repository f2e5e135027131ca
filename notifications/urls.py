from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api, views

router = DefaultRouter()
router.register("notifications", api.NotificationViewSet, basename="notification")
api_urlpatterns = router.urls

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views.read, name="notification-read"),
    path("inbox/read-all/", views.read_all, name="notification-read-all"),
]
