from typing import Any

from django.utils.translation import gettext_lazy as _

from notifications.models import Channel
from notifications.registry import Event, applicant, declare, department_queue
from notifications.reminders import applicant_deadline

ALL = (Channel.INBOX, Channel.EMAIL, Channel.SMS)
ONLINE = (Channel.INBOX, Channel.EMAIL)


def _case(name: str, title: Any, channels: tuple[str, ...] = ALL) -> Event:
    return declare(Event(name, title, (applicant,), channels, template="case.update"))


_case("repair.filed", _("your application was received"), ONLINE)
_case("repair.accepted", _("your application was accepted"))
_case("repair.supplement_requested", _("materials are missing: see the notice to supplement"))
# The applicant's own clock: reminded to them (not to the queue) N working days before it ends and on its day.
applicant_deadline(
    "repair.supplement",
    declare(
        Event(
            "repair.supplement_due",
            _("supply the missing materials by then, or the application lapses"),
            (applicant,),
            ALL,
            template="applicant.supplement",
        )
    ),
)
_case("repair.lapsed", _("the application lapsed: the materials were not supplied in time"))
_case("repair.extended", _("the decision period was extended"))
_case("repair.interview_scheduled", _("an integrity interview is scheduled"))
_case("repair.decided", _("a decision was made"))
_case("repair.revoked", _("the credit repair was revoked"))
_case("repair.reopened", _("the decision was set aside: your application will be decided again"))
declare(
    Event(
        "repair.new_application",
        _("a new repair application is waiting"),
        (department_queue,),
        ONLINE,
        for_staff=True,
        template="case.staff_update",
    )
)
