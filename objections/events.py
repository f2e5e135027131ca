from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from credit.roles import Role
from notifications.models import Channel
from notifications.registry import Event, applicant, declare, heads
from notifications.reminders import Targets, applicant_deadline, reminder_source

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
_case("objection.reopened", _("the decision on your objection was set aside: it will be decided again"))
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

_case("reconsideration.filed", _("your application for reconsideration was received"), ONLINE)
_case("reconsideration.accepted", _("your application for reconsideration was accepted"))
_case("reconsideration.supplement_requested", _("materials are missing: see the notice to supplement"))
# The applicant's own clocks, reminded to them N working days before they end and on their last day: the
# supplement to an application, and the period to apply against a decision served on them.
applicant_deadline(
    "reconsideration.supplement_reply",
    declare(
        Event(
            "reconsideration.supplement_due",
            _("supply the missing materials by then, or the application is deemed withdrawn"),
            (applicant,),
            ALL,
            template="applicant.supplement",
        )
    ),
)
declare(
    Event(
        "reconsideration.window",
        _("the period to apply for administrative reconsideration of a decision is ending"),
        (applicant,),
        ALL,
    )
)


@reminder_source
def _reconsideration_windows(*, targets: Targets) -> int:
    # Imported when the sweep runs: objections.reminders needs every app's models loaded.
    from .reminders import remind_reconsideration_windows

    return remind_reconsideration_windows(targets=targets)


_case("reconsideration.withdrawn", _("the application is deemed withdrawn: the materials were not supplied"))
_case("reconsideration.extended", _("the reconsideration decision period was extended"))
_case("reconsideration.decided", _("a decision was made on your application for reconsideration"))
declare(
    Event(
        "reconsideration.ordered",
        _("the reconsideration office ordered your department to act"),
        (heads,),
        ONLINE,
        for_staff=True,
        template="case.staff_update",
    )
)

_case("complaint.filed", _("your complaint was received"), ONLINE)
_case("complaint.replied", _("your complaint was answered in writing"))
declare(
    Event(
        "complaint.new",
        _("a complaint about your department is waiting for your reply"),
        (heads,),
        ONLINE,
        for_staff=True,
        template="case.staff_update",
    )
)
