from django.contrib import admin

from accord.sla.models import (
    ComplianceDaily,
    ComplianceMonthly,
    ComplianceWeekly,
    Handover,
    HandoverDaily,
    MergeCursor,
    ScheduleEntry,
    SlaClock,
    SlaVersion,
)


@admin.register(SlaVersion)
class SlaVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "effective_from", "note", "created_by", "created_at")
    list_select_related = ("created_by",)
    search_fields = ("note",)

    # Versions are published through sla.services, which validates the document, and are
    # kept forever because reports name the version that was in force.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner", "tier", "due_at", "warned_at", "breached_at", "met_at", "cancelled_at")
    list_filter = ("kind",)
    list_select_related = ("owner", "contact")
    raw_id_fields = ("contact", "assignment", "owner", "sla_version")
    date_hierarchy = "due_at"

    # Clocks move only through sla.services (the handoff and the checker); the admin looks.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScheduleEntry)
class ScheduleEntryAdmin(admin.ModelAdmin):
    list_display = ("name", "last_enqueued_at")

    def has_add_permission(self, request):
        return False


@admin.register(ComplianceDaily)
class ComplianceDailyAdmin(admin.ModelAdmin):
    """Read only: the SLA services keep it, `accord sla rollup --rebuild` recomputes it."""

    list_display = ("day", "owner", "team", "kind", "sla_version", "met_on_time", "met_late", "breached", "cancelled")
    list_select_related = ("owner", "team", "sla_version")
    list_filter = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ComplianceWeekly, ComplianceMonthly)
class ComplianceSpanAdmin(ComplianceDailyAdmin):
    """Read only: the daily rows summed per week or month, kept beside them."""

    list_display = ("start", *ComplianceDailyAdmin.list_display[1:])


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin):
    list_display = ("contact", "at", "sla_version", "owner", "complete", "missing_fields")
    list_select_related = ("contact", "sla_version", "owner")
    raw_id_fields = ("contact", "owner", "team")

    def has_add_permission(self, request):
        return False


@admin.register(HandoverDaily)
class HandoverDailyAdmin(admin.ModelAdmin):
    """Read only: sla.handover_rollup keeps it with each handover and verdict, `accord sla rollup --rebuild` recomputes it."""

    list_display = ("day", "handed_over", "complete", "accepted", "rejected")
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MergeCursor)
class MergeCursorAdmin(admin.ModelAdmin):
    """Read only: the hourly reconcile of the handover rollup moves it past the merges it recounted."""

    list_display = ("name", "last_merge_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
