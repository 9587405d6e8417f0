from django.contrib import admin

from accord.core.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "status", "progress_done", "progress_total", "created_by", "created_at", "finished_at")
    list_filter = ("status", "kind")
    list_select_related = ("created_by",)
    search_fields = ("title", "kind", "message")
    autocomplete_fields = ("created_by",)
    readonly_fields = ("created_at", "started_at", "finished_at", "progress_done", "progress_total")
    show_full_result_count = False

    def has_add_permission(self, request):
        # Jobs are started by the services that enqueue their work, never by hand.
        return False
