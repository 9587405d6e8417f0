from django.contrib import admin

from accord.sla.models import SlaVersion


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
