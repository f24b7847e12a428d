"""Read-only admin for the access log."""

from django.contrib import admin

from accounts.models import AccessEvent
from screening.common.admin import ReadOnlyAdmin


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "username", "detail", "actor"]
    list_filter = ["action"]
    search_fields = ["username"]
