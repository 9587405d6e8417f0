"""How the two teams talk: comments on any record, and the content library sales can use."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from accord.core.vocabulary import LifecycleStage


class Comment(models.Model):
    """A remark by one person on a contact, account, deal, campaign or feedback thread."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="comments"
    )
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    body = models.TextField()
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    # The client's idempotency key (API header, or the reply form's one-time token): a resubmitted
    # reply finds the comment it already added.
    client_key = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_key"], condition=~models.Q(client_key=""), name="comment_client_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id", "created_at"], name="comment_target"),
        ]

    def __str__(self) -> str:
        return self.body[:60]


class ContentAsset(models.Model):
    """A piece of sales or marketing content: case study, deck, battle card, training material."""

    class Kind(models.TextChoices):
        CASE_STUDY = "case_study", "Case study"
        WHITEPAPER = "whitepaper", "Whitepaper / e-book"
        DECK = "deck", "Sales deck"
        BATTLECARD = "battlecard", "Battle card"
        VIDEO = "video", "Video"
        PLAYBOOK = "playbook", "Playbook / training"
        PRICING = "pricing", "Pricing sheet"
        BLOG = "blog", "Blog post"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.URLField(max_length=1000, blank=True)
    summary = models.TextField(blank=True)
    # The buying stage the asset helps with, so the handoff packet can suggest it.
    stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    campaign = models.ForeignKey(
        "capture.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["kind", "stage"], name="asset_kind_stage")]

    def __str__(self) -> str:
        return self.title
