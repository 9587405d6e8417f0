"""Admin for the handoff history: readable by admins, written only by lifecycle.services."""

from django.contrib import admin

from accord.lifecycle.models import (
    Activity,
    FeedbackDaily,
    LeadAssignment,
    LeadFeedback,
    RejectionReason,
    RoutingConfig,
    RoutingRotation,
    StageTransition,
)


class HistoryAdmin(admin.ModelAdmin):
    """Show a history table without letting anyone rewrite it."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StageTransition)
class StageTransitionAdmin(HistoryAdmin):
    list_display = ("contact", "from_stage", "to_stage", "occurred_at", "by_user", "by_rule")
    list_filter = ("to_stage", "from_stage")
    list_select_related = ("contact", "by_user")
    search_fields = ("contact__email", "by_rule", "reason")
    raw_id_fields = ("contact",)


@admin.register(LeadAssignment)
class LeadAssignmentAdmin(HistoryAdmin):
    list_display = ("contact", "owner", "assigned_at", "assigned_by", "rule")
    list_filter = ("rule",)
    list_select_related = ("contact", "owner", "assigned_by")
    search_fields = ("contact__email", "owner__username", "rule")
    raw_id_fields = ("contact",)


@admin.register(LeadFeedback)
class LeadFeedbackAdmin(HistoryAdmin):
    list_display = ("contact", "decision", "reason", "by_user", "created_at", "handed_over_at", "campaign",
                    "is_current")
    list_filter = ("decision", "reason", "is_current")
    list_select_related = ("contact", "by_user", "campaign")
    search_fields = ("contact__email", "note")
    raw_id_fields = ("contact",)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("kind", "subject", "contact", "deal", "user", "outcome", "occurred_at")
    list_filter = ("kind", "outcome")
    list_select_related = ("contact", "deal", "user")
    search_fields = ("subject", "contact__email", "deal__name")
    raw_id_fields = ("contact", "deal")
    autocomplete_fields = ("user",)
    show_full_result_count = False


@admin.register(RoutingConfig)
class RoutingConfigAdmin(HistoryAdmin):
    """Routing versions are published on the Routing page or with `accord routing apply`."""

    list_display = ("version", "is_active", "created_by", "created_at")
    list_select_related = ("created_by",)


@admin.register(RoutingRotation)
class RoutingRotationAdmin(HistoryAdmin):
    """Round-robin credits per team: the routing's state, changed only by routing."""

    list_display = ("team", "updated_at")
    list_select_related = ("team",)


@admin.register(RejectionReason)
class RejectionReasonAdmin(HistoryAdmin):
    """The taxonomy is edited on Settings → Rejection reasons, where retiring and ordering are kept right."""

    list_display = ("label", "code", "outcome", "note_required", "is_active", "order")
    list_filter = ("outcome", "is_active")


@admin.register(FeedbackDaily)
class FeedbackDailyAdmin(HistoryAdmin):
    """The lead-quality rollup, written by lifecycle.services and `accord feedback rebuild`."""

    list_display = ("day", "campaign_id", "channel", "source", "content", "kind", "reason", "count")
    list_filter = ("kind",)
