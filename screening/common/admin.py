"""Shared admin: read-only audit admin, and the trial filter of a user's scope."""

from django.contrib import admin

from accounts.scope import VIEW, scope_for


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MemberTrialsAdmin(ReadOnlyAdmin):
    """Read-only rows of the trials the user is a member of (superusers: all)."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        if scope.everything:
            return queryset
        return queryset.filter(trial_id__in=sorted(scope.grants))


class RecordScopedAdmin(ReadOnlyAdmin):
    """Read-only rows that name a screening record: they follow its scope."""

    def get_queryset(self, request):
        from screening.models import EligibilityDecision

        visible = EligibilityDecision.objects.visible_to(scope_for(request.user), VIEW)
        return super().get_queryset(request).filter(decision__in=visible)


class TrialScopeFilter(admin.RelatedFieldListFilter):
    """A trial filter listing only the trials the user is a member of.

    Use as ``list_filter = [("trial", TrialScopeFilter)]`` (or any path ending at
    a trial, e.g. ``("criterion__trial", TrialScopeFilter)``): the plain
    ``"trial"`` filter names every trial, including ones the user may not see.
    Superusers see every trial.
    """

    def has_output(self):
        # A filter without output is not applied: one asked for in the URL (a
        # trial outside the user's, or his only one) must still filter the rows.
        return bool(self.used_parameters) or super().has_output()

    def field_choices(self, field, request, model_admin):
        scope = scope_for(request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        limit = None if scope.everything else {"pk__in": sorted(scope.grants)}
        return field.get_choices(
            include_blank=False, limit_choices_to=limit, ordering=ordering
        )
