from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("Credit records")

    def ready(self) -> None:
        from . import checks, receivers, signals  # noqa: F401  (registers system checks and receivers)
