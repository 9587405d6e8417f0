"""Users, the teams they work in, their role, and their personal API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower

from accord.core.permissions import Role


class Team(models.Model):
    """A group of people who share goals, working hours and (for sales) a territory."""

    class Function(models.TextChoices):
        MARKETING = "marketing", "Marketing"
        SALES = "sales", "Sales"
        REVOPS = "revops", "Revenue operations"
        LEADERSHIP = "leadership", "Leadership"

    name = models.CharField(max_length=100, unique=True)
    function = models.CharField(max_length=16, choices=Function.choices)
    manager = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    # Territory a sales team covers; blank means "anywhere".
    region = models.CharField(max_length=8, blank=True)
    segment = models.CharField(max_length=8, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in; the role decides what they may do (accounts.permissions)."""

    email = models.EmailField("email address")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SALES_REP)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    timezone = models.CharField(max_length=64, default="UTC")
    # Routing (lifecycle) skips reps who are away or already hold `capacity` open leads.
    is_away = models.BooleanField(default=False)
    capacity = models.PositiveIntegerField(default=50)

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_ci",
                condition=~models.Q(email=""),
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A personal API token: only its SHA-256 digest is stored, so a leaked database leaks no token."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters, shown in lists so people can tell tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="token_user_recent")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
