"""Opportunities: pipelines and their stages, deals, the people in them, and each stage move."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accord.core.models import TimeStampedModel


class Pipeline(models.Model):
    """A sales process with its own ordered stages (e.g. new business, renewals, retail)."""

    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_pipeline",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PipelineStage(models.Model):
    """A step of a pipeline with the win probability a deal in it is forecast at."""

    class Outcome(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField()
    probability = models.DecimalField(max_digits=4, decimal_places=3)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OPEN)

    class Meta:
        ordering = ["pipeline", "order"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "order"], name="stage_order_unique"),
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
            models.CheckConstraint(
                condition=models.Q(probability__gte=0) & models.Q(probability__lte=1),
                name="stage_probability_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline}: {self.name}"


class Deal(TimeStampedModel):
    """A chance to sell: an amount, a close date, a stage, and the campaigns that led to it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class LossReason(models.TextChoices):
        NONE = "", "—"
        PRICE = "price", "Price"
        COMPETITOR = "competitor", "Went with a competitor"
        NO_DECISION = "no_decision", "No decision"
        TIMING = "timing", "Timing"
        FEATURES = "features", "Missing features"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    account = models.ForeignKey(
        "capture.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(PipelineStage, on_delete=models.PROTECT, related_name="deals")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    # Null means "use the stage's probability"; a rep may override it.
    probability = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    won_reason = models.CharField(max_length=200, blank=True)
    loss_reason = models.CharField(max_length=16, choices=LossReason.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_deals",
    )
    source_campaign = models.ForeignKey(
        "capture.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sourced_deals",
    )
    influencing_campaigns = models.ManyToManyField(
        "capture.Campaign", blank=True, related_name="influenced_deals"
    )
    contacts = models.ManyToManyField(
        "capture.Contact", through="DealContact", blank=True, related_name="deals"
    )
    external_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="deal_amount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(probability__isnull=True)
                | (models.Q(probability__gte=0) & models.Q(probability__lte=1)),
                name="deal_probability_0_1",
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                name="deal_external_id_unique",
                condition=~models.Q(external_id=""),
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "close_date"], name="deal_owner_status_close"),
            models.Index(fields=["status", "close_date"], name="deal_status_close"),
            models.Index(fields=["status", "closed_at"], name="deal_status_closed"),
        ]

    def __str__(self) -> str:
        return self.name


class DealContact(models.Model):
    """A person's part in a deal."""

    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", "Decision maker"
        ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
        CHAMPION = "champion", "Champion"
        INFLUENCER = "influencer", "Influencer"
        USER = "user", "User"
        BUYER = "buyer", "Buyer (consumer)"
        OTHER = "other", "Other"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="deal_contacts")
    contact = models.ForeignKey(
        "capture.Contact", on_delete=models.CASCADE, related_name="deal_roles"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OTHER)
    is_primary = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deal", "contact"], name="deal_contact_unique"),
        ]
        indexes = [models.Index(fields=["contact"], name="dealcontact_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id} as {self.role} in {self.deal_id}"


class DealStageChange(models.Model):
    """One move of a deal between stages: the history velocity and forecasts are built on."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        PipelineStage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(PipelineStage, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["deal", "occurred_at"], name="dealchange_deal_time")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"
