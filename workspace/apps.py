from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """The staff pages: queues, the case file, the reviewer's and head's screens, the dashboard, the audit
    views."""

    name = "workspace"
    verbose_name = _("Staff workspace")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the queues' read model to its sources)
