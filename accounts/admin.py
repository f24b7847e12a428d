"""Admin of the access log (read-only), trial memberships and users' names."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from accounts.models import AccessEvent, Membership, Profile
from accounts.scope import ADMINISTER, scope_for
from screening.common.admin import ReadOnlyAdmin, TrialScopeFilter
from trials.models import Site, Trial


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "username", "detail", "actor"]
    list_filter = ["action"]
    search_fields = ["username"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Who holds which role in which trial (each change is an access event)."""

    list_display = ["user", "trial", "site", "role"]
    list_filter = [("trial", TrialScopeFilter), "role"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user", "trial", "site"]
    autocomplete_fields = ["user"]

    # Staff granted the membership permissions without being superusers see,
    # add and change memberships of the trials they administer only.
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        if scope.everything:
            return queryset
        return queryset.filter(trial_id__in=sorted(scope.trials(ADMINISTER)))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = scope_for(request.user)
        if not scope.everything and db_field.name == "trial":
            kwargs["queryset"] = Trial.objects.filter(pk__in=scope.trials(ADMINISTER))
        if not scope.everything and db_field.name == "site":
            kwargs["queryset"] = Site.objects.filter(
                trial_id__in=scope.trials(ADMINISTER)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ProfileInline(admin.StackedInline):
    """The Chinese name shown on Chinese pages, edited with the account."""

    model = Profile
    can_delete = False
    fields = ["display_name_zh"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class ProfileUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ProfileInline]
