"""Messages to people: the in-app inbox, and the record that each one was sent only once."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notif_inbox"),
        ]

    def __str__(self) -> str:
        return self.title
