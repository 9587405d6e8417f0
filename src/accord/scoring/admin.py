"""Scoring in the admin: read-only, since rules are published and models trained through services."""

from django.contrib import admin

from accord.scoring.models import (
    ContactScore,
    EngagementRollup,
    LeadScore,
    PredictiveModelVersion,
    ScoreRun,
    ScoringRuleSet,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScoringRuleSet)
class ScoringRuleSetAdmin(ReadOnlyAdmin):
    list_display = ["version", "is_active", "created_by", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["created_by"]


@admin.register(PredictiveModelVersion)
class PredictiveModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["version", "trained_at", "outcome", "horizon_days", "is_active"]
    list_filter = ["is_active"]
    exclude = ["artifact"]


@admin.register(ContactScore)
class ContactScoreAdmin(ReadOnlyAdmin):
    list_display = ["contact", "total"]
    raw_id_fields = ["contact"]
    list_select_related = ["contact"]
    show_full_result_count = False


@admin.register(ScoreRun)
class ScoreRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "computed_at", "rule_version", "model_version"]
    show_full_result_count = False


@admin.register(LeadScore)
class LeadScoreAdmin(ReadOnlyAdmin):
    list_display = ["contact", "total", "fit", "engagement", "predicted_probability", "computed_at"]
    raw_id_fields = ["contact", "run"]
    list_select_related = ["contact", "run"]
    show_full_result_count = False


@admin.register(EngagementRollup)
class EngagementRollupAdmin(ReadOnlyAdmin):
    list_display = ["part", "valued_at", "built_at", "half_life_days", "touchpoint_watermark", "activity_watermark"]
    exclude = ["data"]
