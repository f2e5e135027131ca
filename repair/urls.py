from rest_framework.routers import DefaultRouter

from .api import RepairViewSet, RevocationViewSet

router = DefaultRouter()
router.register("repairs", RepairViewSet, basename="repair")
router.register("revocations", RevocationViewSet, basename="revocation")
api_urlpatterns = router.urls
