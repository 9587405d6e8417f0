"""Shared goals: what marketing and sales commit to reach together, per period."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Goal(models.Model):
    """A target for one metric over one period, for the company or one team."""

    class Metric(models.TextChoices):
        REVENUE = "revenue", "Revenue won"
        PIPELINE = "pipeline", "Pipeline created"
        LEADS = "leads", "New leads"
        MQLS = "mqls", "MQLs"
        SQLS = "sqls", "SQLs"
        DEALS_WON = "deals_won", "Deals won"

    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=16, choices=Metric.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    target = models.DecimalField(max_digits=16, decimal_places=2)
    # Null team: a company-wide goal that both marketing and sales share.
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="goals"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "metric"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="goal_period_ordered",
            ),
            models.CheckConstraint(condition=models.Q(target__gt=0), name="goal_target_positive"),
        ]
        indexes = [
            models.Index(fields=["metric", "period_start", "period_end"], name="goal_metric_period")
        ]

    def __str__(self) -> str:
        return self.name
