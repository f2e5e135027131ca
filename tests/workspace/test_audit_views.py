"""The auditor's views of the transition log (/staff/audit/transitions/) and the data-access log
(/staff/audit/access/): filters, keyset pages with a constant number of queries, the CSV export (UTF-8 with
a byte-order mark, safe from formula injection, recorded before it is sent), and who may not see them."""

from __future__ import annotations

import csv
import importlib
import io
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from credit.models import AccessLog, TransitionLog
from credit.models.audit import AccessPurpose, AppendOnlyError, AuditExport
from credit.models.people import Role
from credit.services.access import Purpose, log_access
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import make_record, resident_id
from tests.workspace.test_dashboard import repair
from workspace import auditlog

pytestmark = pytest.mark.django_db
TRANSITIONS = "/staff/audit/transitions/"
ACCESSES = "/staff/audit/access/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def step(
    subject: Any, transition: str, actor: Any, when: str, *, reason: str = "", via: Any = None
) -> TransitionLog:
    return TransitionLog.objects.create(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        object_number=getattr(subject, "number", "") or "",
        transition=transition,
        from_state="a",
        to_state="b",
        actor=actor,
        actor_label=actor.get_username() if actor is not None else "system:periods",
        reason=reason,
        via_content_type=ContentType.objects.get_for_model(via) if via is not None else None,
        via_object_id=via.pk if via is not None else None,
        at=at(when),
    )


def access(
    user: Any, person: Any, when: str, *, case: Any = None, purpose: str = AccessPurpose.CASE, **kw: Any
) -> AccessLog:
    return AccessLog.objects.create(
        user=user,
        person=person,
        action=kw.pop("action", AccessLog.Action.VIEW),
        purpose=purpose,
        case_content_type=ContentType.objects.get_for_model(case) if case is not None else None,
        case_object_id=case.pk if case is not None else None,
        at=at(when),
        **kw,
    )


@pytest.fixture
def log(personas: Personas) -> dict[str, Any]:
    """Steps and accesses in the market regulator and the environment bureau. Today is 23 Nov 2026; the
    default period is the last 30 days, 25 Oct … 23 Nov."""
    market = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    environment = make_record(
        person=personas.other_person, department=personas.environment, decision_date=date(2026, 5, 31)
    )
    # Registering the records wrote their own steps "now" (23 Nov): the checks below look at these rows only.
    case = repair(personas, market, "repaired", "2026-11-02 09:00", "2026-11-16 09:00")
    other = repair(personas, environment, "accepted", "2026-11-03 09:00")
    return {
        "market": market,
        "environment": environment,
        "case": case,
        "other": other,
        "old": step(case, "file", personas.applicant, "2026-10-01 09:00"),  # before the default period
        "accept": step(case, "accept", personas.officer, "2026-11-03 09:00", reason="材料齐全"),
        "formula": step(
            case, "draft_decision", personas.officer, "2026-11-10 09:00", reason='=HYPERLINK("http://x")'
        ),
        "approve": step(case, "approve_decision", personas.reviewer, "2026-11-16 09:00", reason="+1"),
        "repaired": step(market, "repair", personas.reviewer, "2026-11-16 09:00", via=case),
        "other_accept": step(other, "accept", personas.other_officer, "2026-11-04 09:00", reason="@ok"),
        "system": step(environment, "make_eligible", None, "2026-11-20 01:00", reason="-period"),
    }


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content[:2000]
    return [row["entry"].pk for row in response.context["rows"]]


def mine(pks: list[int], book: dict[str, Any], *names: str) -> bool:
    return [pk for pk in pks if pk in {v.pk for v in book.values() if isinstance(v, TransitionLog)}] == [
        book[name].pk for name in names
    ]


class TestTransitionLog:
    def test_newest_first_in_the_default_period(self, personas: Personas, log: dict[str, Any]) -> None:
        shown = ids(browser(personas.auditor).get(TRANSITIONS, HTTP_ACCEPT_LANGUAGE="en"))
        # Same moment: the higher id first. 1 Oct is outside the last 30 days.
        assert mine(shown, log, "system", "repaired", "approve", "formula", "other_accept", "accept")

    def test_filters(self, personas: Personas, log: dict[str, Any]) -> None:
        auditor = browser(personas.auditor)

        def shown(**query: str) -> list[int]:
            return ids(auditor.get(TRANSITIONS, query))

        assert mine(
            shown(start="2026-09-01"),
            log,
            "system",
            "repaired",
            "approve",
            "formula",
            "other_accept",
            "accept",
            "old",
        )
        assert mine(shown(start="2026-11-04", end="2026-11-10"), log, "formula", "other_accept")
        assert mine(shown(actor="officer"), log, "formula", "accept")
        assert mine(shown(actor="system:periods"), log, "system")
        assert mine(shown(transition="accept"), log, "other_accept", "accept")
        # A case's number finds its own steps and the steps it caused on the record.
        assert mine(shown(number=log["case"].number), log, "repaired", "approve", "formula", "accept")
        assert mine(shown(number=log["environment"].number), log, "system")
        assert mine(shown(department=str(personas.environment.pk)), log, "system", "other_accept")

    def test_what_a_row_shows(self, personas: Personas, log: dict[str, Any]) -> None:
        response = browser(personas.auditor).get(
            TRANSITIONS, {"number": log["case"].number}, HTTP_ACCEPT_LANGUAGE="en"
        )
        rows = {row["entry"].pk: row for row in response.context["rows"]}
        repaired = rows[log["repaired"].pk]
        assert (
            repaired["number"] == log["market"].number and repaired["entry"].via_number == log["case"].number
        )
        assert rows[log["accept"].pk]["actor"] == "officer"
        html = response.content.decode()
        assert personas.applicant_person.name not in html and personas.applicant_person.id_masked not in html

    def test_keyset_pages_without_gaps_or_repeats_in_constant_queries(
        self, personas: Personas, log: dict[str, Any]
    ) -> None:
        case = log["case"]
        for n in range(120):
            step(case, "note", personas.officer, f"2026-11-21 {n // 60:02d}:{n % 60:02d}")
        auditor = browser(personas.auditor)
        auditor.get(TRANSITIONS)  # the role's permissions read once a minute, as in a running server
        seen: list[int] = []
        counts = []
        url: str | None = TRANSITIONS
        while url is not None:
            with CaptureQueriesContext(connection) as queries:
                response = auditor.get(url)
            counts.append(len(queries))
            seen += ids(response)
            url = TRANSITIONS + response.context["next_url"] if response.context["next_url"] else None
        expected = list(
            TransitionLog.objects.filter(at__gte=at("2026-10-25 00:00"))
            .order_by("-at", "-pk")
            .values_list("pk", flat=True)
        )
        assert seen == expected and len(seen) > 120
        assert len(counts) == 3 and len(set(counts)) == 1, counts

    def test_a_bad_page_position_is_refused(self, personas: Personas) -> None:
        assert browser(personas.auditor).get(TRANSITIONS, {"after": "x"}).status_code == 400
        assert (
            browser(personas.auditor)
            .get(TRANSITIONS, {"start": "2026-11-20", "end": "2026-11-01"})
            .status_code
            == 400
        )


class TestExport:
    def test_csv_of_the_filtered_rows_with_a_bom_and_no_formulas(
        self, personas: Personas, log: dict[str, Any]
    ) -> None:
        auditor = browser(personas.auditor)
        response = auditor.post(
            TRANSITIONS + "export/", {"number": log["case"].number}, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 200 and response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="transitions-log-')
        body = b"".join(response.streaming_content)
        assert body.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert rows[0][:4] == ["time", "object type", "number", "transition"]
        assert [row[3] for row in rows[1:]] == ["repair", "approve_decision", "draft_decision", "accept"]
        by_step = {row[3]: row for row in rows[1:]}
        assert by_step["draft_decision"][8] == '\'=HYPERLINK("http://x")'
        assert by_step["approve_decision"][8] == "'+1"
        assert by_step["repair"][2] == log["market"].number and by_step["repair"][9] == log["case"].number
        assert by_step["accept"][0] == "2026-11-03T09:00:00+08:00" and by_step["accept"][8] == "材料齐全"

    def test_the_export_is_recorded_before_it_is_sent_in_its_own_table(
        self, personas: Personas, log: dict[str, Any]
    ) -> None:
        steps = TransitionLog.objects.count()
        last = TransitionLog.objects.order_by("-pk").values_list("pk", flat=True).first()
        response = browser(personas.auditor).post(TRANSITIONS + "export/", {"actor": "officer"})
        # Recorded before a byte is read, and not as a legal step.
        record = AuditExport.objects.get()
        assert (record.user, record.log, record.up_to_id) == (personas.auditor, "transitions", last)
        assert record.filters == {"from": "2026-10-25", "to": "2026-11-23", "actor": "officer"}
        assert TransitionLog.objects.count() == steps
        # A step taken while the file streams is after the bound: not in this export.
        later = step(log["case"], "note", personas.officer, "2026-11-22 10:00")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert len(rows) == 3 and later.pk > record.up_to_id  # the header and the officer's two steps

    def test_each_export_is_a_row_and_the_table_is_append_only(self, personas: Personas) -> None:
        auditor = browser(personas.auditor)
        b"".join(auditor.post(TRANSITIONS + "export/").streaming_content)
        b"".join(auditor.post(ACCESSES + "export/", {"person": "7", "action": "list"}).streaming_content)
        first, second = AuditExport.objects.order_by("pk")
        assert (first.log, second.log) == ("transitions", "accesses")
        assert second.filters == {"from": "2026-10-25", "to": "2026-11-23", "action": "list", "person": 7}
        assert second.up_to_id == 0  # nothing in the access log yet
        with pytest.raises(AppendOnlyError):
            second.save()
        with pytest.raises(AppendOnlyError):
            AuditExport.objects.filter(pk=first.pk).update(up_to_id=1)
        with pytest.raises(AppendOnlyError):
            AuditExport.objects.all().delete()

    def test_the_admin_shows_the_exports_read_only(self, personas: Personas) -> None:
        b"".join(browser(personas.auditor).post(ACCESSES + "export/").streaming_content)
        record = AuditExport.objects.get()
        admin, base = browser(personas.admin), "/admin/credit/auditexport/"
        changelist = admin.get(base)
        assert changelist.status_code == 200 and "auditor" in changelist.content.decode()
        assert admin.get(f"{base}{record.pk}/change/").status_code == 200
        assert admin.post(f"{base}{record.pk}/change/", {"log": "x"}).status_code == 403
        assert admin.get(f"{base}add/").status_code == 403
        assert admin.post(f"{base}{record.pk}/delete/", {"post": "yes"}).status_code == 403
        assert AuditExport.objects.get().log == "accesses"

    def test_auditors_may_read_the_exports_and_officers_may_not(self, personas: Personas) -> None:
        from credit.models import User

        auditor, officer = (User.objects.get(pk=u.pk) for u in (personas.auditor, personas.officer))
        assert auditor.has_perm("credit.view_auditexport")
        assert not officer.has_perm("credit.view_auditexport")

    def test_an_invalid_export_is_refused_and_not_recorded(self, personas: Personas) -> None:
        response = browser(personas.auditor).post(TRANSITIONS + "export/", {"start": "someday"})
        assert response.status_code == 400 and not AuditExport.objects.exists()

    def test_exports_recorded_in_the_transition_log_move_to_their_table(self, personas: Personas) -> None:
        """The migration that made the table copies the exports the transition log recorded before it."""
        old = TransitionLog.objects.create(
            content_type=ContentType.objects.get_for_model(personas.auditor),
            object_id=personas.auditor.pk,
            transition="export_accesses_log",
            from_state="",
            to_state="",
            actor=personas.auditor,
            actor_label="auditor",
            payload={"log": "accesses", "from": "2026-11-01", "to": "2026-11-20", "up_to_id": 41},
            at=at("2026-11-20 10:00"),
        )
        migration = importlib.import_module("credit.migrations.0015_audit_export_and_log_indexes")
        migration.copy_exports(django_apps, None)
        copied = AuditExport.objects.get()
        assert (copied.user, copied.log, copied.up_to_id) == (personas.auditor, "accesses", 41)
        assert copied.at == old.at
        assert copied.filters == {"from": "2026-11-01", "to": "2026-11-20"}

    def test_more_special_starts_are_neutralised(self) -> None:
        assert [
            auditlog.safe_cell(v) for v in ("=1", "+1", "-1", "@a", "\tx", "\rx", "a=1", "", None, 5)
        ] == ["'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "a=1", "", "", "5"]

    def test_only_a_post_exports(self, personas: Personas) -> None:
        assert browser(personas.auditor).get(TRANSITIONS + "export/").status_code == 405
        assert browser(personas.auditor).get(ACCESSES + "export/").status_code == 405


class TestAccessLog:
    @pytest.fixture
    def accesses(self, personas: Personas, log: dict[str, Any]) -> dict[str, AccessLog]:
        return {
            "case": access(
                personas.officer,
                personas.applicant_person,
                "2026-11-03 10:00",
                case=log["case"],
                path="/workflow/repair/1/",
            ),
            "search": access(
                personas.intake,
                personas.other_person,
                "2026-11-05 10:00",
                purpose=AccessPurpose.OTHER,
                note="=cmd|' /C calc'!A0",
                action=AccessLog.Action.LIST,
                path="/api/v1/records/?id_number=370202199003070029&purpose=other",
            ),
            "other": access(
                personas.other_officer, personas.other_person, "2026-11-06 10:00", case=log["other"]
            ),
            "old": access(personas.officer, personas.applicant_person, "2026-09-03 10:00", case=log["case"]),
        }

    def test_rows_show_a_reference_not_the_person(
        self, personas: Personas, accesses: dict[str, AccessLog]
    ) -> None:
        response = browser(personas.auditor).get(ACCESSES, HTTP_ACCEPT_LANGUAGE="en")
        assert ids(response) == [accesses[n].pk for n in ("other", "search", "case")]
        rows = {row["entry"].pk: row for row in response.context["rows"]}
        search = rows[accesses["search"].pk]
        assert search["person"] == f"#{personas.other_person.pk}" and search["path"] == "/api/v1/records/"
        assert (
            rows[accesses["case"].pk]["entry"].case_number
            == RepairCase.objects.get(pk=accesses["case"].case_object_id).number
        )
        html = response.content.decode()
        for secret in (
            "370202199003070029",
            personas.other_person.name,
            personas.other_person.id_masked,
            personas.applicant_person.name,
        ):
            assert secret not in html
        assert rows[accesses["case"].pk]["case_type"] == "repair case"

    def test_filters(self, personas: Personas, log: dict[str, Any], accesses: dict[str, AccessLog]) -> None:
        auditor = browser(personas.auditor)

        def shown(**query: str) -> list[str]:
            names = {v.pk: k for k, v in accesses.items()}
            return [names[pk] for pk in ids(auditor.get(ACCESSES, query))]

        assert shown(start="2026-09-01") == ["other", "search", "case", "old"]
        assert shown(actor="officer") == ["case"]
        assert shown(number=log["case"].number) == ["case"]
        assert shown(purpose="other") == ["search"]
        assert shown(action="list") == ["search"]
        assert shown(person=str(personas.other_person.pk)) == ["other", "search"]
        assert shown(department=str(personas.environment.pk)) == ["other"]

    def test_export_is_recorded_and_safe(self, personas: Personas, accesses: dict[str, AccessLog]) -> None:
        response = browser(personas.auditor).post(
            ACCESSES + "export/", {"purpose": "other"}, HTTP_ACCEPT_LANGUAGE="en"
        )
        body = b"".join(response.streaming_content)
        assert body.startswith(b"\xef\xbb\xbf")
        header, row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert header[6] == "person" and row[6] == f"#{personas.other_person.pk}"
        assert row[5] == "'=cmd|' /C calc'!A0" and row[9] == "/api/v1/records/"
        assert "370202199003070029" not in body.decode("utf-8-sig")
        record = AuditExport.objects.get()
        assert (record.user, record.log) == (personas.auditor, "accesses")
        assert record.filters["purpose"] == "other" and record.up_to_id == accesses["old"].pk

    def test_constant_queries(
        self, personas: Personas, log: dict[str, Any], accesses: dict[str, AccessLog]
    ) -> None:
        def count() -> int:
            client = browser(personas.auditor)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(ACCESSES).status_code == 200
            return len(queries)

        count()  # the role's permissions read once a minute, as in a running server
        few = count()
        for n in range(60):
            access(
                personas.officer, personas.applicant_person, f"2026-11-2{n % 3} 10:{n:02d}", case=log["case"]
            )
        assert count() == few


class TestWhoMaySee:
    @pytest.mark.parametrize("who", ["officer", "reviewer", "head", "intake", "recon", "applicant", "admin"])
    @pytest.mark.parametrize("url", [TRANSITIONS, ACCESSES])
    def test_only_auditors(self, personas: Personas, who: str, url: str) -> None:
        client = browser(getattr(personas, who))
        assert client.get(url).status_code == 403
        assert client.post(url + "export/").status_code == 403
        assert not AuditExport.objects.exists()

    def test_an_administrator_with_the_audit_role(self, personas: Personas) -> None:
        personas.admin.groups.add(Group.objects.get(name=Role.AUDITOR))
        assert browser(personas.admin).get(TRANSITIONS).status_code == 200
        assert browser(personas.admin).get(ACCESSES).status_code == 200

    @pytest.mark.parametrize("url", [TRANSITIONS, ACCESSES])
    def test_signed_out(self, url: str) -> None:
        response = Client().get(url)
        assert response.status_code == 302 and "login" in response["Location"]
        assert Client().post(url + "export/").status_code == 302
        assert not AuditExport.objects.exists()

    def test_the_dashboard_and_logs_link_each_other_for_the_auditor(self, personas: Personas) -> None:
        html = browser(personas.auditor).get(TRANSITIONS).content.decode()
        assert "/staff/dashboard/" in html and ACCESSES in html


def test_cursor_round_trip() -> None:
    moment = datetime(2026, 11, 3, 9, 0, 0, 123456, tzinfo=SHANGHAI)
    cursor = auditlog.LogCursor(moment, 42)
    assert auditlog.LogCursor.parse(str(cursor)) == cursor
    with pytest.raises(ValueError):
        auditlog.LogCursor.parse("abc")


class TestNoIdNumberInTheAccessLog:
    """An access is logged with the page's path, never its query string: a search by ID number carries the
    whole number in `?id_number=`, and ID numbers never appear in logs."""

    def test_a_records_lookup_by_id_number(self, personas: Personas, api: APIClient) -> None:
        record = make_record(
            person=personas.other_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
        number = resident_id(2)
        api.force_authenticate(personas.intake)
        listed = api.get("/api/v1/records/", {"purpose": "identity_check", "id_number": number})
        assert [row["id"] for row in listed.data["results"]] == [record.pk]
        viewed = api.get(f"/api/v1/records/{record.pk}/", {"purpose": "identity_check", "id_number": number})
        assert viewed.status_code == 200
        logged = list(AccessLog.objects.order_by("pk"))
        assert [(entry.action, entry.path) for entry in logged] == [
            ("list", "/api/v1/records/"),
            ("view", f"/api/v1/records/{record.pk}/"),
        ]
        assert all(entry.person_id == personas.other_person.pk for entry in logged)
        for entry in AccessLog.objects.values():
            text = " ".join(str(value) for value in entry.values()).upper()
            assert number.upper() not in text and number[-6:].upper() not in text

    def test_a_case_task_page_opened_with_a_query_string(self, personas: Personas) -> None:
        from repair.flows import RepairFlow
        from tests.repair.test_cases import file
        from tests.repair.test_workflow_pages import task_at, url

        record = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
        case = file(personas, record)
        examine = task_at(case["id"], RepairFlow.examine)
        officer = browser(personas.officer)
        assert officer.post(url(examine, "assign")).status_code == 302
        page = officer.get(url(examine, "execute"), {"id_number": resident_id(1), "back": "/x/"})
        assert page.status_code == 200
        assert AccessLog.objects.get(user=personas.officer).path == url(examine, "execute")

    def test_whoever_passes_a_query_string_it_is_dropped(self, personas: Personas) -> None:
        log_access(
            user=personas.officer,
            person_ids=[personas.applicant_person.pk],
            action=AccessLog.Action.VIEW,
            purpose=Purpose(AccessPurpose.ENQUIRY),
            path=f"/staff/cases/repair/1/?id_number={resident_id(1)}",
        )
        assert AccessLog.objects.get().path == "/staff/cases/repair/1/"


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_log_pages_read_their_indexes_on_postgresql(personas: Personas, log: dict[str, Any]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (set DATABASE_URL)")
    with connection.cursor() as cursor:
        # With sequential scans priced out, a table still read in full is one no index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    # Logs of a few thousand rows about other cases over the year, and their statistics: the plans are
    # chosen by the planner's estimates, as they would be on a full log.
    case, repair_type = log["case"], ContentType.objects.get_for_model(RepairCase)
    moments = [at("2026-01-01 09:00") + timedelta(minutes=150 * n) for n in range(3000)]
    AccessLog.objects.bulk_create(
        AccessLog(
            user=personas.officer,
            person=personas.applicant_person,
            action=AccessLog.Action.VIEW,
            purpose=AccessPurpose.CASE,
            case_content_type=repair_type,
            case_object_id=100_000 + n,
            at=moment,
        )
        for n, moment in enumerate(moments)
    )
    TransitionLog.objects.bulk_create(
        TransitionLog(
            content_type=repair_type,
            object_id=100_000 + n,
            object_number=f"XF-OTHER-{n:05d}",
            transition="accept",
            from_state="a",
            to_state="b",
            actor_label="officer",
            via_content_type=repair_type if n % 3 == 0 else None,
            via_object_id=200_000 + n if n % 3 == 0 else None,
            at=moment,
        )
        for n, moment in enumerate(moments)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE credit_accesslog")
        cursor.execute("ANALYZE credit_transitionlog")
    access(personas.officer, personas.applicant_person, "2026-11-03 10:00", case=case)
    first, last = date(2026, 1, 1), date(2026, 11, 23)
    pages = {
        "accesslog_at": auditlog.accesses(auditlog.Filters(first, last)),
        "accesslog_case": auditlog.accesses(auditlog.Filters(first, last, number=case.number)),
        "transitionlog_number transitionlog_via": auditlog.transitions(
            auditlog.Filters(first, last, number=case.number)
        ),
    }
    auditlog.numbered(case.number)  # content types cached
    for indexes, queryset in pages.items():
        with CaptureQueriesContext(connection) as queries:
            auditlog.page(queryset, after=None)
        plan = _plan(queries[-1]["sql"])
        for index in indexes.split():
            assert index in plan, plan
        assert "Seq Scan on credit_accesslog" not in plan and "Seq Scan on credit_transitionlog" not in plan
