from django.contrib import admin

from accord.notifications.models import (
    Delivery,
    DeliveryAttempt,
    Digest,
    Event,
    Notification,
    Preference,
    SlackWebhook,
    WebhookSubscription,
)


class _WrittenByServices(admin.ModelAdmin):
    """Read-mostly: these rows are the outbox's record; the services write them."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(_WrittenByServices):
    list_display = ("title", "kind", "recipient", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    list_select_related = ("recipient",)
    search_fields = ("title", "recipient__username", "dedupe_key")
    autocomplete_fields = ("recipient",)


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "channel", "mode")
    list_filter = ("channel", "mode", "kind")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)


@admin.register(SlackWebhook)
class SlackWebhookAdmin(admin.ModelAdmin):
    # The URL is the credential: the list shows only its start.
    list_display = ("scope", "user", "team", "masked_url", "updated_at")
    list_select_related = ("user", "team")
    autocomplete_fields = ("user",)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "is_active", "created_at")
    list_filter = ("is_active",)
    exclude = ("secret",)
    readonly_fields = ("created_by", "created_at")

    def has_add_permission(self, request):
        # The page at /notifications/webhooks/ generates the secret and shows it once.
        return False


@admin.register(Event)
class EventAdmin(_WrittenByServices):
    list_display = ("event_type", "record_key", "occurred_at", "public_id")
    search_fields = ("record_key", "=public_id")


@admin.register(Digest)
class DigestAdmin(_WrittenByServices):
    list_display = ("recipient", "day", "created_at")
    list_select_related = ("recipient",)


@admin.register(Delivery)
class DeliveryAdmin(_WrittenByServices):
    list_display = ("id", "channel", "status", "attempts", "next_attempt_at", "last_status_code")
    list_filter = ("channel", "status")
    raw_id_fields = ("notification", "digest", "gathered_into", "event", "subscription")


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(_WrittenByServices):
    list_display = ("delivery", "number", "started_at", "ok", "status_code", "error")
    list_filter = ("ok",)
    raw_id_fields = ("delivery",)
