"""The handoff: stage history, who owns each lead, what sales said of it, and what sales did."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accord.core.vocabulary import LifecycleStage


class StageTransition(models.Model):
    """One move of a contact between lifecycle stages, with who (or which rule) made it and why."""

    contact = models.ForeignKey(
        "capture.Contact", on_delete=models.CASCADE, related_name="stage_transitions"
    )
    from_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=LifecycleStage.choices)
    occurred_at = models.DateTimeField()
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stage_transitions",
    )
    # Name of the rule or process when no person made the move (e.g. "score>=60", "import").
    by_rule = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="transition_contact_time"),
            models.Index(fields=["to_stage", "occurred_at"], name="transition_stage_time"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '∅'} → {self.to_stage}"


class LeadAssignment(models.Model):
    """Who was given a lead, when, and by which rule or person."""

    contact = models.ForeignKey(
        "capture.Contact", on_delete=models.CASCADE, related_name="assignments"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead_assignments"
    )
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments_made",
    )
    rule = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        indexes = [
            models.Index(fields=["contact", "assigned_at"], name="assignment_contact_time"),
            models.Index(fields=["owner", "assigned_at"], name="assignment_owner_time"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} → {self.owner_id}"


class LeadFeedback(models.Model):
    """Sales' verdict on a handed-over lead: the closed loop back to marketing."""

    class Decision(models.TextChoices):
        ACCEPT = "accept", "Accepted"
        REJECT = "reject", "Rejected"

    class Reason(models.TextChoices):
        GOOD_FIT = "good_fit", "Good fit"
        BAD_DATA = "bad_data", "Bad contact data"
        NOT_DECISION_MAKER = "not_decision_maker", "Not a decision maker"
        NO_BUDGET = "no_budget", "No budget"
        NO_NEED = "no_need", "No need"
        COMPETITOR = "competitor", "Competitor"
        STUDENT = "student", "Student or job seeker"
        EXISTING_CUSTOMER = "existing_customer", "Existing customer"
        DUPLICATE = "duplicate", "Duplicate"
        BAD_TIMING = "bad_timing", "Bad timing"
        OTHER = "other", "Other"

    contact = models.ForeignKey(
        "capture.Contact", on_delete=models.CASCADE, related_name="feedback"
    )
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="lead_feedback",
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-created_at"], name="feedback_contact_recent"),
            models.Index(fields=["decision", "reason", "created_at"], name="feedback_reason_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.get_reason_display()}"


class Activity(models.Model):
    """Something a person on the revenue team did with a lead or deal: a call, an email, a meeting."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"

    class Outcome(models.TextChoices):
        NONE = "", "—"
        CONNECTED = "connected", "Connected"
        NO_ANSWER = "no_answer", "No answer"
        LEFT_VOICEMAIL = "voicemail", "Left voicemail"
        REPLIED = "replied", "Replied"
        BOOKED_MEETING = "booked_meeting", "Booked a meeting"

    contact = models.ForeignKey(
        "capture.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    deal = models.ForeignKey(
        "deals.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    # The client's idempotency key (API header, or the form's one-time token): a retried
    # submission finds the activity it already logged instead of logging a second one.
    client_key = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False) | models.Q(deal__isnull=False),
                name="activity_has_subject",
            ),
            models.UniqueConstraint(
                fields=["user", "client_key"],
                condition=~models.Q(client_key=""),
                name="activity_client_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="activity_contact_time"),
            models.Index(fields=["deal", "occurred_at"], name="activity_deal_time"),
            models.Index(fields=["user", "occurred_at"], name="activity_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class RoutingConfig(models.Model):
    """One version of the routing document (MQL threshold and routing rules); at most one is active."""

    version = models.PositiveIntegerField(unique=True)
    source = models.TextField()
    parsed = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routing_configs",
    )
    created_at = models.DateTimeField()
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_routing"
            ),
        ]

    def __str__(self) -> str:
        return f"Routing v{self.version}" + (" (active)" if self.is_active else "")


class RoutingRotation(models.Model):
    """A team's round-robin credits (user id → credit), so turns carry on between batches."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="rotation")
    credits = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Rotation of {self.team_id}"
