"""The handoff's own bookkeeping: how far the sweep for new leads has read."""

from __future__ import annotations

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
