"""Read-only admin for audit records: no add, change or delete, ever."""

from django.contrib import admin

from accounts.models import AccessEvent

from .models import (
    CriterionOutcome,
    EligibilityDecision,
    PrescreenUpload,
    ScreeningLogExport,
    Signature,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CriterionOutcomeInline(admin.TabularInline):
    model = CriterionOutcome
    fields = ["code", "kind", "outcome", "blocking", "reason", "criterion_history_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EligibilityDecision)
class EligibilityDecisionAdmin(ReadOnlyAdmin):
    list_display = [
        "screening_number",
        "sequence",
        "trial",
        "outcome",
        "recorded_by",
        "recorded_at",
    ]
    list_filter = ["trial", "outcome"]
    search_fields = ["screening_number"]
    list_select_related = ["trial", "recorded_by"]
    inlines = [CriterionOutcomeInline]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["decision", "signer_full_name", "meaning", "signed_at"]
    list_select_related = ["decision"]


@admin.register(ScreeningLogExport)
class ScreeningLogExportAdmin(ReadOnlyAdmin):
    list_display = ["trial", "user", "export_format", "exported_at"]


@admin.register(PrescreenUpload)
class PrescreenUploadAdmin(ReadOnlyAdmin):
    list_display = ["trial", "user", "file_name", "row_count", "uploaded_at"]


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "username", "detail", "actor"]
    list_filter = ["action"]
    search_fields = ["username"]
