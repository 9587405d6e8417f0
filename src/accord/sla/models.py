"""The accord itself: each version of the two-way marketing–sales agreement, kept forever."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SlaVersion(models.Model):
    """One published version of the SLA document; reports name the version that was in force."""

    version = models.PositiveIntegerField(unique=True)
    # The document as written (YAML), and as parsed and validated (JSON) for the clocks.
    source = models.TextField()
    document = models.JSONField()
    effective_from = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        indexes = [models.Index(fields=["effective_from"], name="sla_effective")]

    def __str__(self) -> str:
        return f"SLA v{self.version}"
