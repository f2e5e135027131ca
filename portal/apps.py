from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The applicant's pages: records, filing, case pages, letters (mobile-first)."""

    name = "portal"
    verbose_name = _("Applicant portal")
