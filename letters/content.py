"""What a letter says: the context its template is rendered from, frozen in `Letter.context` when the letter
is decided. Templates: `templates/letters/<language>/<kind>.html` (language `zh-hans` for the signed
letter, `en` for the courtesy translation), all extending `letters/<language>/base.html`.

The context (JSON-serialisable; dates as ISO strings, turned back into dates by `for_template`):

    letter:      reference_number, kind, case_number, issued_on (date), verification_code, verify_url
    department:  name
    person:      name, id_type (IdType value), id_masked
    record:      number, record_type (value), domain (value), decision_number, decision_date, tier (value),
                 repair_from, display_until, facts, ruleset (name), under_objection,
                 penalties: [{kind (value), tier (value), amount (str|null), term ("6 months"|null)}]
                 (absent for letters about a case that concerns no single record)
    decision:    outcome (a short key, e.g. "founded", "approved"), summary, reasons: [str]
    basis:       [str]   legal basis, articles of the rule set
    remedies:    null, or {reconsideration_days, reconsideration_basis, litigation_months, litigation_basis,
                 litigation_days, litigation_days_basis}; the last two are the period for a lawsuit after a
                 reconsideration decision (行政诉讼法 Art. 45), used by that kind's letter
    details:     kind-specific, see KIND_DETAILS. Shapes: `missing`, `bring` and `reasons` are lists of
                 str; `grounds` is a str or a list of str; `corrections` is a list of
                 {field, old_value, new_value}; `interview_at` is an ISO date-time; other date keys ISO dates.
    decision.outcome keys the templates know: objection_result: founded, not_founded, unresolved;
                 reconsideration_decision: vary, set_aside, confirm_unlawful, order_performance,
                 confirm_invalid, uphold, dismiss. Any other key (mediation, settlement, ...) prints
                 `decision.summary`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from credit.models import CreditRecord, RuleSet

from .models import LetterKind

# Keys each kind's template reads from `details` (besides the common context above).
KIND_DETAILS: dict[str, list[str]] = {
    LetterKind.REPAIR_NOTICE: ["objection_channel", "repair_channel"],
    LetterKind.ACCEPTANCE: ["application_number", "received_on", "decide_by"],
    LetterKind.NON_ACCEPTANCE: ["application_number", "received_on"],
    LetterKind.SUPPLEMENT: ["application_number", "missing", "supply_by"],
    LetterKind.EXTENSION: ["application_number", "original_due", "new_due", "extension_reason"],
    LetterKind.INTERVIEW: ["application_number", "interview_at", "place", "online_link", "bring"],
    LetterKind.REPAIR_DECISION: ["application_number", "effective_on"],
    LetterKind.REPAIR_REFUSAL: ["application_number"],
    LetterKind.REPAIR_REVOCATION: ["application_number", "repaired_on", "blocked_until"],
    LetterKind.OBJECTION_RESULT: ["application_number", "grounds", "corrections"],
    LetterKind.RECONSIDERATION_ACCEPTANCE: [
        "application_number",
        "received_on",
        "decide_by",
        "challenged_act",
    ],
    LetterKind.RECONSIDERATION_DECISION: ["application_number", "challenged_act"],
}

_DATE_KEYS = {
    "issued_on",
    "decision_date",
    "repair_from",
    "display_until",
    "received_on",
    "decide_by",
    "supply_by",
    "original_due",
    "new_due",
    "effective_on",
    "repaired_on",
    "blocked_until",
}


def remedies(ruleset: RuleSet) -> dict[str, Any]:
    """The applicant's remedies and their periods, from the rule set (行政复议法, 行政诉讼法)."""
    recon = ruleset.deadline_rule("reconsideration.apply")
    litigation = ruleset.deadline_rule("litigation.after_act")
    after_recon = ruleset.deadline_rule("litigation.after_reconsideration")
    return {
        "reconsideration_days": recon.value,
        "reconsideration_basis": recon.basis,
        "litigation_months": litigation.value,
        "litigation_basis": litigation.basis,
        "litigation_days": after_recon.value,
        "litigation_days_basis": after_recon.basis,
    }


def record_facts(record: CreditRecord) -> dict[str, Any]:
    return {
        "number": record.number,
        "record_type": record.record_type,
        "domain": record.domain,
        "decision_number": record.decision_number,
        "decision_date": record.decision_date.isoformat(),
        "tier": record.tier,
        "repair_from": record.repair_from.isoformat(),
        "display_until": record.display_until.isoformat(),
        "facts": record.facts,
        "ruleset": record.ruleset.name,
        "under_objection": record.under_objection,
        "penalties": [
            {
                "kind": p.kind,
                "tier": p.tier,
                "amount": str(p.amount) if p.amount is not None else None,
                "term": f"{p.term_value} {p.term_unit}" if p.term_value is not None else None,
            }
            for p in record.penalties.order_by("id")
        ],
    }


def for_template(value: Any) -> Any:
    """The stored context with its ISO dates turned back into dates, for the template's date filters."""
    if isinstance(value, dict):
        return {
            k: (date.fromisoformat(v) if k in _DATE_KEYS and isinstance(v, str) and v else for_template(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [for_template(v) for v in value]
    return value
