"""Admin for capture's tables, kept fast at a million contacts.

Big foreign keys (contacts, accounts) use raw id inputs, not drop-downs or autocomplete
queries over the whole table; changelists skip the unfiltered total count.
"""

from django.contrib import admin

from accord.capture.ingestion import lock_campaigns
from accord.capture.models import (
    Account,
    Campaign,
    CaptureSource,
    Consent,
    Contact,
    ContactMerge,
    CostEntry,
    IdempotencyRecord,
    IdentityLink,
    RateLimitCounter,
    Touchpoint,
)
from accord.capture.services import delete_campaigns
from accord.core.permissions import Action, can


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "industry", "size_band", "segment", "region", "owner", "created_at")
    list_filter = ("segment", "region", "industry", "size_band", "trade_channel", "presence")
    list_select_related = ("owner",)
    search_fields = ("name", "domain", "external_id")
    autocomplete_fields = ("owner",)
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email", "account", "lifecycle_stage", "owner", "lead_source", "score", "created_at")
    list_filter = ("lifecycle_stage", "lead_source", "region", "seniority")
    list_select_related = ("account", "owner", "current_score")
    search_fields = ("email", "first_name", "last_name", "external_id")
    raw_id_fields = ("account", "original_campaign")
    # Stage and owner change only through lifecycle.services, which records the history
    # and starts the SLA clock; score only through scoring.
    readonly_fields = ("lifecycle_stage", "stage_changed_at", "owner", "score", "created_at", "updated_at")
    show_full_result_count = False

    @admin.display(description="score", ordering="current_score__total")
    def score(self, contact: Contact) -> int | None:
        """Show the current score (scoring.ContactScore); empty when never scored."""
        current = getattr(contact, "current_score", None)
        return current.total if current is not None else None


class CostEntryInline(admin.TabularInline):
    model = CostEntry
    extra = 0
    fields = ("date", "amount", "currency", "impressions", "clicks", "source", "note")
    ordering = ("-date",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "kind", "status", "start_date", "end_date", "budget", "owner")
    list_filter = ("channel", "status", "kind", "segment")
    list_select_related = ("owner",)
    search_fields = ("name", "utm_campaign", "utm_source")
    autocomplete_fields = ("owner",)
    inlines = (CostEntryInline,)

    def has_delete_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.EDIT_CAMPAIGNS) and super().has_delete_permission(request, obj)

    # Through the service: it locks the campaigns before their touches are cleared (the
    # touchpoint's campaign has no foreign-key constraint to catch a touch stored meanwhile).
    def delete_model(self, request, obj: Campaign) -> None:
        delete_campaigns(campaign_ids=[obj.pk], by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        delete_campaigns(campaign_ids=list(queryset.values_list("pk", flat=True)), by=request.user)


@admin.register(CostEntry)
class CostEntryAdmin(admin.ModelAdmin):
    list_display = ("campaign", "date", "amount", "currency", "impressions", "clicks", "source")
    list_filter = ("source", "currency", "campaign__channel")
    list_select_related = ("campaign",)
    search_fields = ("campaign__name", "note")
    autocomplete_fields = ("campaign",)
    date_hierarchy = "date"


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ("kind", "channel", "contact", "campaign", "occurred_at", "utm_campaign")
    list_filter = ("channel", "kind")
    list_select_related = ("contact", "campaign")
    search_fields = ("external_id", "anonymous_id", "utm_campaign")
    raw_id_fields = ("contact", "campaign")
    show_full_result_count = False

    def save_model(self, request, obj: Touchpoint, form, change) -> None:
        # The form checked the campaign without a lock; it has no foreign-key constraint, so
        # one deleted since is caught here (the admin saves in a transaction).
        if obj.campaign_id is not None and not lock_campaigns([obj.campaign_id]):
            obj.campaign = None
        super().save_model(request, obj, form, change)


@admin.register(CaptureSource)
class CaptureSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_active", "default_campaign", "rate_limit_per_minute", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    raw_id_fields = ["default_campaign", "created_by"]
    list_select_related = ["default_campaign"]
    # Keys are rotated on the sources page, which records who did it.
    readonly_fields = ["public_key", "created_at"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit and bookkeeping rows: written by services only, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["contact", "source", "granted", "at"]
    list_filter = ["granted"]
    raw_id_fields = ["contact", "source"]
    list_select_related = ["contact", "source"]
    show_full_result_count = False


@admin.register(IdentityLink)
class IdentityLinkAdmin(ReadOnlyAdmin):
    list_display = ["anonymous_id", "contact", "first_seen_at", "linked_at"]
    search_fields = ["anonymous_id"]
    raw_id_fields = ["contact"]
    list_select_related = ["contact"]
    show_full_result_count = False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "user", "status", "created_at"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    show_full_result_count = False


@admin.register(ContactMerge)
class ContactMergeAdmin(ReadOnlyAdmin):
    list_display = ["survivor", "duplicate_id", "duplicate_email", "rule", "by", "at"]
    list_filter = ["rule"]
    raw_id_fields = ["survivor", "by"]
    list_select_related = ["survivor", "by"]


@admin.register(RateLimitCounter)
class RateLimitCounterAdmin(ReadOnlyAdmin):
    list_display = ["bucket", "window_start", "count"]
    show_full_result_count = False
