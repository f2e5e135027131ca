from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from credit.roles import Role
from notifications.models import Channel
from notifications.registry import Event, applicant, declare

ALL = (Channel.INBOX, Channel.EMAIL, Channel.SMS)
ONLINE = (Channel.INBOX, Channel.EMAIL)


def intake(context: dict[str, Any]) -> list[Any]:
    """The platform's intake officers (city-wide): they flag the record and forward the objection."""
    return list(get_user_model().objects.filter(groups__name=Role.INTAKE, is_active=True))


def _case(name: str, title: Any, channels: tuple[str, ...] = ALL) -> Event:
    return declare(Event(name, title, (applicant,), channels, template="case.update"))


_case("objection.filed", _("your objection was received"), ONLINE)
_case("objection.forwarded", _("the record is marked as under objection and your objection was forwarded"))
_case("objection.accepted", _("your objection was accepted"))
_case("objection.extended", _("the verification period was extended"))
_case("objection.decided", _("a decision was made on your objection"))
declare(
    Event(
        "objection.new",
        _("a new objection is waiting to be flagged and forwarded"),
        (intake,),
        ONLINE,
        for_staff=True,
        template="case.staff_update",
    )
)
