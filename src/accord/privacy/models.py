"""Data-subject requests answered: the record that a person's data was erased, and by whom.

The erased values themselves are never stored here: this row is the proof that the request
was honoured, and it must not become a copy of what was removed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Erasure(models.Model):
    """One contact anonymised in place at a data subject's request (docs/privacy.md)."""

    # One per contact: a second erasure is refused, and this constraint settles a race.
    contact = models.OneToOneField("capture.Contact", on_delete=models.CASCADE, related_name="erasure")
    erased_at = models.DateTimeField()
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="erasures_made"
    )
    # The ticket or request reference the admin typed: what the request was, never what was erased.
    reason = models.CharField(max_length=500, blank=True)
    # Rows changed per table ("touchpoints": 120), so an auditor sees the erasure's reach.
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-erased_at", "-id"]
        indexes = [models.Index(fields=["erased_at"], name="erasure_time")]

    def __str__(self) -> str:
        return f"Erasure of contact {self.contact_id} at {self.erased_at:%Y-%m-%d %H:%M}"
