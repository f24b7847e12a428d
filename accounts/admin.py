"""Admin of the access log (read-only), trial memberships and users' names."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from accounts.models import AccessEvent, Membership, Profile
from accounts.scope import scope_for
from accounts.selectors import access_events_visible
from screening.common.admin import ReadOnlyAdmin, TrialScopeFilter
from trials.admin import TrialScopedAdmin


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    """The events the access-log page shows the same reader (``selectors``)."""

    list_display = ["at", "action", "username", "detail", "actor"]
    list_filter = ["action"]
    search_fields = ["username"]

    def get_queryset(self, request):
        return access_events_visible(scope_for(request.user))


@admin.register(Membership)
class MembershipAdmin(TrialScopedAdmin):
    """Who holds which role in which trial (each change is an access event).

    Staff granted the membership permissions without being superusers see, add
    and change memberships of the trials they administer only.
    """

    list_display = ["user", "trial", "site", "role"]
    list_filter = [("trial", TrialScopeFilter), "role"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user", "trial", "site"]
    autocomplete_fields = ["user"]


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
