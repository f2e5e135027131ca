"""Objections (信用异议, NDRC Order 36 Art. 18; 征信业管理条例 Art. 25): a person disputes a credit record, or
a decision on their repair application (不予受理 / 不予修复).

The objection's `state` is the law: its transitions carry who may act. The platform's intake flags the record
and forwards the objection to the deciding department; that department's officer accepts it (or proposes not
to, which a legal reviewer approves), verifies and drafts the decision; a legal reviewer who took no part in
the case approves it, and the decision's effect on the record (a correction kept as history, a deletion, the
flag removed, or the flag kept beside an unresolved check) is applied in the approving step's transaction."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from credit.roles import applicant, department_perm, may


class ObjectionState(models.TextChoices):
    SUBMITTED = "submitted", _("Filed, to be flagged and forwarded")
    FORWARDED = "forwarded", _("Forwarded to the deciding department")
    NON_ACCEPTANCE_REVIEW = "non_acceptance_review", _("Non-acceptance in legal review")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    ACCEPTED = "accepted", _("Accepted, being verified")
    DECISION_REVIEW = "decision_review", _("Decision in legal review")
    DECIDED = "decided", _("Decided")
    WITHDRAWN = "withdrawn", _("Withdrawn")


S = ObjectionState
OPEN_STATES = [S.SUBMITTED, S.FORWARDED, S.NON_ACCEPTANCE_REVIEW, S.ACCEPTED, S.DECISION_REVIEW]
# Before the decision is approved the applicant may withdraw (the decision is the reviewer's approval).
WITHDRAWABLE = OPEN_STATES


class Ground(models.TextChoices):
    RECORD_WRONG = "record_wrong", _("The record is wrong")
    NOT_MINE = "not_mine", _("The record is not about me")
    PERIOD_WRONG = "period_wrong", _("The record's period is wrong")
    DECISION_WRONG = "decision_wrong", _("The decision on my repair application is wrong")


RECORD_GROUNDS = [Ground.RECORD_WRONG, Ground.NOT_MINE, Ground.PERIOD_WRONG]


class Outcome(models.TextChoices):
    FOUNDED = "founded", _("Founded (异议成立)")
    NOT_FOUNDED = "not_founded", _("Not founded (异议不成立)")
    UNRESOLVED = "unresolved", _("Unresolved (无法确认)")


class Remedy(models.TextChoices):
    """What a founded objection does: to a record, correct it or delete it; to a repair decision, set it
    aside and reopen the repair case for a new decision."""

    CORRECT = "correct", _("Correct the record")
    DELETE = "delete", _("Delete the record")
    REOPEN = "reopen", _("Set the decision aside and decide the repair again")


def _intake(objection: Any, user: Any) -> bool:
    return may(user, "objections.forward_objection")


def _officer(objection: Any, user: Any) -> bool:
    return department_perm("objections.handle_objection")(objection, user)


def _reviewer(objection: Any, user: Any) -> bool:
    """The department's legal reviewer, who has not accepted, proposed or drafted anything in this case."""
    return department_perm("objections.review_objection")(objection, user) and (
        user.pk not in objection.involved_user_ids()
    )


def _head(objection: Any, user: Any) -> bool:
    return department_perm("objections.approve_extension")(objection, user)


def _not_extended(objection: Any) -> bool:
    return not objection.extended


def _set_aside_by_reconsideration(objection: Any, user: Any) -> bool:
    """The reconsideration office (never the department whose decision it was) sets a decision aside."""
    return (
        may(user, "objections.decide_reconsideration")
        and objection.department_id not in user.department_ids()
    )


def _no_other_open_objection(objection: Any) -> bool:
    from .services import open_objection_on

    other = open_objection_on(
        person_id=objection.person_id, record=objection.record, repair_case=objection.repair_case
    )
    return other is None or other.pk == objection.pk


class Objection(ConcurrentTransitionMixin, models.Model):
    class Channel(models.TextChoices):
        ONLINE = "online", _("Online, by the applicant")
        WALK_IN = "walk_in", _("At the window, entered by intake")

    number = models.CharField(_("case number"), max_length=30, unique=True, null=True, editable=False)  # noqa: DJ001
    person = models.ForeignKey("credit.Person", on_delete=models.PROTECT, related_name="objections")
    # The record concerned; with `repair_case` set, the objection is against that case's decision.
    record = models.ForeignKey("credit.CreditRecord", on_delete=models.PROTECT, related_name="objections")
    repair_case = models.ForeignKey(
        "repair.RepairCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="objections",
        verbose_name=_("repair decision objected to"),
    )
    department = models.ForeignKey(
        "credit.Department",
        on_delete=models.PROTECT,
        related_name="objections",
        verbose_name=_("deciding department"),
    )
    ruleset = models.ForeignKey(
        "credit.RuleSet", on_delete=models.PROTECT, related_name="+", verbose_name=_("rule set (procedure)")
    )
    grounds = models.JSONField(_("grounds"), default=list)
    statement = models.TextField(_("statement"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_form = models.FileField(
        _("signed objection form (walk-in)"), upload_to="objections/forms/", blank=True
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    state = FSMField(
        _("state"), max_length=30, choices=ObjectionState.choices, default=S.SUBMITTED, protected=True
    )
    forwarded_at = models.DateTimeField(null=True, blank=True)
    forwarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    non_acceptance_proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    non_acceptance_reasons = models.JSONField(default=list, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    extended = models.BooleanField(_("verification period extended"), default=False)
    draft_outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices, blank=True)
    draft_remedy = models.CharField(_("remedy"), max_length=10, choices=Remedy.choices, blank=True)
    draft_corrections = models.JSONField(_("corrections"), default=dict, blank=True)
    draft_findings = models.TextField(_("findings of the check"), blank=True)
    draft_reasons = models.JSONField(default=list, blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-received_at", "-id"]
        constraints = [
            # One open objection per person and target, whatever races the API sees.
            models.UniqueConstraint(
                fields=["person", "record"],
                condition=models.Q(state__in=OPEN_STATES, repair_case__isnull=True),
                name="one_open_objection_per_record",
            ),
            models.UniqueConstraint(
                fields=["person", "repair_case"],
                condition=models.Q(state__in=OPEN_STATES, repair_case__isnull=False),
                name="one_open_objection_per_decision",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "state", "received_at"], name="objection_queue"),
            # The staff dashboard (workspace.stats): the cases decided, and city-wide received, in a period;
            # as repair_decided and repair_received.
            models.Index(
                fields=["decided_at"], condition=models.Q(decided_at__isnull=False), name="objection_decided"
            ),
            models.Index(fields=["received_at"], name="objection_received"),
        ]
        permissions = [
            ("forward_objection", _("Flag records and forward objections; file for walk-in applicants")),
            ("handle_objection", _("Handle objections (accept, verify, draft)")),
            ("review_objection", _("Legal review of objection decisions")),
            ("approve_extension", _("Approve extensions of an objection's verification")),
            ("decide_reconsideration", _("Accept and decide administrative reconsideration")),
        ]

    def __str__(self) -> str:
        return self.number or f"objection #{self.pk}"

    @property
    def targets_decision(self) -> bool:
        return self.repair_case_id is not None

    def involved_user_ids(self) -> set[int]:
        ids = {self.accepted_by_id, self.non_acceptance_proposed_by_id, self.drafted_by_id}
        return {i for i in ids if i is not None}

    # -- transitions: see docs/states.md -------------------------------------------------------------
    @transition(
        field=state,
        source=S.SUBMITTED,
        target=S.FORWARDED,
        permission=_intake,
        custom={"label": _("Flag the record and forward to the deciding department")},
    )
    def forward(self, *, actor: Any = None, **ctx: Any) -> None:
        self.forwarded_at = timezone.now()
        self.forwarded_by = actor

    @transition(
        field=state, source=S.FORWARDED, target=S.ACCEPTED, permission=_officer, custom={"label": _("Accept")}
    )
    def accept(self, *, actor: Any = None, **ctx: Any) -> None:
        self.accepted_at = timezone.now()
        self.accepted_by = actor

    @transition(
        field=state,
        source=S.FORWARDED,
        target=S.NON_ACCEPTANCE_REVIEW,
        permission=_officer,
        custom={"label": _("Propose not to accept"), "payload": "objections.api.ReasonsSerializer"},
    )
    def propose_non_acceptance(self, *, actor: Any = None, payload: dict[str, Any], **ctx: Any) -> None:
        self.non_acceptance_proposed_by = actor
        self.non_acceptance_reasons = payload["reasons"]

    @transition(
        field=state,
        source=S.NON_ACCEPTANCE_REVIEW,
        target=S.NOT_ACCEPTED,
        permission=_reviewer,
        custom={"label": _("Approve the non-acceptance")},
    )
    def approve_non_acceptance(self, *, actor: Any = None, **ctx: Any) -> None:
        self.decided_by = actor
        self.decided_at = self.closed_at = timezone.now()

    @transition(
        field=state,
        source=S.NON_ACCEPTANCE_REVIEW,
        target=S.FORWARDED,
        permission=_reviewer,
        custom={"label": _("Return to the officer"), "reason_required": True},
    )
    def return_non_acceptance(self, **ctx: Any) -> None:
        self.non_acceptance_proposed_by = None

    @transition(
        field=state,
        source=S.ACCEPTED,
        target=None,
        conditions=[_not_extended],
        permission=_head,
        custom={
            "label": _("Extend the verification"),
            "reason_required": True,
            "payload": "objections.api.ExtensionSerializer",
        },
    )
    def extend(self, **ctx: Any) -> None:
        self.extended = True

    @transition(
        field=state,
        source=S.ACCEPTED,
        target=S.DECISION_REVIEW,
        permission=_officer,
        custom={"label": _("Draft the decision"), "payload": "objections.api.DraftSerializer"},
    )
    def draft_decision(self, *, actor: Any = None, payload: dict[str, Any], **ctx: Any) -> None:
        from .services import check_draft

        check_draft(self, payload)
        self.draft_outcome = payload["outcome"]
        self.draft_remedy = payload.get("remedy", "")
        self.draft_corrections = payload.get("corrections") or {}
        self.draft_findings = payload.get("findings", "")
        self.draft_reasons = payload.get("reasons", [])
        self.drafted_by = actor

    @transition(
        field=state,
        source=S.DECISION_REVIEW,
        target=S.DECIDED,
        permission=_reviewer,
        custom={"label": _("Approve the decision")},
    )
    def approve_decision(self, *, actor: Any = None, **ctx: Any) -> None:
        self.decided_by = actor
        self.decided_at = self.closed_at = timezone.now()

    @transition(
        field=state,
        source=S.DECISION_REVIEW,
        target=S.ACCEPTED,
        permission=_reviewer,
        custom={"label": _("Return the draft with comments"), "reason_required": True},
    )
    def return_decision(self, **ctx: Any) -> None:
        self.draft_outcome = self.draft_remedy = ""
        self.draft_corrections = {}
        self.drafted_by = None

    @transition(
        field=state,
        source=[S.DECIDED, S.NOT_ACCEPTED],
        target=RETURN_VALUE(S.ACCEPTED, S.FORWARDED),
        conditions=[_no_other_open_objection],
        permission=_set_aside_by_reconsideration,
        custom={"label": _("Reopen for a new decision"), "via_case": True, "reason_required": True},
    )
    def reopen(self, **ctx: Any) -> str:
        """The decision was set aside on reconsideration: a decided objection is verified again, one not
        accepted goes back to the acceptance decision."""
        target = S.ACCEPTED if self.state == S.DECIDED else S.FORWARDED
        self.reopened_count += 1
        self.draft_outcome = self.draft_remedy = ""
        self.draft_corrections = {}
        self.draft_reasons = []
        self.drafted_by = self.non_acceptance_proposed_by = self.decided_by = None
        self.decided_at = self.closed_at = None
        return target

    @transition(
        field=state,
        source=WITHDRAWABLE,
        target=S.WITHDRAWN,
        permission=applicant,
        custom={"label": _("Withdraw")},
    )
    def withdraw(self, **ctx: Any) -> None:
        self.closed_at = timezone.now()


class ObjectionEvidence(models.Model):
    """A file the applicant (or intake) gives with the objection: checked from its content, as repair's."""

    objection = models.ForeignKey(Objection, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to="objections/evidence/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("objection evidence")
        verbose_name_plural = _("objection evidence")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


from .complaint import Complaint, ComplaintState  # noqa: E402  (their own modules; loaded with the models)
from .reconsideration import (  # noqa: E402
    Decision,
    Reconsideration,
    ReconsiderationState,
)

__all__ = [
    "Complaint",
    "ComplaintState",
    "Decision",
    "Ground",
    "Objection",
    "ObjectionEvidence",
    "ObjectionState",
    "Outcome",
    "Reconsideration",
    "ReconsiderationState",
    "Remedy",
]
