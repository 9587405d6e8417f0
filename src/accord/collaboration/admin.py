from django.contrib import admin

from accord.collaboration.models import Comment, ContentAsset


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("__str__", "author", "target_type", "target_id", "created_at", "edited_at")
    list_filter = ("target_type",)
    list_select_related = ("author", "target_type")
    search_fields = ("body", "author__username")
    autocomplete_fields = ("author",)
    show_full_result_count = False


@admin.register(ContentAsset)
class ContentAssetAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "stage", "campaign", "owner", "created_at")
    list_filter = ("kind", "stage")
    list_select_related = ("campaign", "owner")
    search_fields = ("title", "summary")
    autocomplete_fields = ("campaign", "owner")
