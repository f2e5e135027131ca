from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairConfig(AppConfig):
    name = "repair"
    verbose_name = _("Credit repair")

    def ready(self) -> None:
        from credit.services.access import register_case_model

        from . import events, receivers  # noqa: F401  (declares the events; connects the step receiver)
        from .models import RepairCase

        # Staff may open a person's records "from" a repair case: the access log names it.
        register_case_model(RepairCase)
