"""Reminding the applicant that the period to apply for administrative reconsideration of a decision served
on them is ending (60 calendar days from the service of a letter that stated the right, 行政复议法 Art. 20).

The period is not a `Deadline` row: it runs from the letter's first service. The sweep works backwards: from
the target days (N working days ahead, and today) it finds the service days whose period ends on them, then
the services on those days through the index on `ServiceRecord.served_at`. Its cost follows the letters
served on a few days, never the whole archive.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from credit import calendar
from credit.models import RuleSet
from credit.models.rules import DeadlineUnit
from credit.periods import Period
from credit.services.deadlines import compute_due
from letters.models import Letter, LetterState, ServiceRecord
from notifications.reminders import Targets
from notifications.services import notify
from portal.links import applicant_link
from repair.models import RepairCase

from .models import Objection
from .reconsideration import Reconsideration
from .reconsideration_services import CHALLENGEABLE

EVENT = "reconsideration.window"
_ONE_DAY = timedelta(days=1)
# No run of rest days is longer than ~10 days; a period that ends on one moves at most that far.
_SLACK_DAYS = 31


def _longest_span(value: int, unit: str) -> int:
    """More calendar days than a period of `value` `unit` can take from its start to its (moved) end."""
    if unit == DeadlineUnit.WORKING_DAYS:
        return 2 * value + _SLACK_DAYS
    if unit == DeadlineUnit.CALENDAR_DAYS:
        return value + _SLACK_DAYS
    start = date(2000, 1, 1)
    return (Period(value, unit).end(start) - start).days + _SLACK_DAYS


def service_days_ending_on(days: list[date], *, value: int, unit: str) -> dict[date, date]:
    """{service day: last day to apply} for every service day whose period of `value` `unit` ends on one of
    `days`. One read of the calendar."""
    span = timedelta(days=_longest_span(value, unit))
    first = min(days) - span
    # Wide enough for every count examined (the last ones run past the target days): one query.
    loaded = calendar.Days(first, max(days) + span)
    wanted = set(days)
    found = {}
    served = first
    while served < max(days):
        last = compute_due(start=served, value=value, unit=unit, days=loaded).date
        if last in wanted:
            found[served] = last
        served += _ONE_DAY
    return found


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _served_on(days: list[date]) -> Q:
    """Services on these local days, as ranges of `served_at` (consecutive days make one range)."""
    ranges: list[list[date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] + _ONE_DAY == day:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    found = Q(pk__in=[])
    for start, end in ranges:
        found |= Q(served_at__gte=_local_midnight(start), served_at__lt=_local_midnight(end + _ONE_DAY))
    return found


def remind_reconsideration_windows(*, targets: Targets) -> int:
    """Remind the person (and their agents) of decisions served on them whose period to apply for
    reconsideration ends on a target day, while no reconsideration of the decision has been filed."""
    ruleset = RuleSet.objects.prefetch_related("deadline_rules").in_force(timezone.localdate())
    rule = ruleset.deadline_rule("reconsideration.apply")
    absolute = ruleset.deadline_rule("reconsideration.apply_absolute")
    last_days = service_days_ending_on(list(targets), value=rule.value, unit=rule.unit)
    if not last_days:
        return 0
    subject_types = {ContentType.objects.get_for_model(model).pk: model for model in CHALLENGEABLE}
    kinds = {kind for letters in CHALLENGEABLE.values() for kind in letters.values()}
    earlier = ServiceRecord.objects.filter(
        letter_id=OuterRef("letter_id"), served_at__lt=OuterRef("served_at")
    )
    corrected = Letter.objects.filter(
        content_type_id=OuterRef("letter__content_type_id"),
        object_id=OuterRef("letter__object_id"),
        kind=OuterRef("letter__kind"),
        revision__gt=OuterRef("letter__revision"),
    )
    # The first service of the latest revision of a decision letter of a challengeable act: the period runs
    # from it (reconsideration_services.file_reconsideration reads the same letter and day).
    services = list(
        ServiceRecord.objects.filter(
            _served_on(list(last_days)),
            letter__kind__in=kinds,
            letter__content_type_id__in=list(subject_types),
        )
        .exclude(letter__state=LetterState.REVOKED)
        .exclude(Exists(earlier))
        .exclude(Exists(corrected))
        .select_related("letter__person")
        .order_by("served_at", "pk")
    )
    if not services:
        return 0
    acts = _acts(services, subject_types)
    challenged = _challenged(acts.values())
    raised = 0
    for service in services:
        letter = service.letter
        act = acts.get((letter.content_type_id, letter.object_id))
        if act is None or (type(act), act.pk) in challenged:
            continue
        # Only while the act stands as the letter decided it (a decision set aside has no period running),
        # and only a letter that stated the right: without it the period is a year (not reminded here).
        if CHALLENGEABLE[type(act)].get(act.state) != letter.kind or letter.context.get("remedies") is None:
            continue
        served_on = timezone.localdate(service.served_at)
        last_day = last_days[served_on]
        if _capped(act, last_day, absolute.value, absolute.unit):
            continue
        when = targets[last_day]
        with transaction.atomic():
            raised += len(
                notify(
                    EVENT,
                    key=f"letter:{letter.pk}:reconsideration-window:{last_day.isoformat()}:{when}",
                    context={
                        "letter": letter,
                        "person": letter.person,
                        "served_on": served_on,
                        "last_day": last_day,
                        "due_today": when == "today",
                        "basis": rule.basis,
                    },
                    link=applicant_link(act),
                    case_number=str(act.number or ""),
                )
            )
    return raised


def _acts(services: list[ServiceRecord], subject_types: dict[int, Any]) -> dict[tuple[int, int], Any]:
    """The challenged acts of these letters, one query per act model."""
    wanted: dict[int, set[int]] = defaultdict(set)
    for service in services:
        wanted[service.letter.content_type_id].add(service.letter.object_id)
    found = {}
    for content_type_id, ids in wanted.items():
        for act in subject_types[content_type_id].objects.filter(pk__in=ids):
            found[(content_type_id, act.pk)] = act
    return found


def _challenged(acts: Iterable[Any]) -> set[tuple[type[models.Model], int]]:
    """The acts of which a reconsideration was ever filed. Open or decided, the applicant has applied; a
    withdrawn application bars a new one on the same facts (行政复议法 Art. 74), and a non-accepted one was
    answered by its own letter: none of them is reminded of the period again."""
    ids: dict[type[models.Model], list[int]] = defaultdict(list)
    for act in acts:
        ids[type(act)].append(act.pk)
    filed = Reconsideration.objects.filter(
        Q(objection_id__in=ids[Objection]) | Q(repair_case_id__in=ids[RepairCase])
    ).values_list("objection_id", "repair_case_id")
    return {
        (Objection, objection_id) if objection_id is not None else (RepairCase, repair_id)
        for objection_id, repair_id in filed
    }


def _capped(act: Any, last_day: date, value: int, unit: str) -> bool:
    """True when the limit counted from the act itself (5 years) ends before `last_day`: last_day_to_apply
    takes the earlier of the two, so the reminder would name the wrong day."""
    decided_on = timezone.localdate(act.decided_at)
    if unit in (DeadlineUnit.MONTHS, DeadlineUnit.YEARS) and Period(value, unit).end(decided_on) > last_day:
        return False  # the limit's end is never earlier than its nominal end: no need to read the calendar
    return compute_due(start=decided_on, value=value, unit=unit).date < last_day
