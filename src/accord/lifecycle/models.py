"""The handoff: stage history, who owns each lead, what sales said of it, and what sales did."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accord.core.vocabulary import LifecycleStage


class StageTransition(models.Model):
    """One move of a contact between lifecycle stages, with who (or which rule) made it and why."""

    # Indexed through transition_contact_time, whose first column it is: a contact's history
    # and the cascade on delete both use it, and every index costs each import's inserts.
    contact = models.ForeignKey(
        "capture.Contact", on_delete=models.CASCADE, related_name="stage_transitions", db_index=False
    )
    from_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=LifecycleStage.choices)
    occurred_at = models.DateTimeField()
    # Not indexed: no page, report or filter selects transitions by who made them (they are
    # read by contact or by stage), and every index costs each import's inserts. Deleting a
    # user scans once for the SET NULL.
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stage_transitions",
        db_index=False,
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

    # Both indexed through assignment_contact_time and assignment_owner_time (first columns).
    contact = models.ForeignKey(
        "capture.Contact", on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead_assignments", db_index=False
    )
    assigned_at = models.DateTimeField()
    # Not indexed, like StageTransition.by_user: assignments are read by contact or by owner.
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments_made",
        db_index=False,
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


class RejectionReason(models.Model):
    """One reason sales may give for rejecting a lead, with where the rejected lead goes.

    The taxonomy is edited by revenue ops and the managers of both teams. Feedback stores the
    code, so a reason in use is retired (hidden from new rejections), never deleted: old
    feedback keeps its label and its meaning.
    """

    class Outcome(models.TextChoices):
        NURTURE = "nurture", "Back to nurture"
        DISQUALIFY = "disqualify", "Disqualify"

    code = models.SlugField(max_length=32, unique=True)
    label = models.CharField(max_length=100)
    # Shown to reps under the choice: when this reason applies, and when it does not.
    description = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # "Other"-style reasons say nothing on their own: the rep must write why.
    note_required = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.label


class LeadFeedbackQuerySet(models.QuerySet):
    def labelled(self) -> LeadFeedbackQuerySet:
        """Annotate each row with its reason's label (`reason_label`), retired reasons included, in the same query.

        A queryset method so that apps below lifecycle (capture's contact page) can ask for it
        through the reverse relation without importing the taxonomy.
        """
        label = RejectionReason.objects.filter(code=models.OuterRef("reason")).values("label")[:1]
        return self.annotate(reason_label=models.Subquery(label))


class LeadFeedback(models.Model):
    """Sales' verdict on a handed-over lead: the closed loop back to marketing.

    Besides the verdict, each row keeps the handover it answers (`handed_over_at`, the lead's
    latest move to MQL) and where the lead came from at that moment (campaign, channel,
    source, content), so the lead-quality page filters and counts without joining contacts
    and touchpoints. A later verdict on the same handover (a SAL rejected after all) replaces
    the earlier one in the numbers: only the `is_current` row of a handover counts.
    """

    class Decision(models.TextChoices):
        ACCEPT = "accept", "Accepted"
        REJECT = "reject", "Rejected"

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
    # A RejectionReason code for a rejection, blank for an acceptance. A code, not a foreign
    # key: the taxonomy never deletes a code in use, and history needs no join to be read.
    reason = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    handed_over_at = models.DateTimeField(null=True, blank=True)
    campaign = models.ForeignKey(
        "capture.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    channel = models.CharField(max_length=32, blank=True, default="", db_default="")
    source = models.CharField(max_length=100, blank=True, default="", db_default="")
    content = models.CharField(max_length=100, blank=True, default="", db_default="")
    is_current = models.BooleanField(default=True, db_default=True)

    objects = LeadFeedbackQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision="accept", reason="") | (models.Q(decision="reject") & ~models.Q(reason="")),
                name="feedback_reason_iff_rejected",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "-created_at"], name="feedback_contact_recent"),
            models.Index(fields=["decision", "reason", "created_at"], name="feedback_reason_time"),
            # The lead-quality drill-down: one period of handovers, by one origin.
            models.Index(fields=["handed_over_at"], name="feedback_handover"),
            models.Index(fields=["campaign", "handed_over_at"], name="feedback_campaign_handover"),
            models.Index(fields=["channel", "handed_over_at"], name="feedback_channel_handover"),
            models.Index(fields=["source", "handed_over_at"], name="feedback_source_handover"),
            models.Index(fields=["content", "handed_over_at"], name="feedback_content_handover"),
            models.Index(fields=["by_user", "handed_over_at"], name="feedback_rep_handover"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.get_reason_display() or '—'}"

    def get_reason_display(self) -> str:
        """Return the reason's label: annotated by `labelled()`, else looked up; blank for an acceptance."""
        if not self.reason:
            return ""
        label = getattr(self, "reason_label", None)
        if label is None:
            label = RejectionReason.objects.filter(code=self.reason).values_list("label", flat=True).first()
        return label or self.reason


class FeedbackDaily(models.Model):
    """Handovers and current verdicts per handover day and lead origin: the lead-quality numbers.

    Kept current in the transaction of every handover and verdict (lifecycle.services) and
    rebuilt from the rows by `accord feedback rebuild`. `campaign_id` is a plain number (0:
    none) so the unique key needs no NULL handling on either database.
    """

    class Kind(models.TextChoices):
        HANDED_OVER = "handed_over", "Handed over"
        ACCEPT = "accept", "Accepted"
        REJECT = "reject", "Rejected"

    day = models.DateField()
    campaign_id = models.PositiveBigIntegerField(default=0)
    channel = models.CharField(max_length=32, blank=True)
    source = models.CharField(max_length=100, blank=True)
    content = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.CharField(max_length=32, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "campaign_id", "channel", "source", "content", "kind", "reason"],
                name="feedback_daily_key",
            ),
        ]
        indexes = [models.Index(fields=["campaign_id", "day"], name="feedback_daily_campaign")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.reason}: {self.count}"


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

    # No single-column indexes on the three keys: each is the first column of a composite
    # index below (activity_contact_time, activity_deal_time, activity_user_time), which
    # serves its look-ups and cascades; the three copies only cost every activity written.
    contact = models.ForeignKey(
        "capture.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,
    )
    deal = models.ForeignKey(
        "deals.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,
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
