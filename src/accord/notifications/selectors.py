"""Reads for notifications, each scoped to the person asking."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accord.accounts.models import Team
from accord.core.errors import NotFound
from accord.core.permissions import Action, require
from accord.notifications.domain import Channel, Mode, default_mode
from accord.notifications.models import (
    Delivery,
    Notification,
    Preference,
    SlackWebhook,
    WebhookSubscription,
)


def unread_count(*, user) -> int:
    """Count the user's unread inbox notifications (one query on a partial index)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True, in_inbox=True).count()


def inbox(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient=user, in_inbox=True)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def modes_for(user) -> dict[tuple[str, Channel], Mode]:
    """Return the mode of every (kind, channel) for the user: their choice, else their role's default."""
    modes = {
        (kind, channel): default_mode(role=user.role, kind=kind, channel=channel)
        for kind in Notification.Kind.values for channel in Channel
    }
    for kind, channel, mode in Preference.objects.filter(user=user).values_list("kind", "channel", "mode"):
        if kind in Notification.Kind.values:
            modes[(kind, Channel(channel))] = Mode(mode)
    return modes


def slack_url_for(user) -> str:
    """Return the Slack webhook that reaches the user: their own, else their team's, else the company's."""
    scope = Q(scope=SlackWebhook.Scope.COMPANY) | Q(user=user)
    if user.team_id:
        scope |= Q(team_id=user.team_id)
    urls = dict(SlackWebhook.objects.filter(scope).values_list("scope", "url"))
    for level in (SlackWebhook.Scope.PERSON, SlackWebhook.Scope.TEAM, SlackWebhook.Scope.COMPANY):
        if level in urls:
            return urls[level]
    return ""


def own_slack_webhook(*, user) -> SlackWebhook | None:
    return SlackWebhook.objects.filter(scope=SlackWebhook.Scope.PERSON, user=user).first()


def shared_slack_webhooks(*, user) -> list[SlackWebhook]:
    """Return the company's and the teams' Slack webhooks (integration admins only)."""
    require(user, Action.USE_ADMIN)
    return list(
        SlackWebhook.objects.exclude(scope=SlackWebhook.Scope.PERSON)
        .select_related("team").order_by("scope", "team__name")
    )


def teams_for_slack(*, user) -> list[Team]:
    """Return every team, for giving each its own Slack channel (integration admins only)."""
    require(user, Action.USE_ADMIN)
    return list(Team.objects.order_by("name"))


def subscriptions(*, user) -> QuerySet[WebhookSubscription]:
    require(user, Action.USE_ADMIN)
    return WebhookSubscription.objects.order_by("name", "id")


def subscription_for(*, user, subscription_id: int) -> WebhookSubscription:
    require(user, Action.USE_ADMIN)
    subscription = WebhookSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound("No such webhook subscription.")
    return subscription


def deliveries(*, user, status: str = "", channel: str = "",
               subscription_id: int | None = None) -> QuerySet[Delivery]:
    """Return the delivery log, newest first (integration admins only: it names every recipient)."""
    require(user, Action.USE_ADMIN)
    rows = Delivery.objects.select_related(
        "notification__recipient", "digest__recipient", "event", "subscription"
    ).order_by("-id")
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    if subscription_id:
        rows = rows.filter(subscription_id=subscription_id)
    return rows


def delivery_for(*, user, delivery_id: int) -> Delivery:
    delivery = deliveries(user=user).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery
