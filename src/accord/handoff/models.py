"""The handoff's own bookkeeping: how far the sweep for new leads has read."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SweepCursor(models.Model):
    """The highest contact and touchpoint ids the sweep has safely read past.

    Ids are handed out before commit, so on PostgreSQL a row with a lower id can become
    visible after one with a higher id. The cursor therefore only moves past rows older
    than a lag; newer rows are read again on the next sweep (evaluation is idempotent).
    """

    name = models.CharField(max_length=50, unique=True)
    last_contact_id = models.BigIntegerField(default=0)
    last_touchpoint_id = models.BigIntegerField(default=0)
    swept_at = models.DateTimeField(null=True, blank=True)
    evaluated_total = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: contacts > {self.last_contact_id}, touchpoints > {self.last_touchpoint_id}"


class LeadWait(models.Model):
    """A spell of a lead waiting on the customer ("sent the contract, they review Monday").

    While one is open (`ended_at` empty) the lead's SLA clocks pause if the SLA in force says
    waiting on the customer pauses them. The rows stay as the lead's record of when it waited,
    why, and what ended the wait.
    """

    class EndedBy(models.TextChoices):
        REP = "rep", "Cleared by the rep"
        TOUCHPOINT = "touchpoint", "The customer got in touch"
        ACTIVITY = "activity", "An activity was logged"

    contact = models.ForeignKey("capture.Contact", on_delete=models.CASCADE, related_name="waits")
    note = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    end_reason = models.CharField(max_length=16, choices=EndedBy.choices, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["contact", "-started_at"], name="leadwait_contact")]
        constraints = [
            # At most one open wait per lead; also the index the queue's "waiting" filter reads.
            models.UniqueConstraint(fields=["contact"], condition=models.Q(ended_at__isnull=True),
                                    name="leadwait_one_open"),
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} waiting since {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
