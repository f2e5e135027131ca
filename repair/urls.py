from rest_framework.routers import DefaultRouter

from .api import RepairViewSet

router = DefaultRouter()
router.register("repairs", RepairViewSet, basename="repair")
api_urlpatterns = router.urls
