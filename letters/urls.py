from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api, views

router = DefaultRouter()
router.register("letters", api.LetterViewSet, basename="letter")

api_urlpatterns = [
    path("letters/verify/<str:code>/", api.verify, name="letter-verify-api"),
    path("consents/", api.give_consent, name="consent-give"),
    path("consents/withdraw/", api.withdraw_consent, name="consent-withdraw"),
    *router.urls,
]

urlpatterns = [
    path("verify/", views.verify_page, name="verify"),
    path("verify/<str:code>/", views.verify_result, name="verify-code"),
]
