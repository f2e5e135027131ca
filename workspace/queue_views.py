"""The staff queues' pages: queue, inbox, team (heads) and archive, with filters, a search by case number
or by an exact ID number, and the actions claim, give (assign, reassign, in bulk) and release.

Reads go through workspace.queues (a few bounded index-ordered reads per page, whatever the queue's size);
writes through workspace.queue_services (viewflow's activation under the flow's lock). Actions are POST
only, CSRF-protected, and answer with a message and a redirect back to the list.

An ID number is posted, never put in a URL (URLs end up in logs and browser history): the search is logged
in the data-access log with its purpose, then the list is shown for a signed token naming the person, bound
to the user and valid for a limited time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views import View
from viewflow.workflow.status import STATUS

from credit.models import AccessLog, Person, User
from credit.selectors import is_staff_member
from credit.services.access import Purpose, log_access

from . import queue_services, queues
from .forms import AssignForm, PersonSearchForm, QueueFilterForm

PERSON_SALT = "workspace.queues.person"
PERSON_SEARCH_MAX_AGE = 30 * 60  # seconds a search by ID number stays open without being logged again


class StaffOnly(LoginRequiredMixin):
    """Signed out: the login page. Signed in without a staff role (applicants, administrators): 403."""

    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not is_staff_member(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc, no-any-return, return-value]

    @property
    def user(self) -> User:
        return cast(User, self.request.user)


def _list_or_404(user: Any, list_name: str) -> str:
    if list_name not in queues.lists_for(user):
        raise PermissionDenied
    return list_name


def person_token(user: Any, person: Person) -> str:
    return signing.dumps({"u": user.pk, "p": person.pk}, salt=PERSON_SALT, compress=True)


def person_from_token(user: Any, token: str) -> int | None:
    """The person a recent, logged search of this user found; None for a token that is not one."""
    try:
        data = signing.loads(token, salt=PERSON_SALT, max_age=PERSON_SEARCH_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("u") != user.pk or not isinstance(data.get("p"), int):
        return None
    return cast(int, data["p"])


SENTINEL = 987654321  # a pk no URL pattern contains otherwise: reversed once, then replaced per row


def _per_pk(name: str, **kwargs: Any) -> Callable[[int], str] | None:
    """A URL of `name` for any pk, reversed once per page (reversing per row and action costs more than
    the rows' queries). None when another part of the workspace has not installed `name` yet."""
    try:
        pattern = reverse(name, kwargs={**kwargs, "pk": SENTINEL})
    except NoReverseMatch:
        return None
    return lambda pk: pattern.replace(str(SENTINEL), str(pk))


@dataclass
class RowView:
    """A row as the page shows it, its text and links worked out here (a template renders each variable,
    filter and tag through several layers: at 30 rows that was most of a page's time)."""

    task_id: int
    number: str
    case_url: str
    kind: str
    step: str
    state: str
    department: str
    due: str  # ISO date, or ""
    sla_state: str  # due, today, overdue; met, missed (archive); or ""
    sla_label: str
    since: str
    owner: str
    claim_url: str
    release_url: str


def row_views(rows: list[queues.Row], user: Any, list_name: str) -> list[RowView]:
    case_urls = {slug: _per_pk("workspace:case", kind=slug) for slug in queues.KINDS}
    claim, release = _per_pk("workspace:queue-claim"), _per_pk("workspace:queue-release")
    kinds = {slug: str(kind.label) for slug, kind in queues.KINDS.items()}  # translated once per page
    titles = queues.step_titles()
    views = []
    for row in rows:
        case_url = case_urls[row.kind.slug]
        since = row.finished if list_name == queues.ARCHIVE else row.created
        if row.countdown is not None:
            sla_state, sla_label = row.countdown.state, row.countdown.label
        else:
            sla_state, sla_label = row.deadline_status, row.deadline_label
        views.append(
            RowView(
                task_id=row.task_id,
                number=row.number,
                case_url=case_url(row.case_id) if case_url else "",
                kind=kinds[row.kind.slug],
                step=titles[row.step.ref],
                state=row.state_label,
                department=row.department,
                due=row.due_date.isoformat() if row.due_date else "",
                sla_state=sla_state,
                sla_label=sla_label,
                since=timezone.localtime(since).strftime("%Y-%m-%d %H:%M") if since else "",
                owner=row.owner,
                claim_url=claim(row.task_id)
                if claim and list_name == queues.QUEUE and row.status == STATUS.NEW
                else "",
                release_url=release(row.task_id)
                if release and row.owner_id == user.pk and row.status == STATUS.ASSIGNED
                else "",
            )
        )
    return views


def rows_html(views: list[RowView], list_name: str, may_give: bool) -> SafeString:
    """The table's rows. Written here, every value escaped (html.escape, as a template escapes a variable):
    through the template engine, or format_html per cell, 30 rows took most of a page's time."""
    label = {
        key: escape(str(text))
        for key, text in {
            "case": _("Case"),
            "step": _("Step"),
            "state": _("State"),
            "department": _("Department"),
            "due": _("Deadline") if list_name == queues.ARCHIVE else _("Due"),
            "since": _("Finished") if list_name == queues.ARCHIVE else _("Waiting since"),
            "owner": _("Owner"),
            "select": _("Select"),
            "claim": _("Claim"),
            "put_back": _("Put back"),
        }.items()
    }
    rows = []
    for row in views:
        number = escape(row.number)
        cells = []
        if may_give:
            cells.append(
                f'<td><input type="checkbox" name="tasks" value="{row.task_id}" class="q-pick" '
                f'aria-label="{label["select"]} {number}"></td>'
            )
        case = f'<a href="{escape(row.case_url)}">{number}</a>' if row.case_url else number
        cells.append(
            f'<td data-label="{label["case"]}">{case}<br><span class="muted">{escape(row.kind)}</span></td>'
        )
        for key in ("step", "state", "department"):
            cells.append(f'<td data-label="{label[key]}">{escape(getattr(row, key))}</td>')
        if row.due:
            due = escape(row.due)
            badge = (
                f'<span class="sla sla-{escape(row.sla_state)}">{escape(str(row.sla_label))}</span> '
                if row.sla_label
                else ""
            )
            due = f'{badge}<time datetime="{due}" class="muted">{due}</time>'
        else:
            due = '<span class="muted">—</span>'
        cells.append(f'<td data-label="{label["due"]}">{due}</td>')
        cells.append(f'<td data-label="{label["since"]}">{escape(row.since)}</td>')
        if list_name == queues.TEAM:
            cells.append(f'<td data-label="{label["owner"]}">{escape(row.owner or "—")}</td>')
        if list_name != queues.ARCHIVE:
            action = ""
            for url, text in ((row.claim_url, label["claim"]), (row.release_url, label["put_back"])):
                if url:
                    action = (
                        f'<button type="submit" formnovalidate formaction="{escape(url)}" '
                        f'aria-label="{text} {number}">{text}</button>'
                    )
                    break
            cells.append(f'<td class="actions">{action}</td>')
        rows.append(f'<tr data-task="{row.task_id}">{"".join(cells)}</tr>')
    return mark_safe("\n".join(rows))  # noqa: S308  (every value escaped above)


class QueueListView(StaffOnly, View):
    list_name = queues.QUEUE
    template_name = "workspace/queue/list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        list_name = _list_or_404(self.user, self.list_name)
        departments = queues.department_choices(self.user)
        form = QueueFilterForm(
            request.GET or None, user=self.user, list_name=list_name, departments=departments
        )
        person = None
        token = request.GET.get("person", "")
        if token:
            person_id = person_from_token(self.user, token)
            if person_id is None:
                messages.warning(request, _("The search by ID number has expired; search again."))
            else:
                person = Person.objects.filter(pk=person_id).first()
        filters = form.filters(person=person.pk if person is not None else None)
        if token and person is None:
            filters = queues.Filters(person=0)  # an expired search shows nobody's tasks, not everyone's
        result = queues.page(
            self.user,
            list_name,
            filters=filters,
            sort=form.sort_order,
            cursor=request.GET.get("after"),
        )
        chosen = queues.steps_for(self.user, list_name)
        may_give = list_name in (queues.QUEUE, queues.TEAM, queues.INBOX)
        context = {
            "list_name": list_name,
            "list_title": queues.LIST_TITLES[list_name],
            "lists": [(name, queues.LIST_TITLES[name]) for name in queues.lists_for(self.user)],
            "form": form,
            "show_department": len(departments) > 1,
            "filter_fields": [
                (field, form.options(field.name) if field.name not in ("number", "overdue") else "")
                for field in form
                if field.name != "department" or len(departments) > 1
            ],
            "page": result,
            "rows": result.rows,
            "rows_html": rows_html(row_views(result.rows, self.user, list_name), list_name, may_give),
            "next_url": self._page_url(request, result.next_cursor) if result.next_cursor else "",
            "first_url": self._page_url(request, None) if request.GET.get("after") else "",
            "person": person,
            "person_token": token if person is not None else "",
            "search_form": PersonSearchForm(),
            "colleagues": queues.colleagues(self.user, chosen) if may_give else [],
            "may_give": may_give,
            "here": request.get_full_path(),
        }
        return render(request, self.template_name, context)

    @staticmethod
    def _page_url(request: HttpRequest, cursor: str | None) -> str:
        params = request.GET.copy()
        params.pop("after", None)
        if cursor:
            params["after"] = cursor
        query = params.urlencode()
        return f"{request.path}?{query}" if query else request.path


class InboxView(QueueListView):
    list_name = queues.INBOX


class TeamView(QueueListView):
    list_name = queues.TEAM


class ArchiveView(QueueListView):
    list_name = queues.ARCHIVE


def _back(request: HttpRequest, default: str = "workspace:queue") -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse(default)
    return HttpResponseRedirect(target)


class ActionView(StaffOnly, View):
    http_method_names = ["post"]


class ClaimView(ActionView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            task = queue_services.claim(task_id=pk, actor=self.user)
        except queue_services.Refused as exc:
            messages.error(request, exc.message)
            return _back(request)
        case = task.process.artifact
        messages.success(request, _("You took the task of %(case)s.") % {"case": case.number or case})
        return _back(request)


class ReleaseView(ActionView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            task = queue_services.release(task_id=pk, actor=self.user)
        except queue_services.Refused as exc:
            messages.error(request, exc.message)
            return _back(request, "workspace:inbox")
        case = task.process.artifact
        message = _("The task of %(case)s is back in the queue.") % {"case": case.number or case}
        messages.success(request, message)
        return _back(request, "workspace:inbox")


class AssignView(ActionView):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = AssignForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return _back(request)
        to = User.objects.filter(pk=form.cleaned_data["to"]).first()
        try:
            given = queue_services.give(
                task_ids=form.cleaned_data["tasks"],
                to=to,
                actor=self.user,
                reason=form.cleaned_data["reason"],
            )
        except queue_services.Refused as exc:
            messages.error(request, _("Nothing was assigned. %(reason)s") % {"reason": exc.message})
            return _back(request)
        assert to is not None
        messages.success(
            request,
            _("%(n)d task(s) given to %(user)s.") % {"n": len(given), "user": to.get_username()},
        )
        return _back(request)


class FindPersonView(ActionView):
    """POST an exact ID number and a purpose: log the access, then show the list for that person."""

    template_name = "workspace/queue/find_person.html"

    def post(self, request: HttpRequest, list_name: str) -> HttpResponse:
        list_name = _list_or_404(self.user, list_name)
        form = PersonSearchForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                self.template_name,
                {"form": form, "list_name": list_name, "list_title": queues.LIST_TITLES[list_name]},
                status=400,
            )
        person = Person.objects.by_id_number(form.cleaned_data["id_number"]).first()
        if person is None:
            messages.info(request, _("Nobody with this ID number is known."))
            return HttpResponseRedirect(reverse(f"workspace:{list_name}"))
        log_access(
            user=self.user,
            person_ids=[person.pk],
            action=AccessLog.Action.LIST,
            purpose=Purpose(form.cleaned_data["purpose"], form.cleaned_data["note"].strip()),
            path=reverse(f"workspace:{list_name}"),
        )
        query = urlencode({"person": person_token(self.user, person)})
        return HttpResponseRedirect(f"{reverse(f'workspace:{list_name}')}?{query}")
