from rest_framework.routers import DefaultRouter

from .api import ComplaintViewSet, ObjectionViewSet, ReconsiderationViewSet

router = DefaultRouter()
router.register("objections", ObjectionViewSet, basename="objection")
router.register("reconsiderations", ReconsiderationViewSet, basename="reconsideration")
router.register("complaints", ComplaintViewSet, basename="complaint")
api_urlpatterns = router.urls
