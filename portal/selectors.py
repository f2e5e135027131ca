"""Reads for the applicant's pages. Everything starts from the kernel's scoped reads (`scoped`, `records_for`,
`complaints_for`), so an applicant sees the cases and records of the persons they act for and nothing else.
Lists are pages with a fixed number of statements, whatever the number of cases or records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from credit.models import Authorisation, CreditRecord, Deadline, IdentityClaim, Person, RuleSet, TransitionLog
from credit.models.people import persons_acted_for
from credit.models.records import CORRECTABLE
from credit.selectors import deadlines_of, records_for, scoped, timeline
from credit.services.transitions import state_field, transition_meta
from credit.sla import Countdown, countdowns
from letters.models import Letter, ServiceConsent
from notifications.reminders import APPLICANT_DEADLINES
from objections.complaint_services import complaints_for
from objections.models import OPEN_STATES as OPEN_OBJECTION
from objections.models import Complaint, Objection, Reconsideration
from objections.reconsideration_services import (
    CHALLENGEABLE,
    decision_letter,
    last_day_to_apply,
    open_reconsideration_of,
)
from repair import eligibility
from repair.models import OPEN_STATES as OPEN_REPAIR
from repair.models import RepairCase

PAGE_SIZE = 10
# Cases are merged from four tables newest first: a page deep in the list reads every row before it, so the
# pages stop somewhere. An applicant with more cases than this reads the older ones in their letters.
MAX_CASE_PAGES = 20


# -- the four kinds of case --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseKind:
    slug: str
    label: Promise
    model: type[models.Model]
    visible: Callable[[Any], models.QuerySet[Any]]

    def __str__(self) -> str:
        return str(self.label)


KINDS: dict[str, CaseKind] = {
    kind.slug: kind
    for kind in (
        CaseKind(
            "repair",
            _("Credit repair"),
            RepairCase,
            lambda user: scoped(user, RepairCase.objects.select_related("record", "department")),
        ),
        CaseKind(
            "objection",
            _("Objection"),
            Objection,
            lambda user: scoped(
                user, Objection.objects.select_related("record", "repair_case", "department")
            ),
        ),
        CaseKind(
            "reconsideration",
            _("Administrative reconsideration"),
            Reconsideration,
            lambda user: scoped(
                user,
                Reconsideration.objects.select_related(
                    "record", "objection", "repair_case", "department", "office"
                ),
            ),
        ),
        # A complaint's own rule: the complainant, the head concerned, the auditors (never scoped()).
        CaseKind(
            "complaint",
            _("Complaint"),
            Complaint,
            lambda user: complaints_for(user).select_related("department"),
        ),
    )
}


def case_for(user: Any, slug: str, pk: int) -> tuple[CaseKind, Any]:
    """The case of this kind, if the user may see it; otherwise 404, as if it did not exist."""
    kind = KINDS.get(slug)
    if kind is None:
        raise Http404
    case = kind.visible(user).filter(pk=pk).first()
    if case is None:
        raise Http404
    return kind, case


# -- deadlines and countdowns ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clock:
    """A pending clock as the applicant reads it: what, when, how long to go, and whose move it is."""

    description: str
    due_date: date
    countdown: Countdown
    applicants_own: bool  # the applicant must act before it ends (a supplement, a reconsideration)
    basis: str = ""
    provisional: bool = False


def is_applicants_own(kind: str) -> bool:
    return kind in APPLICANT_DEADLINES


def _clock(deadline: Deadline, counted: dict[date, Countdown]) -> Clock:
    return Clock(
        description=deadline.description,
        due_date=deadline.due_date,
        countdown=counted[deadline.due_date],
        applicants_own=is_applicants_own(deadline.kind),
        basis=deadline.basis,
        provisional=deadline.provisional,
    )


# -- the home page -----------------------------------------------------------------------------------------
@dataclass
class RecordRow:
    record: CreditRecord
    answer: eligibility.Answer
    open_repair: tuple[int, str] | None  # (pk, number)
    open_objection: tuple[int, str] | None

    @property
    def may_apply_now(self) -> bool:
        return repairable_by_filing(self.answer) and self.open_repair is None

    @property
    def may_object(self) -> bool:
        return self.record.state in CORRECTABLE and self.open_objection is None


def repairable_by_filing(answer: eligibility.Answer) -> bool:
    """An application can be filed: eligible, or held back only by a minor record's duty, which the
    application itself proves (repair.services.file_repair)."""
    return all(reason.code == eligibility.Code.DUTY_NOT_FULFILLED for reason in answer.reasons)


def _page_number(value: Any) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def record_page(
    user: Any, page: Any, *, today: date | None = None
) -> tuple[Page[CreditRecord], list[RecordRow]]:
    """A page of the user's records, each with its repair eligibility (first possible date) and the open
    cases on it, in a fixed number of statements: the open repairs read here are what eligibility would
    otherwise ask once per record ("another repair is open")."""
    today = today or timezone.localdate()
    paginator = Paginator(records_for(user).order_by("-decision_date", "-id"), PAGE_SIZE)
    records = paginator.get_page(_page_number(page))
    ids = [record.pk for record in records]
    repairs = {
        record_id: (pk, number)
        for record_id, pk, number in RepairCase.objects.filter(
            record__in=ids, state__in=OPEN_REPAIR
        ).values_list("record_id", "pk", "number")
    }
    objections = {
        record_id: (pk, number)
        for record_id, pk, number in Objection.objects.filter(
            record__in=ids, repair_case__isnull=True, state__in=OPEN_OBJECTION
        ).values_list("record_id", "pk", "number")
    }
    rows = [
        RecordRow(
            record=record,
            answer=eligibility.check(record, today=today, open_repair=record.pk in repairs),
            open_repair=repairs.get(record.pk),
            open_objection=objections.get(record.pk),
        )
        for record in records
    ]
    return records, rows


@dataclass
class CaseRow:
    kind: CaseKind
    case: Any
    next_clock: Clock | None


@dataclass
class CasePage:
    rows: list[CaseRow]
    number: int
    has_previous: bool
    has_next: bool

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _sort_key(case: Any) -> tuple[Any, int]:
    return (case.received_at, case.pk)


def case_page(user: Any, page: Any, *, today: date | None = None) -> CasePage:
    """The user's cases of all four kinds, newest first, each with its next pending deadline and its
    countdown: one statement per kind, one for the deadlines, one read of the calendar."""
    today = today or timezone.localdate()
    number = min(_page_number(page), MAX_CASE_PAGES)
    end = number * PAGE_SIZE
    merged: list[tuple[CaseKind, Any]] = []
    for kind in KINDS.values():
        newest = kind.visible(user).order_by("-received_at", "-id")[: end + 1]
        merged.extend((kind, case) for case in newest)
    merged.sort(key=lambda pair: _sort_key(pair[1]), reverse=True)
    shown = merged[end - PAGE_SIZE : end]
    clocks = next_clocks([case for _kind, case in shown], today=today)
    return CasePage(
        rows=[CaseRow(kind, case, clocks.get((kind.model, case.pk))) for kind, case in shown],
        number=number,
        has_previous=number > 1,
        has_next=len(merged) > end and number < MAX_CASE_PAGES,
    )


def next_clocks(cases: Sequence[models.Model], *, today: date) -> dict[tuple[type[models.Model], int], Clock]:
    """The earliest pending deadline of each case, in one statement, with its countdown."""
    if not cases:
        return {}
    by_type: dict[type[models.Model], list[int]] = {}
    for case in cases:
        by_type.setdefault(type(case), []).append(case.pk)
    types = {model: ContentType.objects.get_for_model(model) for model in by_type}
    where = models.Q(pk__in=[])
    for model, ids in by_type.items():
        where |= models.Q(content_type=types[model], object_id__in=ids)
    model_of = {content_type.pk: model for model, content_type in types.items()}
    first: dict[tuple[type[models.Model], int], Deadline] = {}
    for deadline in Deadline.objects.pending().filter(where).order_by("due_date", "id"):
        first.setdefault((model_of[deadline.content_type_id], deadline.object_id), deadline)
    counted = countdowns([d.due_date for d in first.values()], today)
    return {key: _clock(deadline, counted) for key, deadline in first.items()}


def letter_page(user: Any, page: Any) -> Page[Letter]:
    letters = scoped(user, Letter.objects.select_related("department")).order_by("-created_at", "-id")
    return Paginator(letters, PAGE_SIZE).get_page(_page_number(page))


@dataclass
class PersonConsent:
    person: Person
    consent: ServiceConsent | None


def persons_of(user: Any) -> list[Person]:
    """The persons the user acts for: their own and, for an agent, those of verified authorisations."""
    return list(Person.objects.filter(pk__in=list(persons_acted_for(user))).order_by("pk"))


def consents_of(persons: Iterable[Person]) -> list[PersonConsent]:
    persons = list(persons)
    in_force: dict[int, ServiceConsent] = {}
    for consent in ServiceConsent.objects.filter(person__in=persons, withdrawn_at__isnull=True).order_by(
        "given_at"
    ):
        in_force[consent.person_id] = consent  # the latest wins
    return [PersonConsent(person, in_force.get(person.pk)) for person in persons]


# -- the case page -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimelineRow:
    at: Any
    label: str
    state: str
    actor: str
    reason: str


# Steps written to the timeline that are not transitions of the state machine.
_OTHER_STEPS: dict[str, Promise] = {
    "file": _("Filed"),
    "add_evidence": _("Evidence added"),
    "verify_evidence": _("Evidence checked"),
    "record_interview": _("Interview recorded"),
    "waive_interview": _("Interview waived"),
}
# Whose reasons are internal bookkeeping (the evidence list shows the outcome and the reason for a rejection).
_REASON_HIDDEN = {"verify_evidence"}


def timeline_rows(case: models.Model, user: Any) -> list[TimelineRow]:
    """The case's audit trail as the applicant reads it: staff are "staff", never named (as on the API)."""
    states = dict(state_field(type(case)).flatchoices)  # type: ignore[attr-defined]
    rows = []
    entry: TransitionLog
    for entry in timeline(case, for_applicant=True):
        meta = transition_meta(type(case), entry.transition)
        label = meta.custom.get("label", entry.transition) if meta else _OTHER_STEPS.get(entry.transition)
        if entry.actor_id is None:
            actor = _("the system")
        elif entry.actor_id == user.pk:
            actor = _("you")
        else:
            actor = _("staff")
        rows.append(
            TimelineRow(
                at=entry.at,
                label=str(label or entry.transition),
                state=str(states.get(entry.to_state, entry.to_state)),
                actor=str(actor),
                reason="" if entry.transition in _REASON_HIDDEN else entry.reason,
            )
        )
    return rows


@dataclass(frozen=True)
class DeadlineRow:
    deadline: Deadline
    clock: Clock | None  # pending deadlines only

    @property
    def applicants_own(self) -> bool:
        return is_applicants_own(self.deadline.kind)


@dataclass(frozen=True)
class ReconsiderationWindow:
    """The period to apply for administrative reconsideration of this decision (the applicant's clock)."""

    last_day: date | None  # None: it runs from the day the applicant learned of it (not served)
    clock: Clock | None
    open_number: str | None  # a reconsideration already filed and open


def deadline_rows(
    case: models.Model, *, today: date
) -> tuple[list[DeadlineRow], ReconsiderationWindow | None]:
    """Every deadline of the case (pending ones with their countdown) and, for a decision that can be
    challenged, the period to apply for reconsideration; one read of the calendar for all the countdowns."""
    deadlines = list(deadlines_of(case))
    pending = [d for d in deadlines if d.status == Deadline.Status.PENDING]
    window_day, window_known, open_number = None, False, None
    if type(case) in CHALLENGEABLE and getattr(case, "state", None) in CHALLENGEABLE[type(case)]:
        window_known = True
        existing = open_reconsideration_of(case)
        open_number = existing.number if existing is not None else None
        letter = decision_letter(case)
        served = letter.served_at if letter is not None else None
        if served is not None:
            window_day = last_day_to_apply(
                case, knew_on=timezone.localdate(served), ruleset=RuleSet.objects.in_force(today)
            )
    counted = countdowns([d.due_date for d in pending] + ([window_day] if window_day else []), today)
    rows = [
        DeadlineRow(d, _clock(d, counted) if d.status == Deadline.Status.PENDING else None) for d in deadlines
    ]
    window = None
    if window_known:
        clock = None
        if window_day is not None:
            clock = Clock(
                description=str(_("Apply for administrative reconsideration")),
                due_date=window_day,
                countdown=counted[window_day],
                applicants_own=True,
            )
        window = ReconsiderationWindow(last_day=window_day, clock=clock, open_number=open_number)
    return rows, window


def letters_of(user: Any, case: models.Model) -> list[Letter]:
    return list(
        scoped(user, Letter.objects.for_object(case).select_related("department")).order_by(
            "created_at", "id"
        )
    )


# -- the account: its identity claims and authorisations ---------------------------------------------------
def claims_of(user: Any) -> list[IdentityClaim]:
    """The account's identity claims, newest first (the identity page; the home page when not linked)."""
    return list(IdentityClaim.objects.filter(user=user).order_by("-created_at", "-id"))


def last_claim_of(user: Any) -> IdentityClaim | None:
    return IdentityClaim.objects.filter(user=user).order_by("-created_at", "-id").first()


def own_person(user: Any) -> Person | None:
    """The person this account is linked to (verified), not the persons it acts for as an agent."""
    return Person.objects.filter(user=user).first()


@dataclass(frozen=True)
class AuthorisationRow:
    authorisation: Authorisation
    reason: str  # why intake rejected or revoked it, as intake wrote it; "" otherwise


def _with_reasons(found: list[Authorisation]) -> list[AuthorisationRow]:
    ended = [a.pk for a in found if a.status in (Authorisation.Status.REJECTED, Authorisation.Status.REVOKED)]
    reasons: dict[int, str] = {}
    if ended:
        steps = TransitionLog.objects.filter(
            content_type=ContentType.objects.get_for_model(Authorisation),
            object_id__in=ended,
            transition__in=["reject", "revoke"],
        ).order_by("at", "id")
        reasons = {step.object_id: step.reason for step in steps}
    return [AuthorisationRow(a, reasons.get(a.pk, "")) for a in found]


def authorisations_of(agent: Any) -> list[AuthorisationRow]:
    """The authorisations the account submitted as an agent, newest first, each with the reason of a
    rejection or revocation (read from the transition log): at most two reads."""
    return _with_reasons(
        list(Authorisation.objects.filter(agent=agent).select_related("person").order_by("-id"))
    )


def agents_for(person: Person | None) -> list[AuthorisationRow]:
    """Who may act, or asks to act, for the account's own person: so that a person sees every agent intake
    verified for them, and can object to one they never authorised."""
    if person is None:
        return []
    return _with_reasons(
        list(Authorisation.objects.filter(person=person).select_related("agent").order_by("-id"))
    )
