"""Pages: the inbox, notification settings, Slack and webhook set-up, the delivery log."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accord.core.errors import NotFound, ValidationFailed
from accord.core.permissions import Action, can
from accord.notifications import events, selectors, services
from accord.notifications.domain import CHANNEL_MODES, Channel, Mode
from accord.notifications.models import Delivery, Notification, SlackWebhook

PAGE_SIZE = 25
LOG_PAGE_SIZE = 50
MODE_LABELS = {Mode.IMMEDIATE: "At once", Mode.DIGEST: "Daily digest", Mode.OFF: "Off"}
CHANNEL_LABELS = {Channel.IN_APP: "Inbox", Channel.EMAIL: "Email", Channel.SLACK: "Slack"}


def _require(request, action: Action) -> None:
    if not can(request.user, action):
        raise PermissionDenied


def _not_found(error: NotFound):
    return Http404(error.message)


# Inbox --------------------------------------------------------------------------------------

@login_required
def inbox(request):
    unread_only = request.GET.get("show") == "unread"
    notifications = selectors.inbox(user=request.user, unread_only=unread_only)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {
        "page_obj": page, "unread_only": unread_only,
        "unread": selectors.unread_count(user=request.user),
    })


@login_required
@require_GET
@never_cache
def unread_badge(request):
    return render(request, "notifications/_badge.html",
                  {"unread": selectors.unread_count(user=request.user)})


@login_required
@require_POST
def mark_read(request, notification_id: int):
    try:
        notification = services.mark_read(user=request.user, notification_id=notification_id)
    except NotFound as error:
        raise _not_found(error) from None
    # "Open" marks read and follows the link; only links inside Accord are followed.
    if request.POST.get("open") and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(notification.url or "inbox")
    return redirect(_back_to_inbox(request))


@login_required
@require_POST
def mark_all_read(request):
    count = services.mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect(_back_to_inbox(request))


def _back_to_inbox(request) -> str:
    return _next_within(request, "/inbox/")


def _next_within(request, prefix: str) -> str:
    """Return the posted `next` page when it is under `prefix` on this site, else `prefix`."""
    target = request.POST.get("next", "")
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return prefix


# Preferences --------------------------------------------------------------------------------

@login_required
def preferences(request):
    modes = selectors.modes_for(request.user)
    errors: dict[str, str] = {}
    slack_value = getattr(selectors.own_slack_webhook(user=request.user), "url", "")
    status = 200
    if request.method == "POST":
        choices = {
            (kind, channel.value): request.POST.get(f"{kind}.{channel.value}", "")
            for kind in Notification.Kind.values for channel in Channel
        }
        slack_value = request.POST.get("slack_url", "").strip()
        try:
            services.save_preferences(user=request.user, choices=choices)
            services.set_slack_webhook(scope=SlackWebhook.Scope.PERSON, user=request.user,
                                       url=slack_value)
        except ValidationFailed as error:
            errors[error.field or ""] = error.message
            status = 422
            modes = {(k, Channel(c)): Mode(m) if m in Mode._value2member_map_ else modes[(k, Channel(c))]
                     for (k, c), m in choices.items()}
        else:
            messages.success(request, "Saved your notification settings.")
            return redirect("notification-preferences")
    rows = [
        {
            "kind": kind, "label": label,
            "cells": [
                {"name": f"{kind}.{channel.value}", "channel": CHANNEL_LABELS[channel],
                 "value": modes[(kind, channel)].value,
                 "options": [(mode.value, MODE_LABELS[mode]) for mode in CHANNEL_MODES[channel]],
                 "error": errors.get(f"{kind}.{channel.value}", "")}
                for channel in Channel
            ],
        }
        for kind, label in Notification.Kind.choices
    ]
    return render(request, "notifications/preferences.html", {
        "rows": rows, "channels": [CHANNEL_LABELS[c] for c in Channel],
        "slack_value": slack_value, "slack_error": errors.get("url", ""),
        "slack_fallback": "" if slack_value else selectors.slack_url_for(request.user),
    }, status=status)


# Slack set-up (company and teams) -----------------------------------------------------------

@login_required
def slack_settings(request):
    _require(request, Action.USE_ADMIN)
    teams = selectors.teams_for_slack(user=request.user)
    error, status = None, 200
    if request.method == "POST":
        team = None
        if request.POST.get("team"):
            team = next((t for t in teams if str(t.pk) == request.POST["team"]), None)
            if team is None:
                raise Http404("No such team.")
        try:
            services.set_slack_webhook(
                scope=SlackWebhook.Scope.TEAM if team else SlackWebhook.Scope.COMPANY,
                team=team, url=request.POST.get("url", ""),
            )
        except ValidationFailed as failure:
            error, status = failure.message, 422
        else:
            messages.success(request, f"Saved the Slack webhook for {team.name if team else 'the company'}.")
            return redirect("notification-slack")
    hooks = selectors.shared_slack_webhooks(user=request.user)
    company = next((h for h in hooks if h.scope == SlackWebhook.Scope.COMPANY), None)
    by_team = {h.team_id: h for h in hooks if h.team_id}
    return render(request, "notifications/slack.html", {
        "company": company, "teams": [(team, by_team.get(team.pk)) for team in teams],
        "error": error,
    }, status=status)


# Webhook subscriptions ----------------------------------------------------------------------

class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.CharField(label="URL", max_length=500,
                          widget=forms.TextInput(attrs={"placeholder": "https://example.com/accord-events"}))
    event_types = forms.MultipleChoiceField(
        label="Events", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(family, f"{family} (every {family[:-2]} event)") for family in events.FAMILIES]
        + [(name, f"{name}: {meaning}") for name, meaning in events.CATALOGUE.items()],
        help_text="Tick none to receive every event. A family (lead.*) also takes types added later.",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)


def _apply_service_error(form: forms.Form, error: ValidationFailed) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@login_required
def webhook_list(request):
    _require(request, Action.USE_ADMIN)
    form = SubscriptionForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            subscription = services.create_subscription(
                by=request.user, name=form.cleaned_data["name"], url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
            )
        except ValidationFailed as error:
            _apply_service_error(form, error)
        else:
            messages.success(request, f"Created the webhook “{subscription.name}”. Its signing secret is below.")
            return redirect("notification-webhook", subscription_id=subscription.pk)
    if request.method == "POST":
        status = 422
    return render(request, "notifications/webhooks.html", {
        "subscriptions": list(selectors.subscriptions(user=request.user)), "form": form,
    }, status=status)


@login_required
def webhook_detail(request, subscription_id: int):
    _require(request, Action.USE_ADMIN)
    try:
        subscription = selectors.subscription_for(user=request.user, subscription_id=subscription_id)
    except NotFound as error:
        raise _not_found(error) from None
    initial = {"name": subscription.name, "url": subscription.url, "is_active": subscription.is_active,
               "event_types": subscription.event_types}
    form = SubscriptionForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.update_subscription(
                subscription=subscription, name=form.cleaned_data["name"],
                url=form.cleaned_data["url"], event_types=form.cleaned_data["event_types"],
                is_active=form.cleaned_data["is_active"],
                rotate_secret=request.POST.get("rotate_secret") == "1",
            )
        except ValidationFailed as error:
            _apply_service_error(form, error)
        else:
            messages.success(request, "Saved the webhook.")
            return redirect("notification-webhook", subscription_id=subscription.pk)
    if request.method == "POST":
        status = 422
    recent = list(selectors.deliveries(user=request.user, subscription_id=subscription.pk)[:20])
    return render(request, "notifications/webhook_detail.html", {
        "subscription": subscription, "form": form, "recent": recent,
    }, status=status)


# Delivery log and dead letters --------------------------------------------------------------

class DeliveryFilter(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *Delivery.Status.choices])
    channel = forms.ChoiceField(required=False, choices=[("", "Any"), *Delivery.Channel.choices])


@login_required
def delivery_log(request):
    _require(request, Action.USE_ADMIN)
    form = DeliveryFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.deliveries(user=request.user, status=filters.get("status", ""),
                                channel=filters.get("channel", ""))
    page = Paginator(rows, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "notifications/_delivery_rows.html" if request.headers.get("HX-Request") else "notifications/deliveries.html"
    return render(request, template, {"page_obj": page, "form": form, "dead_letters": False})


@login_required
def dead_letters(request):
    _require(request, Action.USE_ADMIN)
    rows = selectors.deliveries(user=request.user, status=Delivery.Status.DEAD)
    page = Paginator(rows, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/dead_letters.html", {"page_obj": page, "dead_letters": True})


@login_required
def delivery_detail(request, delivery_id: int):
    _require(request, Action.USE_ADMIN)
    try:
        delivery = selectors.delivery_for(user=request.user, delivery_id=delivery_id)
    except NotFound as error:
        raise _not_found(error) from None
    return render(request, "notifications/delivery_detail.html", {
        "delivery": delivery, "attempts": list(delivery.attempt_log.order_by("-number")[:50]),
    })


@login_required
@require_POST
def replay(request):
    _require(request, Action.USE_ADMIN)
    ids = [int(value) for value in request.POST.getlist("delivery") if value.isdigit()]
    if not ids:
        messages.error(request, "Choose at least one dead letter to replay.")
        return redirect("notification-dead-letters")
    chosen = list(selectors.deliveries(user=request.user, status=Delivery.Status.DEAD).filter(pk__in=ids[:500]))
    count = services.replay(deliveries=chosen, by=request.user)
    messages.success(request, f"Queued {count} deliver{'ies' if count != 1 else 'y'} to be sent again.")
    target = _next_within(request, "/notifications/")
    return redirect(target if target != "/notifications/" else "notification-dead-letters")
