"""Read-only admin of the monitors' signed reviews and the refused self-signings.

Each list keeps to the trials the admin user is a member of (superusers: every
trial); a refusal names a screening record, so it follows that record's scope.
"""

from django.contrib import admin

from accounts.scope import VIEW, scope_for
from screening.common.admin import ReadOnlyAdmin, TrialScopeFilter
from screening.ledger.models import AuditReview, SignatureRefusal
from screening.models import EligibilityDecision


@admin.register(AuditReview)
class AuditReviewAdmin(ReadOnlyAdmin):
    list_display = [
        "trial",
        "period_start",
        "period_end",
        "signer_full_name",
        "signed_at",
        "content_hash",
    ]
    list_filter = [("trial", TrialScopeFilter)]
    list_select_related = ["trial"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        if scope.everything:
            return queryset
        return queryset.filter(trial_id__in=sorted(scope.grants))


@admin.register(SignatureRefusal)
class SignatureRefusalAdmin(ReadOnlyAdmin):
    list_display = ["trial", "decision", "user", "refused_at"]
    list_filter = [("trial", TrialScopeFilter)]
    list_select_related = ["trial", "decision", "user"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(
                decision__in=EligibilityDecision.objects.visible_to(
                    scope_for(request.user), VIEW
                )
            )
        )
