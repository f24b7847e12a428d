"""Read-only admin of the lab inbox, scoped to the user's trials and sites.

A value is seen where its site is (as a decision is); an import where one of its
values is; a review with its value; a decision's lab source with its decision.
The message as received is not shown: it holds every candidate's results.
"""

from django.contrib import admin

from accounts.scope import VIEW, scope_for
from screening.common.admin import ReadOnlyAdmin, TrialScopeFilter
from screening.labs.models import LabImport, LabReview, LabSource, LabValue
from screening.models import EligibilityDecision


def _visible_values(request):
    return LabValue.objects.visible_to(scope_for(request.user), VIEW)


@admin.register(LabImport)
class LabImportAdmin(ReadOnlyAdmin):
    list_display = [
        "trial",
        "file_format",
        "channel",
        "file_name",
        "value_count",
        "imported_by",
        "imported_at",
    ]
    list_filter = [("trial", TrialScopeFilter), "file_format", "channel"]
    list_select_related = ["trial", "imported_by"]
    search_fields = ["sha256", "file_name"]
    exclude = ["content"]

    def get_queryset(self, request):
        visible = _visible_values(request).values("lab_import_id")
        return super().get_queryset(request).filter(pk__in=visible).defer("content")


@admin.register(LabValue)
class LabValueAdmin(ReadOnlyAdmin):
    list_display = [
        "screening_number",
        "input_key",
        "value_text",
        "unit_text",
        "collected_at",
        "trial",
        "site",
        "lab_import",
    ]
    list_filter = [("trial", TrialScopeFilter), "input_key"]
    list_select_related = ["trial", "site", "lab_import"]
    search_fields = ["screening_number"]

    def get_queryset(self, request):
        return super().get_queryset(request) & _visible_values(request)


@admin.register(LabReview)
class LabReviewAdmin(ReadOnlyAdmin):
    list_display = ["value", "verdict", "reason", "reviewed_by", "reviewed_at"]
    list_filter = ["verdict"]
    list_select_related = ["value", "reviewed_by"]
    search_fields = ["value__screening_number"]

    def get_queryset(self, request):
        trial, site = LabReview.SCOPE_FIELDS
        scope = scope_for(request.user).q(VIEW, trial=trial, site=site)
        return super().get_queryset(request).filter(scope)


@admin.register(LabSource)
class LabSourceAdmin(ReadOnlyAdmin):
    list_display = ["decision", "input_key", "source", "value"]
    list_filter = ["source", "input_key"]
    list_select_related = ["decision", "value"]

    def get_queryset(self, request):
        decisions = EligibilityDecision.objects.visible_to(
            scope_for(request.user), VIEW
        ).values("pk")
        return super().get_queryset(request).filter(decision__in=decisions)
