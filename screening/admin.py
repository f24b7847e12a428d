"""Read-only admin for the screening records."""

from django.contrib import admin
from django_tasks_db.models import DBTaskResult

from accounts.scope import VIEW, scope_for
from screening.common.admin import (
    MemberTrialsAdmin,
    ReadOnlyAdmin,
    RecordScopedAdmin,
    TrialScopeFilter,
)
from screening.models import (
    CriterionOutcome,
    EligibilityDecision,
    PrescreenUpload,
    ScreeningLogExport,
    Signature,
)


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
    def get_queryset(self, request):
        return super().get_queryset(request) & EligibilityDecision.objects.visible_to(
            scope_for(request.user), VIEW
        )

    list_display = [
        "screening_number",
        "sequence",
        "trial",
        "outcome",
        "recorded_by",
        "recorded_at",
    ]
    list_filter = [("trial", TrialScopeFilter), "outcome"]
    search_fields = ["screening_number"]
    list_select_related = ["trial", "recorded_by"]
    inlines = [CriterionOutcomeInline]


@admin.register(Signature)
class SignatureAdmin(RecordScopedAdmin):
    list_display = ["decision", "signer_full_name", "meaning", "signed_at"]
    list_select_related = ["decision"]


@admin.register(ScreeningLogExport)
class ScreeningLogExportAdmin(MemberTrialsAdmin):
    """Who exported which trial's log."""

    list_display = ["trial", "user", "export_format", "exported_at"]
    list_filter = [("trial", TrialScopeFilter)]
    list_select_related = ["trial", "user"]


@admin.register(PrescreenUpload)
class PrescreenUploadAdmin(ReadOnlyAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request) & PrescreenUpload.objects.visible_to(
            scope_for(request.user), VIEW
        )

    list_display = ["trial", "user", "file_name", "row_count", "uploaded_at"]


# The queue's own rows name a job by id only; people follow jobs on their pages.
admin.site.unregister(DBTaskResult)
