"""Admin for the handoff's bookkeeping: readable, changed only by the sweep."""

from django.contrib import admin

from accord.handoff.models import SweepCursor


@admin.register(SweepCursor)
class SweepCursorAdmin(admin.ModelAdmin):
    list_display = ("name", "last_contact_id", "last_touchpoint_id", "swept_at", "evaluated_total")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
