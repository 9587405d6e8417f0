from django.contrib import admin

from accord.sla.models import ScheduleEntry, SlaClock, SlaVersion


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
