"""Read-only admin for the access log."""

from django.contrib import admin

from accounts.models import AccessEvent, Membership
from screening.common.admin import ReadOnlyAdmin


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "username", "detail", "actor"]
    list_filter = ["action"]
    search_fields = ["username"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Who holds which role in which trial (each change is an access event)."""

    list_display = ["user", "trial", "site", "role"]
    list_filter = ["trial", "role"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user", "trial", "site"]
    autocomplete_fields = ["user"]
