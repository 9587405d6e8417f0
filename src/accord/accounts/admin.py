from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accord.accounts.models import ApiToken, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "get_full_name", "email", "role", "team", "is_active", "is_staff", "last_login")
    list_filter = ("role", "team", "is_active", "is_staff", "is_superuser")
    list_select_related = ("team",)
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("team",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Revenue team", {"fields": ("role", "team", "timezone", "is_away", "capacity")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Revenue team", {"fields": ("email", "first_name", "last_name", "role", "team")}),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "function", "manager", "region", "segment", "timezone")
    list_filter = ("function", "region", "segment")
    list_select_related = ("manager",)
    search_fields = ("name",)
    autocomplete_fields = ("manager",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at", "expires_at")
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username", "user__email")
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at")
    fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at", "expires_at", "revoked_at")

    def has_add_permission(self, request):
        # A token is issued by its owner on the tokens page, the only place its secret is shown.
        return False
