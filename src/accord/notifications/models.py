"""Messages to people and systems: the inbox, email, Slack and signed webhooks, each sent once.

Every outgoing message is a `Delivery` row written in the same transaction as the change that
caused it (a transactional outbox); a worker claims it, sends it and records the outcome.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from accord.notifications.domain import Channel, Mode


class Notification(models.Model):
    """Something one person should know, with a link to the record it is about."""

    class Kind(models.TextChoices):
        LEAD_ASSIGNED = "lead_assigned", "Lead assigned"
        LEAD_REJECTED = "lead_rejected", "Lead rejected"
        SLA_WARNING = "sla_warning", "SLA warning"
        SLA_BREACH = "sla_breach", "SLA breach"
        DEAL_WON = "deal_won", "Deal won"
        COMMENT = "comment", "Comment"
        MENTION = "mention", "Mention"
        JOB_FINISHED = "job_finished", "Job finished"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    # Same key, same notification: a restarted worker or a retried request cannot send it twice.
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # False when the recipient turned the inbox off for this kind: the row still exists, as the
    # dedupe record and the source of the email, Slack message or digest line.
    in_inbox = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notif_inbox"),
            # The unread badge on every page counts this, and only this, small slice.
            models.Index(
                fields=["recipient"], name="notif_unread",
                condition=Q(read_at__isnull=True, in_inbox=True),
            ),
            # A person's export and erasure find the notifications about them by the page they link to.
            models.Index(fields=["url"], name="notif_url"),
        ]

    def __str__(self) -> str:
        return self.title


class Preference(models.Model):
    """One person's choice for one kind on one channel; absent rows mean the role's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=Notification.Kind.choices)
    channel = models.CharField(max_length=16, choices=[(c.value, c.value) for c in Channel])
    mode = models.CharField(max_length=16, choices=[(m.value, m.value) for m in Mode])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="notif_pref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.channel}={self.mode}"


class SlackWebhook(models.Model):
    """A Slack incoming-webhook URL for one person, one team, or the whole company."""

    class Scope(models.TextChoices):
        PERSON = "person", "Person"
        TEAM = "team", "Team"
        COMPANY = "company", "Company"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="slack_webhook",
    )
    team = models.OneToOneField(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE,
        related_name="slack_webhook",
    )
    # The URL is the credential (Slack puts the token in the path): shown masked, never logged.
    url = models.URLField(max_length=500)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="person", user__isnull=False, team__isnull=True)
                    | Q(scope="team", user__isnull=True, team__isnull=False)
                    | Q(scope="company", user__isnull=True, team__isnull=True)
                ),
                name="slack_scope_matches_owner",
            ),
            models.UniqueConstraint(
                fields=["scope"], condition=Q(scope="company"), name="slack_one_company_hook",
            ),
        ]

    def __str__(self) -> str:
        return f"Slack webhook ({self.scope})"

    @property
    def masked_url(self) -> str:
        return self.url[:34] + "…" if len(self.url) > 34 else self.url


class WebhookSubscription(models.Model):
    """An outside system that receives signed events of the types it asked for."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    # Event types ("deal.won") or families ("deal.*"); empty means every event.
    event_types = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["is_active"], name="webhook_sub_active")]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """Something that happened to a record, published to webhook subscribers."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=64)
    # "<kind>:<id>", e.g. "deal:42": events for one record reach each subscriber in order.
    record_key = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        # A person's export and erasure find the events about their record by it.
        indexes = [models.Index(fields=["record_key"], name="event_record")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.record_key}"


class Digest(models.Model):
    """The one daily email that gathers a person's digest-mode notifications."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_digests"
    )
    day = models.DateField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "day"], name="digest_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"Digest {self.day} for {self.recipient_id}"


class Delivery(models.Model):
    """One message to one peer (an SMTP server, Slack, a webhook receiver), and its progress.

    PENDING → SENDING (claimed by one worker) → SENT, or back to PENDING with a later
    `next_attempt_at` after a failure, or DEAD once the retry window is over. WAITING rows wait
    for the daily digest, then become DIGESTED (or SKIPPED when read in the app first).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead letter"
        WAITING = "waiting", "Waiting for digest"
        DIGESTED = "digested", "In a digest"
        SKIPPED = "skipped", "Skipped"

    UNFINISHED = (Status.PENDING, Status.SENDING)

    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    digest = models.ForeignKey(
        Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The digest a WAITING email delivery was gathered into.
    gathered_into = models.ForeignKey(
        Digest, null=True, blank=True, on_delete=models.SET_NULL, related_name="gathered"
    )
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        WebhookSubscription, null=True, blank=True, on_delete=models.CASCADE,
        related_name="deliveries",
    )
    # Copied from the event so the ordering check is one indexed lookup.
    record_key = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the sweep last put a task on the queue for it, so a backlog is not queued twice.
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], condition=Q(notification__isnull=False),
                name="delivery_once_per_channel",
            ),
            models.UniqueConstraint(
                fields=["event", "subscription"], condition=Q(event__isnull=False),
                name="delivery_once_per_subscriber",
            ),
            models.UniqueConstraint(
                fields=["digest"], condition=Q(digest__isnull=False), name="delivery_once_per_digest",
            ),
        ]
        indexes = [
            # The sweep: due work, and claims a killed worker left behind.
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            # Per-record ordering: is an earlier event for this record still on its way?
            models.Index(fields=["subscription", "record_key", "status", "id"], name="delivery_order"),
            models.Index(fields=["notification"], name="delivery_notification"),
            models.Index(fields=["channel", "status", "-id"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} delivery {self.pk} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: what the peer answered, for the delivery log."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_once"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery_id}"
