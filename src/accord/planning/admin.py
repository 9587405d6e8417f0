from django.contrib import admin

from accord.planning.models import Goal


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ("name", "metric", "period_start", "period_end", "target", "team", "created_by")
    list_filter = ("metric", "team")
    list_select_related = ("team", "created_by")
    search_fields = ("name",)
    autocomplete_fields = ("team",)
    readonly_fields = ("created_by", "created_at")
    date_hierarchy = "period_start"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
