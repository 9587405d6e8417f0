from django.contrib import admin

from accord.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "recipient", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    list_select_related = ("recipient",)
    search_fields = ("title", "recipient__username", "dedupe_key")
    autocomplete_fields = ("recipient",)
    show_full_result_count = False

    def has_add_permission(self, request):
        # Sent by notifications.services, once per dedupe key.
        return False
