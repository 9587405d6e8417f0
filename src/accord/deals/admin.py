from django.contrib import admin

from accord.deals.models import Deal, DealContact, DealStageChange, Pipeline, PipelineStage


class PipelineStageInline(admin.TabularInline):
    model = PipelineStage
    extra = 0
    fields = ("order", "name", "probability", "outcome")
    ordering = ("order",)


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default")
    search_fields = ("name",)
    inlines = (PipelineStageInline,)


@admin.register(PipelineStage)
class PipelineStageAdmin(admin.ModelAdmin):
    list_display = ("name", "pipeline", "order", "probability", "outcome")
    list_filter = ("pipeline", "outcome")
    list_select_related = ("pipeline",)
    search_fields = ("name", "pipeline__name")
    ordering = ("pipeline__name", "order")


class DealContactInline(admin.TabularInline):
    model = DealContact
    extra = 0
    raw_id_fields = ("contact",)
    fields = ("contact", "role", "is_primary")


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "pipeline", "stage", "status", "amount", "currency", "owner", "close_date")
    list_filter = ("status", "pipeline", "stage", "loss_reason")
    list_select_related = ("account", "pipeline", "stage", "owner")
    search_fields = ("name", "account__name", "external_id")
    raw_id_fields = ("account", "source_campaign")
    autocomplete_fields = ("owner", "influencing_campaigns")
    inlines = (DealContactInline,)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Moving a deal goes through deals.services, which records the stage change.
        if obj is not None:
            return ("pipeline", "stage", "status", "closed_at", "created_at", "updated_at")
        return ("created_at", "updated_at")


@admin.register(DealStageChange)
class DealStageChangeAdmin(admin.ModelAdmin):
    list_display = ("deal", "from_stage", "to_stage", "occurred_at", "by_user")
    list_filter = ("to_stage__pipeline", "to_stage")
    list_select_related = ("deal", "from_stage", "to_stage", "by_user")
    search_fields = ("deal__name",)
    raw_id_fields = ("deal",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DealContact)
class DealContactAdmin(admin.ModelAdmin):
    list_display = ("deal", "contact", "role", "is_primary")
    list_filter = ("role", "is_primary")
    list_select_related = ("deal", "contact")
    search_fields = ("deal__name", "contact__email")
    raw_id_fields = ("deal", "contact")
    show_full_result_count = False
