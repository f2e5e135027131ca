"""The staff queues at /staff/queue/, inbox/, team/ and archive/ (workspace.queues, queue_views,
queue_services): scoped like the stock pages, ordered by due date with SLA badges, filtered and searched
(never by part of an ID number), claimed and given through viewflow's activations, page by page with a
constant number of queries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.models import AccessLog, CreditRecord, Deadline, Department, TransitionLog
from credit.models.people import Role
from credit.services.transitions import perform_transition
from objections.complaint_services import file_complaint
from objections.complaint_services import start_work as start_complaint
from objections.reconsideration_services import file_reconsideration
from objections.reconsideration_services import start_work as start_reconsideration
from objections.services import file_objection
from objections.services import start_work as start_objection
from repair.services import file_repair
from repair.services import start_work as start_repair
from tests.conftest import Personas
from tests.factories import UserFactory, make_record, resident_id
from workspace import queue_services, queues

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


_records = iter(range(1, 100_000))


def record_of(personas: Personas, department: Any = None, person: Any = None) -> CreditRecord:
    # General records decided in spring: repairable from the summer on (today is 2026-11-23).
    n = next(_records)
    return make_record(
        person=person or personas.applicant_person,
        department=department or personas.market,
        decision_date=date(2026, 3 + n % 4, 1 + n % 27),
        number=f"Q-{n}",
    )


def repair(personas: Personas, department: Any = None, person: Any = None) -> Any:
    record = record_of(personas, department, person)
    applicant = record.person.user or personas.applicant
    # The flow is started here, as the task after the commit would; the other after-commit work (notices,
    # letters) is not the queues' business.
    case = file_repair(record=record, actor=applicant, statement="已整改", commitment_accepted=True)
    start_repair(case.pk)
    return case


def objection(personas: Personas, department: Any = None) -> Any:
    record = record_of(personas, department)
    case = file_objection(actor=personas.applicant, grounds=["record_wrong"], statement="有误", record=record)
    start_objection(case.pk)
    return case


def take(case: Any, name: str, actor: Any, **payload: Any) -> Any:
    # What follows the commit (letters, notices) is not run: the queues need only the step and its task.
    return perform_transition(case, name, actor=actor, payload=payload or None)


def refused_repair(personas: Personas) -> Any:
    case = take(repair(personas), "accept", personas.officer)
    case = take(case, "draft_decision", personas.officer, outcome="refuse", reasons=["仍未缴清"])
    return take(case, "approve_decision", personas.reviewer)


def reconsideration(personas: Personas) -> Any:
    case = file_reconsideration(
        actor=personas.applicant,
        request="撤销不予修复决定",
        statement="理由",
        repair_case=refused_repair(personas),
    )
    start_reconsideration(case.pk)
    return case


@pytest.fixture
def recon2(personas: Personas, office: Department) -> Any:
    return UserFactory(username="recon2", role=Role.RECONSIDERATION, department=office)


@pytest.fixture
def work(personas: Personas, office: Department, recon2: Any) -> dict[str, Any]:
    """One open case at every human step of the four flows (market department, the applicant's person)."""
    cases: dict[str, Any] = {"repair.examine": repair(personas)}
    cases["repair.decide"] = take(repair(personas), "accept", personas.officer)
    legal = take(repair(personas), "accept", personas.officer)
    cases["repair.legal_review"] = take(
        legal, "draft_decision", personas.officer, outcome="refuse", reasons=["x"]
    )
    cases["repair.review"] = take(
        repair(personas), "propose_non_acceptance", personas.officer, reasons=["非本机关"]
    )
    cases["objection.register"] = objection(personas)
    cases["objection.acceptance"] = take(objection(personas), "forward", personas.intake)
    verify = take(objection(personas), "forward", personas.intake)
    cases["objection.verify"] = take(verify, "accept", personas.officer)
    legal = take(take(objection(personas), "forward", personas.intake), "accept", personas.officer)
    cases["objection.legal_review"] = take(
        legal, "draft_decision", personas.officer, outcome="not_founded", reasons=["一致"]
    )
    review = take(objection(personas), "forward", personas.intake)
    cases["objection.review"] = take(review, "propose_non_acceptance", personas.officer, reasons=["超出范围"])
    cases["reconsideration.acceptance"] = reconsideration(personas)
    cases["reconsideration.decide"] = take(
        reconsideration(personas), "accept", personas.recon, simplified=False
    )
    drafted = take(reconsideration(personas), "accept", personas.recon, simplified=False)
    cases["reconsideration.review"] = take(
        drafted, "draft", personas.recon, decision="uphold", findings="事实清楚", reasons=["维持"]
    )
    complaint = file_complaint(
        actor=personas.applicant, about="handling", statement="无人联系", case=cases["repair.examine"]
    )
    start_complaint(complaint.pk)
    cases["complaint.reply"] = complaint
    return cases


def task_of(case: Any, *statuses: str) -> Task:
    return Task.objects.get(
        process__artifact_object_id=case.pk,
        process__flow_class=_flow(case),
        flow_task_type="HUMAN",
        status__in=statuses or [STATUS.NEW],
    )


def _flow(case: Any) -> Any:
    return next(kind.flow for kind in queues.KINDS.values() if kind.model is type(case))


def browser(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def listed(user: Any, path: str = "/staff/queue/", **params: Any) -> list[str]:
    response = browser(user).get(path, params)
    assert response.status_code == 200, response.status_code
    return [f"{row.kind.slug}.{row.step.node.name}" for row in response.context["rows"]]


def steps_of(page: queues.Page) -> list[str]:
    return [f"{row.kind.slug}.{row.step.node.name}" for row in page.rows]


# -- scope ---------------------------------------------------------------------------------------------------
OFFICER_STEPS = {"repair.examine", "repair.decide", "objection.acceptance", "objection.verify"}
REVIEWER_STEPS = {"repair.legal_review", "repair.review", "objection.legal_review", "objection.review"}
RECON_STEPS = {"reconsideration.acceptance", "reconsideration.decide", "reconsideration.review"}


def test_each_role_queues_the_steps_it_may_claim_in_its_scope_like_the_stock_pages(
    personas: Personas, work: dict[str, Any]
) -> None:
    assert set(listed(personas.officer)) == OFFICER_STEPS
    assert set(listed(personas.reviewer)) == REVIEWER_STEPS
    assert set(listed(personas.intake)) == {"objection.register"}
    assert set(listed(personas.recon)) == RECON_STEPS
    assert set(listed(personas.head)) == {"complaint.reply"}
    assert listed(personas.other_officer) == []  # another department
    assert listed(personas.auditor) == []  # reads everything, claims nothing
    # The stock queue pages list the same tasks.
    for user, flow in (
        (personas.officer, "repair"),
        (personas.reviewer, "objection"),
        (personas.recon, "reconsideration"),
    ):
        stock = browser(user).get(f"/workflow/{flow}/queue/").context["object_list"]
        ours = browser(user).get("/staff/queue/", {"kind": flow}).context["rows"]
        assert {task.pk for task in stock} == {row.task_id for row in ours}


def test_signed_out_applicants_and_administrators_are_kept_out(
    personas: Personas, work: dict[str, Any]
) -> None:
    for path in ("/staff/queue/", "/staff/inbox/", "/staff/archive/", "/staff/team/"):
        response = Client().get(path)
        assert response.status_code == 302 and "/login" in response["Location"]
        assert browser(personas.applicant).get(path).status_code == 403
        assert browser(personas.admin).get(path).status_code == 403
    assert browser(personas.officer).get("/staff/team/").status_code == 403  # heads only
    assert browser(personas.head).get("/staff/team/").status_code == 200
    task = task_of(work["repair.examine"])
    for path in (
        f"/staff/tasks/{task.pk}/claim/",
        "/staff/tasks/assign/",
        f"/staff/tasks/{task.pk}/release/",
    ):
        assert browser(personas.officer).get(path).status_code == 405
        assert browser(personas.applicant).post(path).status_code == 403
        assert Client().post(path).status_code == 302
    assert task_of(work["repair.examine"]).owner is None


def test_actions_need_the_csrf_token(personas: Personas, work: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.officer)
    task = task_of(work["repair.examine"])
    assert client.post(f"/staff/tasks/{task.pk}/claim/").status_code == 403
    assert task_of(work["repair.examine"]).owner is None


# -- order and badges ----------------------------------------------------------------------------------------
def test_rows_are_ordered_by_due_date_with_their_countdowns_then_the_tasks_without_a_clock(
    personas: Personas, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to("2026-11-18T10:00:00+08:00", tick=False)  # Wednesday: due Monday 23rd (3 WD)
    early = repair(personas)
    time_machine.move_to("2026-11-20T10:00:00+08:00", tick=False)  # Friday: due Wednesday 25th
    later = repair(personas)
    untimed = take(objection(personas), "forward", personas.intake)
    time_machine.move_to("2026-11-23T10:00:00+08:00", tick=False)
    last = repair(personas)  # due Thursday 26th
    response = browser(personas.officer).get("/staff/queue/")
    rows = response.context["rows"]
    assert [row.case_id for row in rows] == [early.pk, later.pk, last.pk, untimed.pk]
    assert [row.due_date for row in rows] == [
        date(2026, 11, 23),
        date(2026, 11, 25),
        date(2026, 11, 26),
        None,
    ]
    assert [row.countdown.label if row.countdown else None for row in rows] == [
        "due today",
        "due in 2 working days",
        "due in 3 working days",
        None,
    ]
    html = response.content.decode()
    assert 'class="sla sla-today"' in html and "due in 2 working days" in html
    # The next day the first is overdue; "overdue only" keeps it alone.
    time_machine.move_to("2026-11-24T09:00:00+08:00", tick=False)
    rows = browser(personas.officer).get("/staff/queue/", {"overdue": "on"}).context["rows"]
    assert [(row.case_id, row.countdown.state) for row in rows] == [(early.pk, "overdue")]
    # By creation: oldest or newest first, the badges still shown.
    assert [r.case_id for r in queues.page(personas.officer, queues.QUEUE, sort="created").rows] == [
        early.pk,
        later.pk,
        untimed.pk,
        last.pk,
    ]
    newest = queues.page(personas.officer, queues.QUEUE, sort="-created").rows
    assert [r.case_id for r in newest] == [last.pk, untimed.pk, later.pk, early.pk]
    assert newest[0].countdown is not None and newest[1].countdown is None


def test_a_missed_deadline_keeps_its_task_in_the_queue_as_overdue(personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
    case = repair(personas)
    time_machine.move_to("2026-12-01T09:00:00+08:00", tick=False)
    from credit.services.deadlines import mark_missed_deadlines

    mark_missed_deadlines()
    assert Deadline.objects.get(object_id=case.pk, kind="repair.accept").status == "missed"
    (row,) = queues.page(personas.officer, queues.QUEUE).rows
    assert row.case_id == case.pk and row.countdown is not None
    assert (row.countdown.state, row.countdown.working_days) == ("overdue", 3)


def test_every_open_task_of_a_step_with_a_clock_has_its_deadline_and_its_cases_state(
    personas: Personas, work: dict[str, Any]
) -> None:
    """The queue reads timed tasks from their deadlines: each must have one, linked through its timer."""
    for step in queues.steps():
        name = f"{step.kind.slug}.{step.node.name}"
        task = task_of(work[name])
        linked = Deadline.objects.open().filter(task__previous=task)
        assert linked.count() == (1 if step.timed else 0), name
        # And the case is in a state the step's transitions start from (the queue narrows on it).
        assert step.states is not None and work[name].state in step.states, name


def _from_viewflow(user: Any, list_name: str, sort: str, filters: queues.Filters, today: date) -> list[int]:
    """A list as viewflow's own tables give it (tasks, their processes, the cases the flow lets the user
    see, the deadline of each task's timer), in the list's order: what the queue table must agree with."""
    statuses = {
        queues.QUEUE: [STATUS.NEW],
        queues.INBOX: [STATUS.ASSIGNED, STATUS.STARTED],
        queues.TEAM: [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
    }[list_name]
    rows = []
    for step in queues._selected(user, list_name, filters):
        visible = step.kind.visible(user)
        if filters.department is not None:
            visible = visible.filter(department_id=filters.department)
        tasks = Task.objects.filter(
            flow_task=step.node,
            status__in=statuses,
            process__artifact_content_type=step.kind.content_type(),
            process__artifact_object_id__in=visible.values("pk"),
        )
        if list_name == queues.INBOX:
            tasks = tasks.filter(owner=user)
        for task in tasks:
            due = (
                Deadline.objects.open()
                .filter(task__previous=task)
                .order_by("-pk")
                .values_list("due_date", flat=True)
                .first()
            )
            if filters.overdue and not (due is not None and due < today):
                continue
            rows.append((due, task.created, task.pk))
    if sort == "due":
        rows.sort(key=lambda r: (r[0] is None, r[0] or today, r[1], r[2]))
    else:
        rows.sort(key=lambda r: (r[1], r[2]), reverse=sort == "-created")
    return [pk for _due, _created, pk in rows]


def test_every_list_is_what_viewflows_tables_say_page_after_page(
    personas: Personas, work: dict[str, Any], time_machine
) -> None:  # type: ignore[no-untyped-def]
    """The queues read their own table of open tasks (workspace.OpenTask); whatever the user, list, order or
    filter, paging through it gives the tasks viewflow's tables give, in the same order."""
    for day in (16, 18, 20):
        time_machine.move_to(f"2026-11-{day}T10:00:00+08:00", tick=False)
        repair(personas)
        repair(personas, department=personas.environment)
        take(objection(personas), "forward", personas.intake)
    claimed = repair(personas)
    queue_services.claim(task_id=task_of(claimed).pk, actor=personas.officer)
    time_machine.move_to("2026-11-26T10:00:00+08:00", tick=False)
    today = date(2026, 11, 26)
    users = (
        personas.officer,
        personas.reviewer,
        personas.intake,
        personas.head,
        personas.other_officer,
        personas.recon,
    )
    variants: list[tuple[str, queues.Filters]] = [
        ("due", queues.Filters()),
        ("created", queues.Filters()),
        ("-created", queues.Filters()),
        ("due", queues.Filters(overdue=True)),
        ("due", queues.Filters(department=personas.market.pk)),
        ("due", queues.Filters(kind="objection")),
    ]
    checked = 0
    for user in users:
        for list_name in (queues.QUEUE, queues.INBOX, queues.TEAM):
            if list_name not in queues.lists_for(user):
                continue
            for sort, filters in variants:
                seen: list[int] = []
                cursor = None
                while True:
                    result = queues.page(user, list_name, filters=filters, sort=sort, cursor=cursor, size=3)
                    seen += [row.task_id for row in result.rows]
                    cursor = result.next_cursor
                    if cursor is None:
                        break
                expected = _from_viewflow(user, list_name, sort, filters, today)
                assert seen == expected, (user.username, list_name, sort, filters)
                checked += len(seen)
    assert checked > 100


def test_a_case_reached_by_two_of_the_users_scopes_is_listed_once(personas: Personas) -> None:
    """An officer who is also an applicant sees her department's cases and her own person's: a case that is
    both is one row."""
    from django.contrib.auth.models import Group

    from credit.models import User
    from tests.factories import PersonFactory

    personas.officer.groups.add(Group.objects.get(name=Role.APPLICANT))
    own = PersonFactory(name="王官员", user=personas.officer)
    both = repair(personas, person=own)  # her own case, in her department
    elsewhere = repair(personas, department=personas.environment, person=own)  # her own, another department
    ordinary = repair(personas)
    officer = User.objects.get(pk=personas.officer.pk)  # roles read afresh, as on the next request
    rows = queues.page(officer, queues.QUEUE).rows
    assert sorted(row.case_id for row in rows) == sorted([both.pk, elsewhere.pk, ordinary.pk])


# -- filters and searches ------------------------------------------------------------------------------------
def test_filters(personas: Personas, work: dict[str, Any], office: Department) -> None:
    assert set(listed(personas.officer, kind="objection")) == {"objection.acceptance", "objection.verify"}
    step = next(s for s in queues.steps() if s.ref.endswith("RepairFlow.decide"))
    assert listed(personas.officer, step=step.ref) == ["repair.decide"]
    assert listed(personas.officer, state="objection:accepted") == ["objection.verify"]
    assert listed(personas.officer, number=work["repair.decide"].number.lower()) == ["repair.decide"]
    assert listed(personas.officer, number="XF000") == []
    # City-wide roles choose a department.
    other = objection(personas, department=personas.environment)
    assert len(listed(personas.intake)) == 2
    rows = (
        browser(personas.intake).get("/staff/queue/", {"department": personas.environment.pk}).context["rows"]
    )
    assert [row.case_id for row in rows] == [other.pk]
    # A filter that contradicts itself is shown as an error, and the list is not filtered by it.
    response = browser(personas.officer).get(
        "/staff/queue/", {"kind": "repair", "state": "objection:accepted"}
    )
    assert response.context["form"].errors["state"]


def test_an_exact_id_number_finds_the_persons_tasks_and_is_logged(
    personas: Personas, work: dict[str, Any]
) -> None:
    mine = repair(personas, person=personas.other_person)
    officer = browser(personas.officer)
    number = personas.other_person.id_number
    response = officer.post(
        "/staff/queue/find-person/", {"id_number": number, "purpose": "enquiry"}, follow=True
    )
    assert response.status_code == 200
    assert [row.case_id for row in response.context["rows"]] == [mine.pk]
    assert number not in response.redirect_chain[0][0]  # never in a URL
    assert personas.other_person.id_masked in response.content.decode()
    logged = AccessLog.objects.get(user=personas.officer)
    assert (logged.person_id, logged.action, logged.purpose) == (personas.other_person.pk, "list", "enquiry")
    # Paging or filtering the search keeps to the person; the token is the user's own and expires.
    token = response.context["person_token"]
    assert [
        r.case_id for r in officer.get("/staff/queue/", {"person": token, "kind": "repair"}).context["rows"]
    ] == [mine.pk]
    other = browser(personas.reviewer).get("/staff/queue/", {"person": token})
    assert other.context["rows"] == [] and other.context["person"] is None


def test_no_partial_or_invalid_id_number_is_searched(personas: Personas, work: dict[str, Any]) -> None:
    officer = browser(personas.officer)
    number = personas.applicant_person.id_number
    bad_check = number[:17] + ("0" if number[17] != "0" else "1")
    for attempt in (number[:10], number[:17], bad_check, "3702021990030700"):
        response = officer.post("/staff/queue/find-person/", {"id_number": attempt, "purpose": "enquiry"})
        assert response.status_code == 400
        assert response.context["form"].errors["id_number"]
        assert attempt not in response.content.decode()  # not echoed back into the page
    response = officer.post("/staff/queue/find-person/", {"id_number": number, "purpose": ""})
    assert response.status_code == 400 and response.context["form"].errors["purpose"]
    response = officer.post("/staff/queue/find-person/", {"id_number": number, "purpose": "other"})
    assert response.status_code == 400 and response.context["form"].errors["note"]
    assert not AccessLog.objects.exists()
    # An unknown (valid) number finds nobody, and logs nothing: there is no person to log.
    response = officer.post(
        "/staff/queue/find-person/", {"id_number": resident_id(77), "purpose": "enquiry"}, follow=True
    )
    assert response.status_code == 200 and not AccessLog.objects.exists()
    # Spaces typed between groups are fine.
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    response = officer.post(
        "/staff/queue/find-person/", {"id_number": spaced, "purpose": "enquiry"}, follow=True
    )
    assert len(response.context["rows"]) == len(OFFICER_STEPS)


# -- claim, give, release ------------------------------------------------------------------------------------
def test_claim_moves_the_task_to_the_inbox_through_viewflow_and_logs_it(
    personas: Personas, work: dict[str, Any]
) -> None:
    case = work["repair.examine"]
    task = task_of(case)
    officer = browser(personas.officer)
    response = officer.post(
        f"/staff/tasks/{task.pk}/claim/", {"next": "/staff/queue/?kind=repair"}, follow=True
    )
    assert response.redirect_chain[0][0] == "/staff/queue/?kind=repair"
    assert "You took the task of" in response.content.decode()
    task.refresh_from_db()
    assert (task.status, task.owner, task.assigned is not None) == (STATUS.ASSIGNED, personas.officer, True)
    assert "repair.examine" not in listed(personas.officer)
    assert listed(personas.officer, "/staff/inbox/") == ["repair.examine"]
    entry = TransitionLog.objects.get(object_id=case.pk, transition="claim")
    assert (entry.actor, entry.from_state, entry.to_state) == (personas.officer, case.state, case.state)
    assert entry.payload["to"] == "officer" and entry.payload["task"] == task.pk
    # A second claim, by anyone, is refused with a message; nothing changes.
    response = browser(personas.officer).post(f"/staff/tasks/{task.pk}/claim/", follow=True)
    assert "claimed or done already" in response.content.decode()
    # Put back: in the queue again.
    officer.post(f"/staff/tasks/{task.pk}/release/")
    task.refresh_from_db()
    assert (task.status, task.owner) == (STATUS.NEW, None)
    assert TransitionLog.objects.filter(object_id=case.pk, transition="release").count() == 1


def test_nobody_claims_out_of_scope_or_role(personas: Personas, work: dict[str, Any]) -> None:
    examine = task_of(work["repair.examine"])
    for user in (personas.other_officer, personas.reviewer, personas.auditor, personas.intake):
        response = browser(user).post(f"/staff/tasks/{examine.pk}/claim/", follow=True)
        assert response.status_code == 200
    examine.refresh_from_db()
    assert examine.owner is None and not TransitionLog.objects.filter(transition="claim").exists()
    with pytest.raises(queue_services.Refused, match="no such task"):
        queue_services.claim(task_id=examine.pk, actor=personas.other_officer)
    with pytest.raises(queue_services.Refused, match="may not take"):
        queue_services.claim(task_id=examine.pk, actor=personas.reviewer)


def test_four_eyes_the_drafter_can_neither_claim_nor_be_given_the_approval(
    personas: Personas, work: dict[str, Any]
) -> None:
    both = UserFactory(username="both", role=Role.OFFICER, department=personas.market)
    both.groups.add(*personas.reviewer.groups.all())
    case = repair(personas)
    take(case, "accept", personas.officer)
    take(case, "draft_decision", both, outcome="refuse", reasons=["未缴清"])
    approval = task_of(case)
    assert approval.flow_task.name == "legal_review"
    with pytest.raises(queue_services.Refused):
        queue_services.claim(task_id=approval.pk, actor=both)
    response = browser(personas.reviewer).post(
        "/staff/tasks/assign/", {"tasks": [approval.pk], "to": both.pk}, follow=True
    )
    assert "Nothing was assigned" in response.content.decode() and "four-eyes" in response.content.decode()
    approval.refresh_from_db()
    assert approval.owner is None
    # The colleague list offers him (he holds the role), the rule refuses him per task.
    other_reviewer = UserFactory(username="reviewer2", role=Role.REVIEWER, department=personas.market)
    browser(personas.reviewer).post("/staff/tasks/assign/", {"tasks": [approval.pk], "to": other_reviewer.pk})
    approval.refresh_from_db()
    assert approval.owner == other_reviewer


def test_bulk_assign_gives_all_or_nothing(personas: Personas, work: dict[str, Any]) -> None:
    colleague = UserFactory(username="officer2", role=Role.OFFICER, department=personas.market)
    examine, decide = task_of(work["repair.examine"]), task_of(work["repair.decide"])
    approval = task_of(work["repair.legal_review"])  # a reviewer's task: an officer may not get it
    officer = browser(personas.officer)
    page = officer.get("/staff/queue/")
    given_to = [pk for pk, _name in page.context["colleagues"]]
    assert colleague.pk in given_to and personas.other_officer.pk not in given_to
    response = officer.post(
        "/staff/tasks/assign/",
        {"tasks": [examine.pk, decide.pk, approval.pk], "to": colleague.pk},
        follow=True,
    )
    assert "Nothing was assigned" in response.content.decode()
    assert not Task.objects.filter(pk__in=[examine.pk, decide.pk, approval.pk], owner__isnull=False).exists()
    assert not TransitionLog.objects.filter(transition="assign").exists()
    response = officer.post(
        "/staff/tasks/assign/",
        {"tasks": [examine.pk, decide.pk], "to": colleague.pk, "reason": "请假"},
        follow=True,
    )
    assert "2 task(s) given to officer2" in response.content.decode()
    assert set(Task.objects.filter(owner=colleague).values_list("pk", flat=True)) == {examine.pk, decide.pk}
    entries = TransitionLog.objects.filter(transition="assign").order_by("object_id")
    assert [(e.actor, e.reason, e.payload["to"]) for e in entries] == [
        (personas.officer, "请假", "officer2")
    ] * 2
    assert set(listed(colleague, "/staff/inbox/")) == {"repair.examine", "repair.decide"}
    # To someone of another department, or an applicant: refused.
    for other in (personas.other_officer, personas.applicant):
        response = browser(colleague).post(
            "/staff/tasks/assign/", {"tasks": [examine.pk], "to": other.pk}, follow=True
        )
        assert "Nothing was assigned" in response.content.decode()
    # Nothing selected, or garbage: a message, no change.
    for data in ({"to": colleague.pk}, {"tasks": ["x"], "to": colleague.pk}, {"tasks": [examine.pk]}):
        response = officer.post("/staff/tasks/assign/", data, follow=True)
        assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert Task.objects.get(pk=examine.pk).owner == colleague


def test_reassign_by_the_owner_or_the_head_but_not_by_a_peer(
    personas: Personas, work: dict[str, Any]
) -> None:
    colleague = UserFactory(username="officer2", role=Role.OFFICER, department=personas.market)
    examine = task_of(work["repair.examine"])
    queue_services.claim(task_id=examine.pk, actor=personas.officer)
    with pytest.raises(queue_services.Refused, match="may not hand out"):
        queue_services.give(task_ids=[examine.pk], to=colleague, actor=colleague)
    queue_services.give(task_ids=[examine.pk], to=colleague, actor=personas.officer)  # hands it over
    examine.refresh_from_db()
    assert examine.owner == colleague and examine.status == STATUS.ASSIGNED
    # The head sees the team's open work, claimed or not, and hands it out.
    team = browser(personas.head).get("/staff/team/")
    assert examine.pk in {row.task_id for row in team.context["rows"]}
    assert "reconsideration.acceptance" not in listed(personas.head, "/staff/team/")  # the office's work
    assert personas.officer.pk in [pk for pk, _name in team.context["colleagues"]]
    browser(personas.head).post("/staff/tasks/assign/", {"tasks": [examine.pk], "to": personas.officer.pk})
    examine.refresh_from_db()
    assert examine.owner == personas.officer
    kinds = list(
        TransitionLog.objects.filter(
            object_id=work["repair.examine"].pk, transition__in=["claim", "reassign"]
        )
        .order_by("id")
        .values_list("transition", "actor__username", "payload")
    )
    assert [(k, a, p["from"], p["to"]) for k, a, p in kinds] == [
        ("claim", "officer", None, "officer"),
        ("reassign", "officer", "officer", "officer2"),
        ("reassign", "head", "officer2", "officer"),
    ]
    # Only the owner puts it back.
    with pytest.raises(queue_services.Refused):
        queue_services.release(task_id=examine.pk, actor=personas.head)


def test_the_archive_lists_what_i_finished(personas: Personas, work: dict[str, Any]) -> None:
    newcomer = UserFactory(username="officer2", role=Role.OFFICER, department=personas.market)
    assert browser(newcomer).get("/staff/archive/").context["rows"] == []
    case = work["repair.examine"]
    task = task_of(case)
    queue_services.claim(task_id=task.pk, actor=newcomer)
    take(case, "accept", newcomer)
    rows = browser(newcomer).get("/staff/archive/").context["rows"]
    assert [row.task_id for row in rows] == [task.pk]
    assert rows[0].deadline_status == "met" and rows[0].due_date is not None
    assert task.pk not in {
        row.task_id for row in browser(personas.officer).get("/staff/archive/").context["rows"]
    }


# -- pages ---------------------------------------------------------------------------------------------------
def test_pages_follow_each_other_without_gaps_or_repeats(personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
    expected = []
    for day in range(16, 21):
        time_machine.move_to(f"2026-11-{day}T10:00:00+08:00", tick=False)
        expected.append(repair(personas).pk)
    time_machine.move_to("2026-11-23T10:00:00+08:00", tick=False)
    expected += [take(objection(personas), "forward", personas.intake).pk for _ in range(3)]
    for sort in ("due", "created", "-created"):
        seen, cursor, pages = [], None, 0
        while True:
            result = queues.page(personas.officer, queues.QUEUE, sort=sort, cursor=cursor, size=3)
            seen += [row.case_id for row in result.rows]
            pages += 1
            cursor = result.next_cursor
            if cursor is None:
                break
        assert pages == 3 and len(seen) == 8
        assert seen == (expected if sort != "-created" else expected[::-1]), sort
    response = browser(personas.officer).get("/staff/queue/", {"sort": "due"})
    assert response.context["next_url"] == ""
    # A cursor that is not one starts at the first page.
    assert len(queues.page(personas.officer, queues.QUEUE, cursor="dnonsense_1").rows) == 8


def _queries(client: Client, path: str = "/staff/queue/", **params: Any) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(queries), len(response.context["rows"])


VARIANTS: list[dict[str, Any]] = [
    {},
    {"kind": "repair"},
    {"overdue": "on"},
    {"state": "repair:submitted"},
    {"sort": "created"},
    {"sort": "-created"},
    {"number": "XF0"},
]


def test_a_page_costs_no_more_queries_for_thirty_rows_than_for_one(
    personas: Personas, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    """Each page reads a fixed number of times: its lists (one per case type with clocks, one per step
    without), the tasks, the cases (one query per case type shown), the calendar, the colleagues. The
    first counts are taken with every case type on the page, then the lists grow to 30 rows and more."""
    client = browser(personas.officer)
    client.get("/staff/queue/")  # content types cached for the process, as in a running server
    for _ in range(2):
        repair(personas)
        take(objection(personas), "forward", personas.intake)
    for case in (repair(personas), take(objection(personas), "forward", personas.intake)):
        queue_services.claim(task_id=task_of(case).pk, actor=personas.officer)
    few = {str(v): _queries(client, **v)[0] for v in VARIANTS}
    assert _queries(client)[1] == 4
    inbox = _queries(client, "/staff/inbox/")
    assert inbox[1] == 2
    archive = _queries(client, "/staff/archive/")[0]
    for _ in range(30):
        case = repair(personas)
        queue_services.claim(task_id=task_of(case).pk, actor=personas.officer)
        repair(personas)
    for _ in range(10):
        take(objection(personas), "forward", personas.intake)
    for variant in VARIANTS:
        assert _queries(client, **variant)[0] <= few[str(variant)], variant
    with django_assert_max_num_queries(few["{}"]):
        assert len(client.get("/staff/queue/").context["rows"]) == 30
    cursor = queues.page(personas.officer, queues.QUEUE).next_cursor
    assert cursor and _queries(client, after=cursor)[0] <= few["{}"]
    with django_assert_max_num_queries(inbox[0]):
        assert len(client.get("/staff/inbox/").context["rows"]) == 30
    assert _queries(client, "/staff/archive/")[0] <= archive


def test_the_staff_navigation_shows_each_role_its_pages(personas: Personas) -> None:
    def nav(user: Any) -> str:
        html = browser(user).get("/staff/queue/").content.decode()
        return html[html.index('<nav class="staff"') : html.index("</nav>", html.index('<nav class="staff"'))]

    officer, head, auditor, intake = (
        nav(u) for u in (personas.officer, personas.head, personas.auditor, personas.intake)
    )
    assert "/staff/queue/" in officer and "/staff/inbox/" in officer and "/staff/team/" not in officer
    assert "/staff/team/" in head
    for page in ("dashboard", "transition-log", "access-log"):
        try:
            from django.urls import reverse

            url = reverse(f"workspace:{page}")
        except Exception:  # noqa: S112  (a page another part of the workspace has not installed)
            continue
        assert url not in officer
        assert (url in auditor) is True
    assert 'aria-current="page"' in officer
    assert "Queue" in intake


# -- PostgreSQL plans ----------------------------------------------------------------------------------------
def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.services
def test_the_lists_read_their_indexes_on_postgresql(personas: Personas, work: dict[str, Any]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (set DATABASE_URL)")
    with connection.cursor() as cursor:
        # With sequential scans priced out, a table still read in full is one no index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    queues.page(personas.officer, queues.QUEUE)  # content types and roles cached
    cases = [
        (personas.officer, queues.QUEUE, {}, "opentask_dept_due"),
        (personas.intake, queues.QUEUE, {}, "opentask_step_due"),
        (
            personas.intake,
            queues.QUEUE,
            {"filters": queues.Filters(department=personas.market.pk, overdue=True)},
            "opentask_dept_due",
        ),
        (personas.officer, queues.QUEUE, {"sort": "created"}, "opentask_dept_created"),
        (personas.recon, queues.QUEUE, {"sort": "-created"}, "opentask_step_created"),
        (personas.officer, queues.INBOX, {}, "opentask_"),
        (personas.head, queues.TEAM, {}, "opentask_dept_due"),
        (
            personas.officer,
            queues.QUEUE,
            {"filters": queues.Filters(person=personas.applicant_person.pk)},
            "opentask_",  # the person's index at scale; on a table this small, any of them
        ),
    ]
    for user, list_name, kwargs, index in cases:
        with CaptureQueriesContext(connection) as queries:
            queues.page(user, list_name, **kwargs)
        (rows,) = [q["sql"] for q in queries if "workspace_opentask" in q["sql"]]
        plan = _plan(rows, None)
        assert index in plan, (user.username, list_name, kwargs, plan)
        assert "Seq Scan on workspace_opentask" not in plan, plan
    # The archive: the user's finished tasks by the moment they were finished, each case checked by its key.
    with CaptureQueriesContext(connection) as queries:
        assert queues.page(personas.officer, queues.ARCHIVE).rows
    (archive,) = [q["sql"] for q in queries if "viewflow_task" in q["sql"] and "finished" in q["sql"]]
    plan = _plan(archive, None)
    assert "viewflow_task_archive" in plan and "Seq Scan on viewflow_task " not in plan, plan
