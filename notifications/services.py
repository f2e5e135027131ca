"""Raise events, deliver them, and the sweeps (digests, deadline reminders, stalled deliveries)."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import date, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from credit import calendar
from credit.batching import remembered
from credit.models import Deadline
from credit.reports import department_of
from portal.links import applicant_link, staff_link

from . import reminders
from .gateways import sms_gateway
from .models import Channel, Delivery, DeliveryStatus, Notification, Preference
from .registry import EVENTS

logger = logging.getLogger(__name__)
CLAIM = timedelta(minutes=5)


def absolute(path: str) -> str:
    return path if path.startswith("http") else f"{settings.PUBLIC_BASE_URL}{path}"


def preference_for(user: Any) -> Preference:
    def load() -> Preference:
        preference = Preference.objects.filter(user=user).first()
        return preference if preference is not None else Preference(user=user)

    return remembered(("preference", user.pk), load)


def _render(event_name: str, language: str, context: dict[str, Any]) -> dict[str, str]:
    """One message in the recipient's language: subject, text, HTML, SMS (which carries no personal data)."""
    directory = EVENTS[event_name].template_dir
    with translation.override(language):
        parts = {
            name: render_to_string(f"{directory}/{language}/{name}", context).strip()
            for name in ("subject.txt", "body.txt", "body.html", "sms.txt")
        }
    return {
        "subject": " ".join(parts["subject.txt"].split()),
        "text": parts["body.txt"],
        "html": parts["body.html"],
        "sms": " ".join(parts["sms.txt"].split()),
    }


def notify(
    event_name: str, *, key: str, context: dict[str, Any], link: str = "", case_number: str = ""
) -> list[Notification]:
    """Raise event `event_name` for the occurrence `key` (e.g. "letter:42"). Idempotent: raising it again
    creates nothing. Call inside the transaction of what happened; delivery starts after it commits."""
    event = EVENTS[event_name]
    recipients: dict[int, Any] = {}
    for resolve in event.recipients:
        for user in resolve(context):
            if user is not None and user.is_active:
                recipients.setdefault(user.pk, user)
    created = []
    for user in recipients.values():
        language = user.preferred_language or settings.LANGUAGE_CODE
        with translation.override(language):
            title = str(event.description)
        message = _render(
            event_name,
            language,
            {
                **context,
                "recipient": user,
                "link": absolute(link) if link else "",
                "case_number": case_number,
                "event_title": title,
            },
        )
        notification = _insert_once(
            Notification(
                recipient=user,
                event=event_name,
                key=key,
                subject=message["subject"][:200],
                body=message["text"],
                link=link,
                case_number=case_number,
            )
        )
        if notification is None:  # raised before for this occurrence and recipient
            continue
        created.append(notification)
        for channel, address, payload in _channels(event, user, message):
            held = channel == Channel.EMAIL and event.for_staff and preference_for(user).daily_digest
            delivery = Delivery.objects.create(
                notification=notification,
                channel=channel,
                address=address,
                payload=payload,
                idempotency_key=f"{event_name}:{key}:{user.pk}:{channel}",
                status=DeliveryStatus.HELD if held else DeliveryStatus.QUEUED,
            )
            if not held:
                from .tasks import deliver

                transaction.on_commit(partial(deliver.delay, delivery.pk))
    return created


def _insert_once(notification: Notification) -> Notification | None:
    """Insert the notification unless (recipient, event, key) exists: one statement (INSERT … ON CONFLICT
    DO NOTHING RETURNING, PostgreSQL and SQLite ≥ 3.35), where get_or_create takes a read, a savepoint, the
    insert and its release. Returns it with its id, or None if it existed."""
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(notification, add=True), connection) for f in fields]
    table, pk = quote(Notification._meta.db_table), quote("id")
    columns = ", ".join(quote(str(f.column)) for f in fields)
    unique = ", ".join(quote(c) for c in ("recipient_id", "event", "key"))
    placeholders = ", ".join(["%s"] * len(fields))
    # Names from the model's metadata, values as parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT ({unique}) DO NOTHING RETURNING {pk}"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return None
    notification.pk = row[0]
    notification._state.adding = False
    notification._state.db = connection.alias
    return notification


def _channels(event: Any, user: Any, message: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    preference = preference_for(user)
    wanted: list[tuple[str, str, dict[str, str]]] = []
    if Channel.EMAIL in event.channels and preference.email and user.email:
        wanted.append(
            (
                Channel.EMAIL,
                user.email,
                {"subject": message["subject"], "text": message["text"], "html": message["html"]},
            )
        )
    if Channel.SMS in event.channels and preference.sms and user.phone:
        wanted.append((Channel.SMS, user.phone, {"text": message["sms"]}))
    return wanted


def deliver(delivery_id: int) -> bool:
    """Send one delivery if nobody else is sending it or has sent it. Returns False when there was nothing
    to do (already sent, held, or claimed by a live worker); raises when the channel failed."""
    now = timezone.now()
    # The claim: a conditional update, so two workers (a retry and a redelivered message) never both send.
    # A claim that outlived CLAIM belongs to a worker that died; it may be taken over (at-least-once).
    claimed = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(
            models.Q(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.FAILED])
            | models.Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
        )
        .update(status=DeliveryStatus.SENDING, claimed_until=now + CLAIM, attempts=models.F("attempts") + 1)
    )
    if not claimed:
        return False
    delivery = Delivery.objects.get(pk=delivery_id)
    try:
        provider_id = _send(delivery)
    except Exception as exc:
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.FAILED, last_error=repr(exc)[:2000], claimed_until=None
        )
        raise
    Delivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        provider_id=provider_id[:200],
        claimed_until=None,
        last_error="",
    )
    return True


def give_up(delivery_id: int) -> None:
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.GAVE_UP
    )


def _message_id(key: str) -> str:
    # Deterministic: an SMTP relay or mailbox that de-duplicates by Message-ID drops our rare re-send.
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@credit-repair>"


def _send(delivery: Delivery) -> str:
    payload = delivery.payload
    if delivery.channel == Channel.EMAIL:
        message = EmailMultiAlternatives(
            subject=payload["subject"],
            body=payload["text"],
            to=[delivery.address],
            headers={"Message-ID": _message_id(delivery.idempotency_key)},
            connection=get_connection(fail_silently=False),
        )
        if payload.get("html"):
            message.attach_alternative(payload["html"], "text/html")
        message.send()
        return _message_id(delivery.idempotency_key)
    if delivery.channel == Channel.SMS:
        return sms_gateway().send(
            to=delivery.address, text=payload["text"], idempotency_key=delivery.idempotency_key
        )
    raise ValueError(f"Channel {delivery.channel} is not delivered by a task")


def send_daily_digests(*, on: date | None = None) -> int:
    """One e-mail per staff member with everything held for their digest; idempotent per day."""
    on = on or timezone.localdate()
    held = Delivery.objects.filter(status=DeliveryStatus.HELD, channel=Channel.EMAIL).select_related(
        "notification__recipient"
    )
    by_user: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in held:
        by_user[delivery.notification.recipient_id].append(delivery)
    sent = 0
    for deliveries in by_user.values():
        user = deliveries[0].notification.recipient
        key = f"digest:{user.pk}:{on.isoformat()}"
        language = user.preferred_language or settings.LANGUAGE_CODE
        with translation.override(language):
            context = {
                "recipient": user,
                "items": [d.notification for d in deliveries],
                "on": on,
                "inbox": absolute("/inbox/"),
            }
            subject = " ".join(
                render_to_string(f"notifications/digest/{language}/subject.txt", context).split()
            )
            text = render_to_string(f"notifications/digest/{language}/body.txt", context)
        with transaction.atomic():
            ids = [d.pk for d in deliveries]
            # Claim the held rows first: a second digest run (or a parallel one) finds nothing to send.
            if Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.HELD).update(
                status=DeliveryStatus.SENDING, digest_key=key, claimed_until=timezone.now() + CLAIM
            ) != len(ids):
                continue
        EmailMultiAlternatives(
            subject=subject, body=text, to=[user.email], headers={"Message-ID": _message_id(key)}
        ).send()
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now(), claimed_until=None
        )
        sent += 1
    return sent


def send_deadline_reminders(*, lead_working_days: int | None = None) -> int:
    """The morning reminders, N working days before a clock ends and on its last day: the staff's
    deadlines to whoever holds the work (or the department's queue), the applicant's own clocks to the
    applicant and their agents. Idempotent: each reminder is an occurrence of its own, raised once."""
    lead = lead_working_days if lead_working_days is not None else settings.NOTIFY_REMINDER_WORKING_DAYS
    today = timezone.localdate()
    ahead = calendar.add_working_days(today, lead)
    days = reminders.targets(today, ahead)
    return _remind_staff(days) + _remind_applicants(days)


def _remind_staff(days: reminders.Targets) -> int:
    raised = 0
    # The applicant's clocks are not the staff's to act on: when one ends, the case's timer acts (the
    # application lapses, or is deemed withdrawn), so the queue is not told to do anything about it.
    due = (
        Deadline.objects.pending()
        .filter(due_date__in=list(days))
        .exclude(kind__in=list(reminders.APPLICANT_DEADLINES))
        .select_related("task")
    )
    for deadline in due:
        subject = deadline.subject
        when = days[deadline.due_date]
        with transaction.atomic():
            raised += len(
                notify(
                    "deadline.reminder",
                    key=f"deadline:{deadline.pk}:{deadline.due_date.isoformat()}:{when}",
                    context={
                        "deadline": deadline,
                        "subject": subject,
                        "task": deadline.task,
                        # A reconsideration's clock is its office's, not the respondent department's.
                        "department": department_of(subject),
                        "due_today": when == "today",
                    },
                    link=staff_link(subject),
                    case_number=str(getattr(subject, "number", "") or ""),
                )
            )
    return raised


def _remind_applicants(days: reminders.Targets) -> int:
    raised = 0
    due = (
        Deadline.objects.pending()
        .filter(due_date__in=list(days), kind__in=list(reminders.APPLICANT_DEADLINES))
        .order_by("due_date", "pk")
        .prefetch_related("subject")
    )
    for deadline in due.iterator(chunk_size=500):
        subject = deadline.subject
        person = getattr(subject, "person", None)
        if person is None:
            logger.warning("Deadline %s (%s) has no person to remind", deadline.pk, deadline.kind)
            continue
        when = days[deadline.due_date]
        with transaction.atomic():
            raised += len(
                notify(
                    reminders.APPLICANT_DEADLINES[deadline.kind],
                    key=f"deadline:{deadline.pk}:{deadline.due_date.isoformat()}:{when}",
                    context={
                        "deadline": deadline,
                        "subject": subject,
                        "person": person,
                        "due_today": when == "today",
                    },
                    link=applicant_link(subject),
                    case_number=str(getattr(subject, "number", "") or ""),
                )
            )
    for source in reminders.SOURCES:
        raised += source(targets=days)
    return raised


def requeue_stalled(*, older_than: timedelta = timedelta(minutes=10), limit: int = 500) -> int:
    """Deliveries whose message was lost (broker flushed, worker killed) are sent again."""
    from .tasks import deliver as deliver_task

    now = timezone.now()
    stalled = Delivery.objects.filter(
        models.Q(status=DeliveryStatus.QUEUED, created_at__lt=now - older_than)
        | models.Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
    ).values_list("pk", flat=True)[:limit]
    ids = list(stalled)
    for delivery_id in ids:
        deliver_task.delay(delivery_id)
    return len(ids)


def mark_read(user: Any, notification_ids: list[int] | None = None) -> int:
    queryset = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=notification_ids)
    return queryset.update(read_at=timezone.now())
