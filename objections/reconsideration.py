"""Administrative reconsideration (行政复议法, 2023): the person challenges an objection decision or a repair
refusal or non-acceptance before the city's reconsideration office, never the department challenged.

- Acceptance within 5 WD, or it is deemed accepted by a timer.
- A supplement requested within 5 WD and supplied within 10 WD, or the application is deemed withdrawn.
- The decision within 60 calendar days of acceptance (30 in the simplified procedure), extendable once by 30.
  A reconsideration officer drafts it and another approves it.
- Its effect is applied in the approving step's transaction: 变更 corrects the record; 撤销 and 确认无效
  set the challenged decision aside and reopen its case; 责令履行 orders the department to act; the others
  change nothing. The record stays in force while the review runs.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from credit.roles import applicant, may, nobody


class ReconsiderationState(models.TextChoices):
    SUBMITTED = "submitted", _("Applied, waiting for the acceptance decision")
    AWAITING_SUPPLEMENT = "awaiting_supplement", _("Waiting for the applicant's supplement")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    ACCEPTED = "accepted", _("Accepted, under review")
    DECISION_REVIEW = "decision_review", _("Decision awaiting approval")
    DECIDED = "decided", _("Decided")
    WITHDRAWN = "withdrawn", _("Withdrawn")


R = ReconsiderationState
OPEN_RECONSIDERATION = [R.SUBMITTED, R.AWAITING_SUPPLEMENT, R.ACCEPTED, R.DECISION_REVIEW]


class Decision(models.TextChoices):
    VARY = "vary", _("Vary the act (变更)")
    SET_ASIDE = "set_aside", _("Set the act aside (撤销)")
    CONFIRM_UNLAWFUL = "confirm_unlawful", _("Declare the act unlawful (确认违法)")
    ORDER_PERFORMANCE = "order_performance", _("Order the department to act (责令履行)")
    CONFIRM_INVALID = "confirm_invalid", _("Declare the act invalid (确认无效)")
    UPHOLD = "uphold", _("Uphold the act (维持)")
    DISMISS = "dismiss", _("Dismiss the request (驳回)")
    MEDIATION = "mediation", _("Closed by mediation (调解)")
    SETTLEMENT = "settlement", _("Closed by settlement (和解)")


# Outcomes that set the challenged decision aside and send its case back for a new decision.
REOPENING = [Decision.SET_ASIDE, Decision.CONFIRM_INVALID]


def _office(case: Any, user: Any) -> bool:
    """A reconsideration officer, who is not a member of the department whose act is challenged."""
    return may(user, "objections.decide_reconsideration") and case.department_id not in user.department_ids()


def _approver(case: Any, user: Any) -> bool:
    """Another reconsideration officer: never the one who drafted the decision."""
    return _office(case, user) and user.pk != case.drafted_by_id


def _applicant_or_intake(case: Any, user: Any) -> bool:
    return applicant(case, user) or may(user, "objections.forward_objection")


def _no_supplement_yet(case: Any) -> bool:
    return not case.supplement_requested


def _not_extended(case: Any) -> bool:
    return not case.extended


class Reconsideration(ConcurrentTransitionMixin, models.Model):
    class Channel(models.TextChoices):
        ONLINE = "online", _("Online, by the applicant")
        WALK_IN = "walk_in", _("At the window, entered by intake")

    number = models.CharField(_("case number"), max_length=30, unique=True, null=True, editable=False)  # noqa: DJ001
    person = models.ForeignKey("credit.Person", on_delete=models.PROTECT, related_name="reconsiderations")
    record = models.ForeignKey(
        "credit.CreditRecord", on_delete=models.PROTECT, related_name="reconsiderations"
    )
    # The challenged act: exactly one of these.
    objection = models.ForeignKey(
        "objections.Objection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reconsiderations",
        verbose_name=_("objection decision challenged"),
    )
    repair_case = models.ForeignKey(
        "repair.RepairCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reconsiderations",
        verbose_name=_("repair decision challenged"),
    )
    # The department whose act is challenged (the respondent, 被申请人): its staff see the case.
    department = models.ForeignKey(
        "credit.Department", on_delete=models.PROTECT, related_name="reconsiderations_against"
    )
    office = models.ForeignKey(
        "credit.Department",
        on_delete=models.PROTECT,
        related_name="reconsiderations",
        verbose_name=_("reconsideration office"),
    )
    ruleset = models.ForeignKey(
        "credit.RuleSet", on_delete=models.PROTECT, related_name="+", verbose_name=_("rule set (procedure)")
    )
    request = models.TextField(_("what the applicant asks for (复议请求)"))
    statement = models.TextField(_("facts and reasons"))
    knew_on = models.DateField(_("knew of the act on"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_form = models.FileField(
        _("signed application (walk-in)"), upload_to="reconsiderations/forms/", blank=True
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    state = FSMField(
        _("state"), max_length=30, choices=ReconsiderationState.choices, default=R.SUBMITTED, protected=True
    )
    supplement_requested = models.BooleanField(default=False)
    supplement_missing = models.JSONField(_("materials to supplement"), default=list, blank=True)
    non_acceptance_reasons = models.JSONField(default=list, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deemed_accepted = models.BooleanField(_("deemed accepted"), default=False)
    simplified = models.BooleanField(_("simplified procedure"), default=False)
    extended = models.BooleanField(_("decision period extended"), default=False)
    draft_decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices, blank=True)
    draft_corrections = models.JSONField(_("corrections (变更)"), default=dict, blank=True)
    draft_findings = models.TextField(_("facts found"), blank=True)
    draft_reasons = models.JSONField(default=list, blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("administrative reconsideration")
        verbose_name_plural = _("administrative reconsiderations")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(objection__isnull=True) ^ models.Q(repair_case__isnull=True),
                name="reconsideration_one_challenged_act",
            ),
            models.UniqueConstraint(
                fields=["objection"],
                condition=models.Q(state__in=OPEN_RECONSIDERATION, objection__isnull=False),
                name="one_open_reconsideration_per_objection",
            ),
            models.UniqueConstraint(
                fields=["repair_case"],
                condition=models.Q(state__in=OPEN_RECONSIDERATION, repair_case__isnull=False),
                name="one_open_reconsideration_per_repair",
            ),
        ]
        indexes = [
            models.Index(fields=["office", "state", "received_at"], name="reconsideration_queue"),
            # The staff dashboard (workspace.stats): the cases decided, and city-wide received, in a period;
            # as repair.RepairCase's repair_decided and repair_received.
            models.Index(
                fields=["decided_at"],
                condition=models.Q(decided_at__isnull=False),
                name="reconsideration_decided",
            ),
            models.Index(fields=["received_at"], name="reconsideration_received"),
        ]

    def __str__(self) -> str:
        return self.number or f"reconsideration #{self.pk}"

    @property
    def challenged(self) -> Any:
        return self.objection if self.objection_id else self.repair_case

    # -- transitions: see docs/states.md -------------------------------------------------------------
    @transition(
        field=state,
        source=R.SUBMITTED,
        target=R.ACCEPTED,
        permission=_office,
        custom={"label": _("Accept"), "payload": "objections.api.ReconsiderationAcceptSerializer"},
    )
    def accept(self, *, actor: Any = None, payload: dict[str, Any], **ctx: Any) -> None:
        self.accepted_at = timezone.now()
        self.accepted_by = actor
        self.simplified = bool(payload.get("simplified"))

    @transition(
        field=state,
        source=R.SUBMITTED,
        target=R.ACCEPTED,
        permission=nobody,
        custom={"label": _("Deemed accepted (no decision in time)"), "system": True},
    )
    def deem_accepted(self, **ctx: Any) -> None:
        self.accepted_at = timezone.now()
        self.deemed_accepted = True

    @transition(
        field=state,
        source=R.SUBMITTED,
        target=R.AWAITING_SUPPLEMENT,
        conditions=[_no_supplement_yet],
        permission=_office,
        custom={
            "label": _("Request a supplement (one notice)"),
            "payload": "objections.api.SupplementRequestSerializer",
        },
    )
    def request_supplement(self, *, payload: dict[str, Any], **ctx: Any) -> None:
        self.supplement_requested = True
        self.supplement_missing = payload["missing"]

    @transition(
        field=state,
        source=R.AWAITING_SUPPLEMENT,
        target=R.SUBMITTED,
        permission=_applicant_or_intake,
        custom={"label": _("Supply the missing materials")},
    )
    def supply(self, **ctx: Any) -> None:
        pass

    @transition(
        field=state,
        source=R.AWAITING_SUPPLEMENT,
        target=R.WITHDRAWN,
        permission=nobody,
        custom={"label": _("Deemed withdrawn (not supplemented in time)"), "system": True},
    )
    def deem_withdrawn(self, **ctx: Any) -> None:
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=R.SUBMITTED,
        target=R.NOT_ACCEPTED,
        permission=_office,
        custom={"label": _("Do not accept"), "payload": "objections.api.ReasonsSerializer"},
    )
    def reject(self, *, actor: Any = None, payload: dict[str, Any], **ctx: Any) -> None:
        self.non_acceptance_reasons = payload["reasons"]
        self.decided_by = actor
        self.decided_at = self.closed_at = timezone.now()

    @transition(
        field=state,
        source=R.ACCEPTED,
        target=None,
        conditions=[_not_extended],
        permission=_office,
        custom={"label": _("Extend the decision period (approved)"), "reason_required": True},
    )
    def extend(self, **ctx: Any) -> None:
        self.extended = True

    @transition(
        field=state,
        source=R.ACCEPTED,
        target=R.DECISION_REVIEW,
        permission=_office,
        custom={"label": _("Draft the decision"), "payload": "objections.api.ReconsiderationDraftSerializer"},
    )
    def draft(self, *, actor: Any = None, payload: dict[str, Any], **ctx: Any) -> None:
        from .reconsideration_services import check_reconsideration_draft

        check_reconsideration_draft(self, payload)
        self.draft_decision = payload["decision"]
        self.draft_corrections = payload.get("corrections") or {}
        self.draft_findings = payload.get("findings", "")
        self.draft_reasons = payload.get("reasons", [])
        self.drafted_by = actor

    @transition(
        field=state,
        source=R.DECISION_REVIEW,
        target=R.DECIDED,
        permission=_approver,
        custom={"label": _("Approve the decision")},
    )
    def approve(self, *, actor: Any = None, **ctx: Any) -> None:
        self.decided_by = actor
        self.decided_at = self.closed_at = timezone.now()

    @transition(
        field=state,
        source=R.DECISION_REVIEW,
        target=R.ACCEPTED,
        permission=_approver,
        custom={"label": _("Return the draft with comments"), "reason_required": True},
    )
    def return_draft(self, **ctx: Any) -> None:
        self.draft_decision = ""
        self.draft_corrections = {}
        self.drafted_by = None

    @transition(
        field=state,
        source=OPEN_RECONSIDERATION,
        target=R.WITHDRAWN,
        permission=applicant,
        custom={"label": _("Withdraw")},
    )
    def withdraw(self, **ctx: Any) -> None:
        self.closed_at = timezone.now()


class ReconsiderationEvidence(models.Model):
    """A file the applicant (or intake, for a walk-in applicant) gives with the application, or in answer to
    the office's notice to supplement: checked from its content, as repair's and objections' evidence
    (credit.uploads), and served only through permission-checked views."""

    reconsideration = models.ForeignKey(Reconsideration, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to="reconsiderations/evidence/%Y/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # Given in answer to the notice to supplement (the office checks these against the materials it listed).
    supplement = models.BooleanField(_("answers the notice to supplement"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("reconsideration evidence")
        verbose_name_plural = _("reconsideration evidence")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name
