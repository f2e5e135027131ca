from rest_framework.routers import DefaultRouter

from .api import ObjectionViewSet

router = DefaultRouter()
router.register("objections", ObjectionViewSet, basename="objection")
api_urlpatterns = router.urls
