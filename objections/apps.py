from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObjectionsConfig(AppConfig):
    name = "objections"
    verbose_name = _("Objections, reconsideration and complaints")

    def ready(self) -> None:
        from credit.services.access import register_case_model

        from . import events, receivers  # noqa: F401  (declares the events; connects the step receiver)
        from .models import Complaint, Objection, Reconsideration

        # Staff may open a person's records "from" an objection or a reconsideration: the access log names it.
        register_case_model(Objection)
        register_case_model(Reconsideration)
        register_case_model(Complaint)
