"""May this record be repaired today? If not, every reason why, and the first date it may be.

One answer serves the applicant's eligibility check (the API), filing, and the moment of deciding
(`RepairCase.check_repairable`), so the three can never disagree. Only the record's own conditions are
checked here: its state, its rule set, its periods (Order 36 Art. 14; for 轻微 the fulfilled duty), the
block after a revoked repair (Art. 25) and other open repairs. Whether the conduct was corrected and the
commitment signed is verified in the case, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from credit.models.records import IN_FORCE, CreditRecord, RecordState

from .models import OPEN_STATES, RepairCase


class Code(StrEnum):
    """Stable machine codes of the reasons: clients switch on these, never on the messages."""

    RECORD_REPAIRED = "record_repaired"
    RECORD_EXPIRED = "record_expired"
    RECORD_DELETED = "record_deleted"
    RECORD_REVOKED = "record_revoked"
    RECORD_TEMP_MASKED = "record_temp_masked"
    RECORD_NOT_IN_FORCE = "record_not_in_force"
    NOT_REPAIRABLE = "not_repairable"
    DISPLAY_ENDED = "display_ended"
    MINIMUM_NOT_REACHED = "minimum_not_reached"
    DUTY_NOT_FULFILLED = "duty_not_fulfilled"
    BLOCKED_AFTER_REVOCATION = "blocked_after_revocation"
    OPEN_REPAIR = "open_repair"


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    # The first date on which this reason no longer applies, when it is knowable.
    from_date: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "message": self.message,
            "from_date": self.from_date.isoformat() if self.from_date else None,
        }


@dataclass(frozen=True)
class Answer:
    eligible: bool
    reasons: list[Reason]
    # The first date on which an application may be made: today when eligible; None when some reason has
    # no end date (never, or not knowable) or when that date falls after the record stops being shown.
    first_date: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "reasons": [reason.as_dict() for reason in self.reasons],
        }


# A record out of force has nothing this case can repair; each state tells the applicant why. Marked with
# gettext_noop so that makemessages finds them, translated when the answer is built (the caller's language).
_STATE_REASONS: dict[str, tuple[Code, str]] = {
    RecordState.REPAIRED: (Code.RECORD_REPAIRED, gettext_noop("This record has already been repaired.")),
    RecordState.EXPIRED: (
        Code.RECORD_EXPIRED,
        gettext_noop(
            "This record's period has ended: it is no longer shown or shared, so there is nothing to repair."
        ),
    ),
    RecordState.DELETED: (
        Code.RECORD_DELETED,
        gettext_noop("This record was deleted after an objection, so there is nothing to repair."),
    ),
    RecordState.REVOKED: (
        Code.RECORD_REVOKED,
        gettext_noop("The penalty behind this record was revoked, so there is nothing to repair."),
    ),
    RecordState.TEMP_MASKED: (
        Code.RECORD_TEMP_MASKED,
        gettext_noop(
            "This record is masked during a bankruptcy reorganisation; repair may be applied for only if it "
            "is shown again."
        ),
    ),
}


def _state_reason(record: CreditRecord) -> Reason | None:
    if record.state in IN_FORCE:
        return None
    code, message = _STATE_REASONS.get(
        record.state, (Code.RECORD_NOT_IN_FORCE, gettext_noop("This record is not in force."))
    )
    return Reason(code=code, message=gettext(message))


def _has_other_open_repair(record: CreditRecord, exclude_case: RepairCase | None) -> bool:
    others = RepairCase.objects.filter(record=record, state__in=OPEN_STATES)
    if exclude_case is not None and exclude_case.pk is not None:
        others = others.exclude(pk=exclude_case.pk)
    return others.exists()


def records_with_open_repair(records: Iterable[CreditRecord]) -> set[int]:
    """The ids of those records on which a repair application is open: one statement for any number."""
    ids = [record.pk for record in records]
    if not ids:
        return set()
    return set(
        RepairCase.objects.filter(record__in=ids, state__in=OPEN_STATES).values_list("record_id", flat=True)
    )


def check_many(records: Iterable[CreditRecord], *, today: date | None = None) -> dict[int, Answer]:
    """`check` for each record, by record id, asking the database once for all of them (a page of records
    costs what one record does). The records' rule sets should be loaded with them (select_related), as the
    reason for a tier that may never be repaired names its rule set."""
    records = list(records)
    today = today or timezone.localdate()
    open_ids = records_with_open_repair(records)
    return {record.pk: check(record, today=today, open_repair=record.pk in open_ids) for record in records}


def check(
    record: CreditRecord,
    *,
    today: date | None = None,
    exclude_case: RepairCase | None = None,
    open_repair: bool | None = None,
) -> Answer:
    """Every reason why `record` may not be repaired on `today` (default: today in Shanghai).

    `exclude_case` is the case asking (at the moment of deciding): it is not "another open repair", and the
    fulfilment of a 轻微 duty recorded in it counts. `open_repair`, when the caller already knows it (a page
    of records read together: `check_many`), says whether another repair application is open on the record,
    so the check asks the database nothing; None asks it."""
    if open_repair is not None and exclude_case is not None:
        raise ValueError("open_repair is known for a list of records, exclude_case when deciding one case")
    today = today or timezone.localdate()
    reasons: list[Reason] = []

    state_reason = _state_reason(record)
    if state_reason is not None:
        reasons.append(state_reason)

    if not record.repairable:
        # 527号 特定严重: shown its full period and never repairable, whatever the date.
        reasons.append(
            Reason(
                code=Code.NOT_REPAIRABLE,
                message=gettext("Records of this tier may not be repaired under the rule set %(ruleset)s.")
                % {"ruleset": record.ruleset},
            )
        )

    if record.maximum_reached(today):
        reasons.append(
            Reason(
                code=Code.DISPLAY_ENDED,
                message=gettext(
                    "The display period ended on %(date)s: the record is no longer shown or shared."
                )
                % {"date": record.display_until.isoformat()},
            )
        )

    # The minimum period: for 轻微 it is only the day after the decision, but a domain rule (Order 58:
    # 安全生产 and others) or a penalty's own term can set a later repair_from, so every tier is checked.
    if today < record.repair_from:
        reasons.append(
            Reason(
                code=Code.MINIMUM_NOT_REACHED,
                message=gettext(
                    "Repair may be applied for from %(date)s, when the minimum period has passed."
                )
                % {"date": record.repair_from.isoformat()},
                from_date=record.repair_from,
            )
        )

    if record.repair_needs_duty_fulfilled:
        fulfilled = record.duty_fulfilled_on
        if fulfilled is None and exclude_case is not None:
            # The deciding case carries the fulfilment the applicant proved in it; the record gets the date
            # only when the repair is carried out, after this check (repair.services._repair_record).
            fulfilled = exclude_case.duty_fulfilled_on
        if fulfilled is None:
            # Only the applicant can end this one (proof of performance), so no date can be promised.
            reasons.append(
                Reason(
                    code=Code.DUTY_NOT_FULFILLED,
                    message=gettext(
                        "Repair of a minor record may be applied for once the legal duty is fulfilled; "
                        "no fulfilment has been recorded yet."
                    ),
                )
            )
        elif fulfilled > today:
            # A fulfilment recorded for a later day (a scheduled payment) counts from that day only.
            reasons.append(
                Reason(
                    code=Code.DUTY_NOT_FULFILLED,
                    message=gettext("The legal duty is recorded as fulfilled on %(date)s.")
                    % {"date": fulfilled.isoformat()},
                    from_date=fulfilled,
                )
            )

    blocked_until = record.repair_blocked_until
    if blocked_until is not None and record.repair_blocked(today):
        # The block's last day is stored; the applicant is told the first day after it.
        unblocked = blocked_until + timedelta(days=1)
        reasons.append(
            Reason(
                code=Code.BLOCKED_AFTER_REVOCATION,
                message=gettext(
                    "A repair of this record was revoked: it may be repaired again only from %(date)s."
                )
                % {"date": unblocked.isoformat()},
                from_date=unblocked,
            )
        )

    if open_repair is None:
        open_repair = _has_other_open_repair(record, exclude_case)
    if open_repair:
        reasons.append(
            Reason(
                code=Code.OPEN_REPAIR,
                message=gettext("Another repair application for this record is still open."),
            )
        )

    if not reasons:
        return Answer(eligible=True, reasons=[], first_date=today)
    return Answer(eligible=False, reasons=reasons, first_date=_first_date(record, reasons))


def _first_date(record: CreditRecord, reasons: list[Reason]) -> date | None:
    dates = [reason.from_date for reason in reasons]
    if any(d is None for d in dates):
        return None
    first = max(d for d in dates if d is not None)
    # A date after the display period would be met by "display_ended": promising it would mislead.
    return first if first <= record.display_until else None
