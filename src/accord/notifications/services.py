"""Writes for notifications: tell a person something once, publish events, and send both.

Domains call `notify` and `publish_event` with plain data inside their own transaction. Both
write the message and one `Delivery` row per channel in that transaction (an outbox), and
enqueue `tasks.send_delivery` on commit, so a rolled-back change sends nothing and a committed
one is never lost. `send_delivery` claims the row, sends, and records the outcome; `sweep`
retries failures when they fall due and recovers claims a killed worker left behind.

Where a duplicate can still happen: a worker that dies after the peer accepted a message
(SMTP "250", an HTTP 2xx) and before its `SENT` commit leaves the row `SENDING`; after the
claim lease the sweep sends it again. That window is one UPDATE long. Emails keep their
Message-ID and webhooks their `X-Accord-Delivery` across retries so the receiver can drop it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.tasks.backends.immediate import ImmediateBackend
from django.template.loader import render_to_string
from django.utils import timezone

from accord.core.errors import NotFound, ValidationFailed
from accord.notifications import domain, tasks, transport
from accord.notifications.domain import Channel, Mode
from accord.notifications.events import DomainEvent, known_filter, record_link, redacted_payload
from accord.notifications.models import (
    Delivery,
    DeliveryAttempt,
    Digest,
    Event,
    Notification,
    Preference,
    SlackWebhook,
    WebhookSubscription,
)
from accord.notifications.selectors import modes_for, slack_url_for

# Longer than any one send can take (HTTP and SMTP time out after 10 s), so the sweep only
# ever takes back claims whose worker is gone.
CLAIM_LEASE = timedelta(minutes=2)
# A queued task that has not run by then is assumed lost (its worker was killed) and queued again.
REQUEUE_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 1000


def notify(*, recipient, kind: str, title: str, dedupe_key: str, body: str = "", url: str = "",
           at=None, deliver: bool = True) -> Notification | None:
    """Put a notification in the recipient's inbox and queue it for their other channels.

    Return None when the key was already used. `deliver=False` writes the inbox row only
    (backfills and the demo, whose events happened long ago); so does an inactive recipient.
    """
    # A deactivated login keeps its inbox (for the record) but gets no more email or Slack.
    deliver = deliver and recipient.is_active
    modes = modes_for(recipient) if deliver else {}
    in_inbox = modes.get((kind, Channel.IN_APP), Mode.IMMEDIATE) != Mode.OFF
    notification = Notification(
        recipient=recipient, kind=kind, title=title[:200], body=body, url=url[:500],
        dedupe_key=dedupe_key[:200], created_at=at or timezone.now(), in_inbox=in_inbox,
    )
    if not _insert_once(notification):
        return None
    if not deliver:
        return notification
    now = timezone.now()
    rows = []
    email_mode = modes[(kind, Channel.EMAIL)]
    if recipient.email and email_mode != Mode.OFF:
        waiting = email_mode == Mode.DIGEST
        rows.append(Delivery(
            channel=Delivery.Channel.EMAIL, notification=notification,
            status=Delivery.Status.WAITING if waiting else Delivery.Status.PENDING,
            created_at=now, next_attempt_at=now, queued_at=None if waiting else now,
        ))
    if modes[(kind, Channel.SLACK)] == Mode.IMMEDIATE and slack_url_for(recipient):
        rows.append(Delivery(
            channel=Delivery.Channel.SLACK, notification=notification,
            created_at=now, next_attempt_at=now, queued_at=now,
        ))
    _enqueue_on_commit(Delivery.objects.bulk_create(rows))
    return notification


def _insert_once(notification: Notification) -> bool:
    """Insert the notification unless its dedupe key is taken; return whether it was inserted.

    One statement: a key already used, or taken by a concurrent request a moment ago, inserts
    nothing and leaves the caller's transaction usable, where a read, a savepoint and an
    insert that could fail took four.
    """
    table = Notification._meta.db_table
    fields = ("recipient_id", "kind", "title", "body", "url", "dedupe_key", "created_at", "in_inbox")
    values = [Notification._meta.get_field(name).get_db_prep_save(getattr(notification, name), connection)
              for name in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join(['%s'] * len(fields))}) "  # noqa: S608
            "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id", values)
        row = cursor.fetchone()
    if row is None:
        return False
    notification.pk = row[0]
    notification._state.adding = False
    return True


def publish_event(*, event_type: str, record_key: str, payload: dict, at=None) -> Event | None:
    """Record an event and queue one signed delivery per active subscription that wants it.

    Return None (and store nothing) when no subscription takes this event type. Deliveries
    for the same record reach each subscriber in the order the events were published.
    """
    events = publish_events(events=[DomainEvent(event_type=event_type, record_key=record_key,
                                                payload=payload, occurred_at=at or timezone.now())])
    return events[0] if events else None


def publish_events(*, events: Sequence[DomainEvent]) -> list[Event]:
    """Publish many events in a fixed number of statements, in order; return those stored.

    For bulk changes (a sweep handing over hundreds of leads, a checker batch of breaches):
    one read of the subscriptions, one insert of the events that someone wants, one read of
    the subscribers still busy with earlier events of the same records, one insert of the
    deliveries. Events nobody subscribed to are not stored.
    """
    for event in events:
        if not event.event_type or len(event.event_type) > 64:
            raise ValidationFailed("Give an event type of 1 to 64 characters.", field="event_type")
    if not events:
        return []
    active = list(WebhookSubscription.objects.filter(is_active=True))
    wanted = [(event, [s for s in active if domain.matches(s.event_types, event.event_type)])
              for event in events]
    wanted = [(event, subscribers) for event, subscribers in wanted if subscribers]
    if not wanted:
        return []
    stored = Event.objects.bulk_create([
        Event(event_type=event.event_type, record_key=event.record_key[:100], payload=event.payload,
              occurred_at=event.occurred_at)
        for event, _ in wanted
    ])
    now = timezone.now()
    # A subscriber still waiting on an earlier event for this record gets this one queued when
    # that one finishes (`_queue_next_in_line`), not now: a burst of changes to one record would
    # otherwise queue a task per event that can only find itself blocked. `queued_at` stays empty
    # so the sweep picks it up should the earlier one finish before this transaction commits.
    busy = set(
        Delivery.objects.filter(
            subscription__in={s.pk for _, subscribers in wanted for s in subscribers},
            record_key__in={event.record_key for event in stored},
            status__in=Delivery.UNFINISHED,
        ).values_list("subscription_id", "record_key")
    )
    rows = []
    for event, (_, subscribers) in zip(stored, wanted, strict=True):
        for subscription in subscribers:
            key = (subscription.pk, event.record_key)
            rows.append(Delivery(
                channel=Delivery.Channel.WEBHOOK, event=event, subscription=subscription,
                record_key=event.record_key, created_at=now, next_attempt_at=now,
                queued_at=None if key in busy else now,
            ))
            busy.add(key)  # a later event of the same record in this batch waits for this one
    rows = Delivery.objects.bulk_create(rows)
    _enqueue_on_commit([row for row in rows if row.queued_at is not None])
    return stored


ERASED_TITLE = "About a contact whose personal data was erased"


def redact_record(*, record_key: str, urls: Sequence[str]) -> dict[str, int]:
    """Blank what messages say about one person whose data is erased; return rows changed per table.

    Events whose `record_key` is the person's lead lose the name, email and notes in their
    payload (a delivery not yet sent carries the redacted payload, since it is built at send
    time) and the receivers' replies to them are dropped; notifications linking to one of
    `urls` (the person's pages) lose their title and body. Rows stay: the inbox, the dedupe
    keys and the delivery log keep counting right. Runs in the caller's transaction.
    """
    # No index leads to these rows (Event.record_key, Notification.url): erasures are rare and
    # each scans the two tables once; see docs/privacy.md.
    events = list(Event.objects.filter(record_key=record_key).only("id", "payload"))
    for event in events:
        event.payload = redacted_payload(event.payload)
    Event.objects.bulk_update(events, ["payload"], batch_size=500)
    replies = DeliveryAttempt.objects.filter(delivery__event__record_key=record_key).exclude(
        response_excerpt="").update(response_excerpt="")
    notifications = Notification.objects.filter(url__in=list(urls)).update(title=ERASED_TITLE, body="")
    return {"webhook_events": len(events), "webhook_replies": replies, "notifications": notifications}


def _enqueue_on_commit(deliveries: list[Delivery]) -> None:
    pending = [(d.pk, d.attempts) for d in deliveries if d.status == Delivery.Status.PENDING]
    if pending:
        transaction.on_commit(partial(_enqueue_sends, pending))


def _enqueue_sends(pending: list[tuple[int, int]]) -> None:
    if isinstance(tasks.send_delivery.get_backend(), ImmediateBackend):
        # The immediate backend sends as it enqueues: no transaction may be held across the sends.
        for delivery_id, attempts in pending:
            tasks.send_delivery.enqueue(delivery_id=delivery_id, attempts=attempts)
        return
    # One transaction for the lot: each task row committed alone costs SQLite an fsync, and a
    # sweep handing over hundreds of leads queues a send per delivery. A crash in between loses
    # nothing: the sweep queues again any delivery left unqueued (REQUEUE_AFTER).
    with transaction.atomic():
        for delivery_id, attempts in pending:
            tasks.send_delivery.enqueue(delivery_id=delivery_id, attempts=attempts)


# Sending ------------------------------------------------------------------------------------

def _earlier_unfinished():
    return Delivery.objects.filter(
        subscription_id=OuterRef("subscription_id"), record_key=OuterRef("record_key"),
        status__in=Delivery.UNFINISHED, id__lt=OuterRef("id"),
    ).exclude(record_key="")


def send_delivery(*, delivery_id: int, attempts: int) -> str:
    """Claim one delivery, send it, and record the outcome; return its status afterwards.

    `attempts` is the count the task was queued with: a copy queued before a later attempt
    finds the count moved on and does nothing, so duplicate tasks never send early or twice.
    """
    now = timezone.now()
    # One conditional UPDATE is the claim: of two workers racing, one changes the row.
    # It also refuses while an earlier event for the same record is still on its way.
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, attempts=attempts)
        .exclude(Exists(_earlier_unfinished()))
        .update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now,
                first_attempt_at=Coalesce("first_attempt_at", now))
    )
    if not claimed:
        return "not claimed"
    delivery = Delivery.objects.select_related(
        "notification__recipient", "digest__recipient", "event", "subscription"
    ).get(pk=delivery_id)
    started = time.monotonic()
    try:
        outcome = _send(delivery, at=now)
    except Exception as error:  # a bug or bad data must not leave the row claimed forever
        outcome = transport.Outcome(ok=False, error=f"{type(error).__name__}: {error}"[:500])
    return _record(delivery, outcome, started_at=now,
                   duration_ms=int((time.monotonic() - started) * 1000))


def _send(delivery: Delivery, *, at: datetime) -> transport.Outcome:
    if delivery.channel == Delivery.Channel.WEBHOOK:
        return _send_webhook(delivery, at=at)
    if delivery.channel == Delivery.Channel.SLACK:
        return _send_slack(delivery)
    return _send_email(delivery)


def _send_webhook(delivery: Delivery, *, at: datetime) -> transport.Outcome:
    subscription, event = delivery.subscription, delivery.event
    if not subscription.is_active:
        return transport.Outcome(ok=False, error="The subscription is turned off.", retry=False)
    body = domain.webhook_body(
        event_id=str(event.public_id), event_type=event.event_type,
        occurred_at=event.occurred_at, record_key=event.record_key, payload=event.payload,
    )
    timestamp = int(at.timestamp())
    return transport.post_json(url=subscription.url, body=body, headers={
        "X-Accord-Event": event.event_type,
        "X-Accord-Delivery": str(delivery.pk),
        "X-Accord-Attempt": str(delivery.attempts),
        "X-Accord-Timestamp": str(timestamp),
        "X-Accord-Signature": domain.signature(
            secret=subscription.secret, timestamp=timestamp, body=body,
        ),
    })


def _send_slack(delivery: Delivery) -> transport.Outcome:
    import json

    notification = delivery.notification
    url = slack_url_for(notification.recipient)
    if not url:
        return transport.Outcome(ok=False, error="No Slack webhook is set up any more.", retry=False)
    link = record_link(notification.url)
    # Slack's mrkdwn treats &, < and > as control characters.
    title = notification.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = f"*<{link}|{title}>*" if link else f"*{title}*"
    if notification.body:
        text += "\n" + notification.body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = json.dumps({"text": text, "unfurl_links": False}).encode()
    return transport.post_json(url=url, body=body, headers={})


def _send_email(delivery: Delivery) -> transport.Outcome:
    if delivery.digest_id:
        recipient = delivery.digest.recipient
        items = list(
            Notification.objects.filter(deliveries__gathered_into=delivery.digest_id)
            .order_by("created_at", "id")
        )
        context = {"digest": delivery.digest, "items": [(n, record_link(n.url)) for n in items],
                   "inbox_link": record_link("/inbox/"), "recipient": recipient}
        subject = f"Your Accord digest: {len(items)} update{'s' if len(items) != 1 else ''}"
        template = "notifications/email/digest"
    else:
        notification = delivery.notification
        recipient = notification.recipient
        context = {"notification": notification, "link": record_link(notification.url),
                   "preferences_link": record_link("/settings/notifications/"),
                   "recipient": recipient}
        subject = notification.title
        template = "notifications/email/notification"
    if not recipient.email:
        return transport.Outcome(ok=False, error="The recipient has no email address.", retry=False)
    domain_part = urlsplit(settings.ACCORD_PUBLIC_URL).hostname or "accord.invalid"
    return transport.send_email(
        to=recipient.email, subject=subject,
        text=render_to_string(f"{template}.txt", context),
        html=render_to_string(f"{template}.html", context),
        message_id=f"<delivery-{delivery.pk}@{domain_part}>",
    )


def _record(delivery: Delivery, outcome: transport.Outcome, *, started_at: datetime,
            duration_ms: int) -> str:
    now = timezone.now()
    if outcome.ok:
        status, next_at = Delivery.Status.SENT, None
    else:
        next_at = outcome.retry and domain.next_attempt_at(
            attempts=delivery.attempts, first_attempt_at=delivery.first_attempt_at or started_at,
            now=now,
        )
        status = Delivery.Status.PENDING if next_at else Delivery.Status.DEAD
    with transaction.atomic():
        # First statement after the peer answered: this commit closes the duplicate window.
        # The attempt count must still be ours: a send that outlived the claim lease has been
        # handed to another worker, whose outcome is the one to keep.
        updated = Delivery.objects.filter(
            pk=delivery.pk, status=Delivery.Status.SENDING, attempts=delivery.attempts,
        ).update(
            status=status, finished_at=None if status == Delivery.Status.PENDING else now,
            next_attempt_at=next_at or F("next_attempt_at"), queued_at=None,
            last_status_code=outcome.status_code, last_error=outcome.error,
        )
        if not updated:
            return "claim lost"
        DeliveryAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, started_at=started_at,
            duration_ms=duration_ms, ok=outcome.ok, status_code=outcome.status_code,
            response_excerpt=outcome.response_excerpt[:500], error=outcome.error[:500],
        )
        if status != Delivery.Status.PENDING:
            _queue_next_in_line(delivery)
    return status


def _queue_next_in_line(delivery: Delivery) -> None:
    """Queue the next event for the same record and subscriber, now that this one is done."""
    if not delivery.record_key or delivery.subscription_id is None:
        return
    successor = (
        Delivery.objects.filter(
            subscription_id=delivery.subscription_id, record_key=delivery.record_key,
            status=Delivery.Status.PENDING, id__gt=delivery.pk,
        ).order_by("id").first()
    )
    if successor is not None and successor.next_attempt_at <= timezone.now():
        Delivery.objects.filter(pk=successor.pk).update(queued_at=timezone.now())
        _enqueue_on_commit([successor])


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Take back claims a killed worker left, and queue every delivery that is due and not blocked.

    Safe to run any number of times, from any number of workers: a delivery queued twice is
    claimed once.
    """
    now = now or timezone.now()
    stale = list(
        Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=now - CLAIM_LEASE)
        .values_list("pk", "attempts", "claimed_at")[:SWEEP_BATCH]
    )
    with transaction.atomic():
        for pk, attempts, claimed_at in stale:
            released = Delivery.objects.filter(
                pk=pk, status=Delivery.Status.SENDING, attempts=attempts,
            ).update(status=Delivery.Status.PENDING, next_attempt_at=now, queued_at=None,
                     last_error="The worker stopped while sending; sending again.")
            if released:
                DeliveryAttempt.objects.get_or_create(
                    delivery_id=pk, number=attempts,
                    defaults={"started_at": claimed_at,
                              "error": "The worker stopped before recording an answer."},
                )
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER))
        .exclude(Exists(_earlier_unfinished()))
        .order_by("id")[:SWEEP_BATCH]
    )
    with transaction.atomic():
        Delivery.objects.filter(pk__in=[d.pk for d in due]).update(queued_at=now)
        _enqueue_on_commit(due)
    return {"released": len(stale), "queued": len(due)}


def replay(*, deliveries: list[Delivery], by) -> int:
    """Send dead letters again with a fresh three-day retry window; return how many were queued."""
    ids = [d.pk for d in deliveries if d.status == Delivery.Status.DEAD]
    now = timezone.now()
    with transaction.atomic():
        rows = list(Delivery.objects.select_for_update().filter(pk__in=ids, status=Delivery.Status.DEAD))
        Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
            status=Delivery.Status.PENDING, next_attempt_at=now, first_attempt_at=None,
            finished_at=None, queued_at=now, last_error=f"Replayed by {by.get_username()}",
        )
        for row in rows:
            row.status = Delivery.Status.PENDING
        _enqueue_on_commit(rows)
    return len(rows)


# Digests ------------------------------------------------------------------------------------

def send_digests(now: datetime | None = None) -> dict[str, int]:
    """Gather each person's waiting digest-mode emails into one digest, at most one per day.

    Notifications already read in the app are left out; anything still waiting from earlier
    days (a digest run that did not happen) is included rather than dropped.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    recipients = (
        Delivery.objects.filter(status=Delivery.Status.WAITING, created_at__lte=now)
        .values_list("notification__recipient_id", flat=True).distinct()
    )
    sent = 0
    for recipient_id in list(recipients):
        if _digest_for(recipient_id=recipient_id, day=day, now=now):
            sent += 1
    return {"digests": sent}


@transaction.atomic
def _digest_for(*, recipient_id: int, day, now: datetime) -> bool:
    if Digest.objects.filter(recipient_id=recipient_id, day=day).exists():
        return False
    waiting = Delivery.objects.filter(
        status=Delivery.Status.WAITING, notification__recipient_id=recipient_id, created_at__lte=now,
    )
    waiting.filter(notification__read_at__isnull=False).update(
        status=Delivery.Status.SKIPPED, finished_at=now,
    )
    ids = list(waiting.filter(status=Delivery.Status.WAITING).values_list("pk", flat=True))
    if not ids:
        return False
    try:
        with transaction.atomic():
            digest = Digest.objects.create(recipient_id=recipient_id, day=day, created_at=now)
    except IntegrityError:  # another run made today's digest a moment ago
        return False
    Delivery.objects.filter(pk__in=ids, status=Delivery.Status.WAITING).update(
        status=Delivery.Status.DIGESTED, gathered_into=digest, finished_at=now,
    )
    delivery = Delivery.objects.create(
        channel=Delivery.Channel.EMAIL, digest=digest, created_at=now, next_attempt_at=now,
        queued_at=now,
    )
    _enqueue_on_commit([delivery])
    return True


# Inbox, preferences, Slack and subscriptions ------------------------------------------------

def mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (again is a no-op)."""
    notification = Notification.objects.filter(recipient=user, pk=notification_id).first()
    if notification is None:
        raise NotFound("No such notification in your inbox.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user) -> int:
    """Mark every unread notification in the user's inbox read; return how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def save_preferences(*, user, choices: dict[tuple[str, str], str]) -> None:
    """Store the user's choices, keyed by (kind, channel), checking each against what the channel offers."""
    kinds = set(Notification.Kind.values)
    for (kind, channel), mode in choices.items():
        if kind not in kinds:
            raise ValidationFailed(f"Unknown notification kind {kind!r}.", field=f"{kind}.{channel}")
        try:
            allowed = domain.CHANNEL_MODES[Channel(channel)]
        except ValueError:
            raise ValidationFailed(f"Unknown channel {channel!r}.", field=f"{kind}.{channel}") from None
        if mode not in allowed:
            raise ValidationFailed(
                f"{channel.replace('_', '-')} offers {', '.join(allowed)}, not {mode!r}.",
                field=f"{kind}.{channel}",
            )
    Preference.objects.filter(user=user).delete()
    Preference.objects.bulk_create([
        Preference(user=user, kind=kind, channel=channel, mode=mode)
        for (kind, channel), mode in choices.items()
    ])


def _check_url(url: str, *, field: str, slack: bool = False) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationFailed("Give a full http:// or https:// URL.", field=field)
    if len(url) > 500:
        raise ValidationFailed("Give a URL of at most 500 characters.", field=field)
    if slack and parts.scheme != "https":
        raise ValidationFailed("Slack webhook URLs start with https://.", field=field)
    try:
        transport.resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except transport.RefusedAddress as error:
        raise ValidationFailed(
            f"Accord may not send to this address: {error}.", field=field) from None
    except (OSError, UnicodeError, ValueError):
        # A name that does not resolve yet is accepted: every send resolves it again and
        # refuses it then if it points somewhere private.
        pass
    return url


@transaction.atomic
def set_slack_webhook(*, scope: str, url: str, user=None, team=None) -> SlackWebhook | None:
    """Set (or, with an empty URL, remove) the Slack webhook of a person, a team or the company."""
    owner = {"user": user if scope == SlackWebhook.Scope.PERSON else None,
             "team": team if scope == SlackWebhook.Scope.TEAM else None}
    existing = SlackWebhook.objects.filter(scope=scope, **owner)
    if not (url or "").strip():
        existing.delete()
        return None
    url = _check_url(url, field="url", slack=settings.ACCORD_SLACK_REQUIRE_HTTPS)
    hook, _ = SlackWebhook.objects.update_or_create(
        scope=scope, **owner, defaults={"url": url, "updated_at": timezone.now()},
    )
    return hook


def _clean_event_types(raw: str | list[str]) -> list[str]:
    items = raw if isinstance(raw, list) else raw.replace(",", "\n").splitlines()
    types = sorted({item.strip() for item in items if item.strip()})
    for item in types:
        if not known_filter(item):
            raise ValidationFailed(
                f"{item!r} is not an event type Accord publishes; use one of the listed types or a "
                "family such as lead.*.", field="event_types")
    return types


def create_subscription(*, by, name: str, url: str, event_types: str | list[str] = "") -> WebhookSubscription:
    """Subscribe a URL to events; the signing secret is generated and shown on its page."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("Give a name of 1 to 100 characters.", field="name")
    return WebhookSubscription.objects.create(
        name=name, url=_check_url(url, field="url"), event_types=_clean_event_types(event_types),
        secret="whsec_" + secrets.token_urlsafe(32), created_by=by, created_at=timezone.now(),
    )


def update_subscription(*, subscription: WebhookSubscription, name: str, url: str,
                        event_types: str | list[str], is_active: bool,
                        rotate_secret: bool = False) -> WebhookSubscription:
    """Change a subscription; deliveries already queued go to the new URL with the new secret."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("Give a name of 1 to 100 characters.", field="name")
    subscription.name = name
    subscription.url = _check_url(url, field="url")
    subscription.event_types = _clean_event_types(event_types)
    subscription.is_active = is_active
    if rotate_secret:
        subscription.secret = "whsec_" + secrets.token_urlsafe(32)
    subscription.save(update_fields=["name", "url", "event_types", "is_active", "secret"])
    return subscription
