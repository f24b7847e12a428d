"""Read-only admin of the monitors' signed reviews and the refused self-signings.

Each list keeps to the trials the admin user is a member of (superusers: every
trial); a refusal names a screening record, so it follows that record's scope.
"""

from django.contrib import admin

from screening.common.admin import (
    MemberTrialsAdmin,
    RecordScopedAdmin,
    TrialScopeFilter,
)
from screening.ledger.models import AuditReview, SignatureRefusal


@admin.register(AuditReview)
class AuditReviewAdmin(MemberTrialsAdmin):
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


@admin.register(SignatureRefusal)
class SignatureRefusalAdmin(RecordScopedAdmin):
    list_display = ["trial", "decision", "user", "refused_at"]
    list_filter = [("trial", TrialScopeFilter)]
    list_select_related = ["trial", "decision", "user"]
