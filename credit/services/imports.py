"""Bulk registration of records from a CSV file: every bad row is reported with its line and reason."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from credit import identity
from credit.identity import IdType
from credit.models import Department, Person
from credit.models.records import CreditRecord, Domain, PenaltyKind, RecordType, Visibility
from credit.models.rules import Tier
from credit.periods import Period
from credit.services.records import PenaltyInput, register_record

COLUMNS = [
    "name",
    "id_type",
    "id_number",
    "record_type",
    "domain",
    "department",
    "decision_number",
    "decision_date",
    "penalty_kind",
    "penalty_tier",
    "penalty_amount",
    "penalty_term",
    "facts",
]
OPTIONAL = {"penalty_amount", "penalty_term", "facts", "visibility"}
_TERM = re.compile(r"^\s*(\d+)\s*(days|months|years)\s*$")


@dataclass
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return _("line %(line)d: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass
class ImportResult:
    records: int = 0
    penalties: int = 0
    errors: list[RowError] = field(default_factory=list)
    skipped_lines: int = 0
    committed: bool = False


@dataclass
class _Group:
    lines: list[int]
    fields: dict[str, Any]
    penalties: list[PenaltyInput]


def _choice(value: str, choices: Iterable[str], column: str) -> str:
    value = value.strip()
    if value not in choices:
        raise ValueError(
            _("%(column)s “%(value)s” is not one of: %(choices)s")
            % {"column": column, "value": value, "choices": ", ".join(choices)}
        )
    return value


def _parse_row(
    row: dict[str, str], departments: dict[str, Department]
) -> tuple[tuple[str, str, str], dict[str, Any], PenaltyInput]:
    missing = [c for c in COLUMNS if c not in OPTIONAL and not (row.get(c) or "").strip()]
    if missing:
        raise ValueError(_("missing %(columns)s") % {"columns": ", ".join(missing)})
    id_type = _choice(row["id_type"], IdType.values, "id_type")
    try:
        number = identity.validate(id_type, row["id_number"])
    except ValidationError as exc:
        # The message names the problem, never the number.
        raise ValueError("id_number: " + " ".join(exc.messages)) from exc
    code = row["department"].strip()
    department = departments.get(code)
    if department is None:
        raise ValueError(_("department “%(code)s” does not exist or is not a deciding body") % {"code": code})
    try:
        decision_date = date.fromisoformat(row["decision_date"].strip())
    except ValueError as exc:
        raise ValueError(
            _("decision_date “%(value)s” is not a date (YYYY-MM-DD)") % {"value": row["decision_date"]}
        ) from exc
    amount = None
    if (row.get("penalty_amount") or "").strip():
        try:
            amount = Decimal(row["penalty_amount"].strip())
        except InvalidOperation as exc:
            raise ValueError(
                _("penalty_amount “%(value)s” is not a number") % {"value": row["penalty_amount"]}
            ) from exc
        if amount < 0:
            raise ValueError(_("penalty_amount cannot be negative"))
    term = None
    if (row.get("penalty_term") or "").strip():
        match = _TERM.match(row["penalty_term"])
        if not match:
            raise ValueError(
                _("penalty_term “%(value)s” must look like “6 months”, “30 days” or “1 years”")
                % {"value": row["penalty_term"]}
            )
        term = Period(int(match.group(1)), match.group(2))
    visibility = (row.get("visibility") or "").strip() or Visibility.SHARED_ONLY
    fields = {
        "name": row["name"].strip(),
        "id_type": id_type,
        "id_number": number,
        "record_type": _choice(row["record_type"], RecordType.values, "record_type"),
        "domain": _choice(row["domain"], Domain.values, "domain"),
        "department": department,
        "decision_number": row["decision_number"].strip(),
        "decision_date": decision_date,
        "facts": (row.get("facts") or "").strip(),
        "visibility": _choice(visibility, Visibility.values, "visibility"),
    }
    penalty = PenaltyInput(
        kind=_choice(row["penalty_kind"], PenaltyKind.values, "penalty_kind"),
        tier=_choice(row["penalty_tier"], Tier.values, "penalty_tier"),
        amount=amount,
        term=term,
    )
    return (code, str(fields["decision_number"]), identity.lookup_hash(number)), fields, penalty


def import_records(stream: TextIO, *, skip_invalid: bool = False, registered_by: Any = None) -> ImportResult:
    """Rows of one decision for one person (same department, decision number and ID number) form one record
    with several penalties. Without `skip_invalid` nothing is imported if any row is bad."""
    result = ImportResult()
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    absent = [c for c in COLUMNS if c not in header]
    if absent:
        result.errors.append(
            RowError(1, _("the header lacks the column(s) %(columns)s") % {"columns": ", ".join(absent)})
        )
        return result
    departments = {d.code: d for d in Department.objects.filter(kind=Department.Kind.DECIDING)}
    groups: dict[tuple[str, str, str], _Group] = {}
    bad_groups: set[tuple[str, str, str]] = set()
    for row in reader:
        line = reader.line_num
        row = {(k or "").strip(): (v or "") for k, v in row.items()}
        try:
            key, fields, penalty = _parse_row(row, departments)
        except ValueError as exc:
            result.errors.append(RowError(line, str(exc)))
            result.skipped_lines += 1
            continue
        group = groups.get(key)
        if group is None:
            groups[key] = _Group(lines=[line], fields=fields, penalties=[penalty])
            continue
        differing = [
            k
            for k in ("name", "record_type", "domain", "decision_date", "facts", "visibility")
            if group.fields[k] != fields[k]
        ]
        if differing:
            result.errors.append(
                RowError(
                    line,
                    _("same decision as line %(line)d but a different %(fields)s")
                    % {"line": group.lines[0], "fields": ", ".join(differing)},
                )
            )
            bad_groups.add(key)
        group.lines.append(line)
        group.penalties.append(penalty)

    with transaction.atomic():
        for key, group in groups.items():
            if key in bad_groups:
                result.skipped_lines += len(group.lines)
                continue
            try:
                with transaction.atomic():
                    _register(group, registered_by)
            except ValidationError as exc:
                result.errors.append(RowError(group.lines[0], " ".join(exc.messages)))
                result.skipped_lines += len(group.lines)
                continue
            result.records += 1
            result.penalties += len(group.penalties)
        if result.errors and not skip_invalid:
            transaction.set_rollback(True)
            result.records = result.penalties = 0
            return result
    result.committed = True
    return result


def _register(group: _Group, registered_by: Any) -> CreditRecord:
    fields = group.fields
    person = Person.objects.by_id_number(fields["id_number"]).first()
    if person is None:
        person = Person(name=fields["name"])
        person.set_id_number(fields["id_type"], fields["id_number"])
        person.save()
    elif person.name != fields["name"]:
        raise ValidationError(_("the ID number belongs to a person registered under another name"))
    if CreditRecord.objects.filter(
        department=fields["department"], decision_number=fields["decision_number"], person=person
    ).exists():
        raise ValidationError(
            _("decision %(number)s is already registered for this person")
            % {"number": fields["decision_number"]}
        )
    return register_record(
        person=person,
        record_type=fields["record_type"],
        domain=fields["domain"],
        department=fields["department"],
        decision_number=fields["decision_number"],
        decision_date=fields["decision_date"],
        penalties=group.penalties,
        facts=fields["facts"],
        visibility=fields["visibility"],
        registered_by=registered_by,
    )


def read_csv(path: str) -> TextIO:
    # utf-8-sig: spreadsheets exported on Windows start with a byte-order mark.
    return open(path, encoding="utf-8-sig", newline="")
