"""Admin for trials and criteria: every save asks why, and history keeps it."""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.scope import ADMINISTER, scope_for
from screening.common.admin import ReadOnlyAdmin, TrialScopeFilter

from .models import (
    Condition,
    CriteriaVersion,
    Criterion,
    ImpactReport,
    Site,
    Trial,
    VersionActivation,
)
from .services import version_draft_create

DRAFT_LABEL = _("Draft amendment")


def _draft_of(obj) -> bool:
    """Whether ``obj`` (a version, criterion or condition) is still a draft."""
    if obj is None:
        return True
    if isinstance(obj, Condition):
        obj = obj.criterion
    if isinstance(obj, Criterion):
        obj = obj.version
    if isinstance(obj, Trial):
        return True
    return obj.is_draft and not hasattr(obj, "activation")


class DraftOnly:
    """Only a draft version, and its criteria and conditions, can be changed."""

    def has_change_permission(self, request, obj=None):
        return _draft_of(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        if not _draft_of(obj):
            return False
        if isinstance(self, InlineModelAdmin):
            return super().has_add_permission(request, obj)
        return super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return _draft_of(obj) and super().has_delete_permission(request, obj)


class TrialScopedAdmin(admin.ModelAdmin):
    """Trial admins see and edit only the trials they administer."""

    trial_path = "trial_id"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        if scope.everything:
            return queryset
        return queryset.filter(**{f"{self.trial_path}__in": scope.trials(ADMINISTER)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = scope_for(request.user)
        if db_field.name == "trial" and not scope.everything:
            kwargs["queryset"] = Trial.objects.filter(pk__in=scope.trials(ADMINISTER))
        if db_field.name == "site" and not scope.everything:
            kwargs["queryset"] = Site.objects.filter(
                trial_id__in=scope.trials(ADMINISTER)
            )
        if db_field.name == "version":
            drafts = CriteriaVersion.objects.filter(
                state=CriteriaVersion.State.DRAFT, activation__isnull=True
            )
            if not scope.everything:
                drafts = drafts.filter(trial__in=scope.trials(ADMINISTER))
            kwargs["queryset"] = drafts
        if db_field.name == "criterion":
            criteria = Criterion.objects.filter(
                version__state=CriteriaVersion.State.DRAFT,
                version__activation__isnull=True,
            ).select_related("version")
            if not scope.everything:
                criteria = criteria.filter(trial__in=scope.trials(ADMINISTER))
            kwargs["queryset"] = criteria
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ChangeReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for change"),
        max_length=100,
        help_text=_("Required. Recorded in the history with your name and the time."),
    )


class ReasonedHistoryAdmin(TrialScopedAdmin, SimpleHistoryAdmin):
    """Saves the parent and its inlines with the reason given on the form."""

    form = ChangeReasonForm

    def _history_in_scope(self, request, object_id) -> bool:
        # simple_history finds the object from its history rows, without
        # get_queryset(): scope it to the trials the user administers here.
        scope = scope_for(request.user)
        if scope.everything:
            return True
        path = "id" if self.trial_path == "pk" else self.trial_path
        return self.model.history.filter(
            id=unquote(object_id), **{f"{path}__in": scope.trials(ADMINISTER)}
        ).exists()

    def history_view(self, request, object_id, extra_context=None):
        if not self._history_in_scope(request, object_id):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not self._history_in_scope(request, object_id):
            raise PermissionDenied
        if request.method == "POST":
            # A revert saves the object as it is now: it must be changeable now
            # (simple_history asks only for view permission, on the old row).
            current = self.get_object(request, unquote(object_id))
            if current is None or not self.has_change_permission(request, current):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request, obj, form, change):
        obj._change_reason = form.cleaned_data["change_reason"]
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        reason = form.cleaned_data["change_reason"]
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            if isinstance(obj, Criterion):
                # Its conditions go too: delete them first so that their
                # history rows carry the reason as well.
                for condition in obj.conditions.all():
                    condition._change_reason = reason
                    condition.delete()
            obj._change_reason = reason
            obj.delete()
        for obj in instances:
            obj._change_reason = reason
            obj.save()
        formset.save_m2m()


class CriterionInline(DraftOnly, admin.TabularInline):
    model = Criterion
    fields = ["code", "kind", "position", "text", "is_attestation", "active"]
    extra = 0
    show_change_link = True


class ConditionInline(DraftOnly, admin.TabularInline):
    model = Condition
    fields = [
        "position",
        "variable",
        "operator",
        "value_low",
        "value_high",
        "values",
        "unit",
    ]
    extra = 0


class SiteInline(admin.TabularInline):
    model = Site
    fields = ["code", "name", "name_zh_hans"]
    extra = 0


@admin.register(Trial)
class TrialAdmin(ReasonedHistoryAdmin):
    trial_path = "pk"
    list_display = ["registry_id", "slug", "title", "site", "status"]
    search_fields = ["registry_id", "slug", "title"]
    inlines = [SiteInline]


@admin.register(CriteriaVersion)
class CriteriaVersionAdmin(DraftOnly, ReasonedHistoryAdmin):
    """A trial's criteria versions: drafts are edited here, then signed in the app."""

    list_display = [
        "trial",
        "number",
        "label",
        "label_zh_hans",
        "state",
        "effective_from",
    ]
    list_filter = [("trial", TrialScopeFilter), "state"]
    list_select_related = ["trial"]
    inlines = [CriterionInline]
    fields = [
        "trial",
        "number",
        "label",
        "label_zh_hans",
        "ethics_reference",
        "ethics_approved_on",
        "default_lookback_hours",
        "near_miss_margin_percent",
        "screening_window_hours",
        "change_reason",
    ]
    readonly_fields = ["trial", "number"]
    actions = ["copy_to_draft"]

    def has_add_permission(self, request, obj=None):
        # A draft starts as a copy of the active version (the action below).
        return False

    @admin.action(description=_("Copy the active version into a new draft"))
    def copy_to_draft(self, request, queryset):
        for trial in {version.trial for version in queryset}:
            # Named in both languages, whichever the admin is read in.
            with translation.override("en"):
                label = str(DRAFT_LABEL)
            with translation.override("zh-hans"):
                label_zh_hans = str(DRAFT_LABEL)
            draft = version_draft_create(
                trial=trial,
                user=request.user,
                label=label,
                label_zh_hans=label_zh_hans,
            )
            self.message_user(request, _("Draft %(draft)s created.") % {"draft": draft})


@admin.register(ImpactReport)
class ImpactReportAdmin(ReadOnlyAdmin, TrialScopedAdmin):
    """Append-only: every field is shown read-only (no change permission)."""

    trial_path = "version__trial_id"
    list_display = ["version", "from_version", "evaluated", "flip_count", "created_at"]
    list_select_related = ["version", "from_version"]


@admin.register(VersionActivation)
class VersionActivationAdmin(ImpactReportAdmin):
    list_display = ["version", "signer_full_name", "signed_at", "effective_from"]
    list_select_related = ["version"]


@admin.register(Criterion)
class CriterionAdmin(DraftOnly, ReasonedHistoryAdmin):
    list_display = [
        "code",
        "trial",
        "version",
        "kind",
        "position",
        "short_text",
        "active",
    ]
    list_filter = [("trial", TrialScopeFilter), "version__state", "kind", "active"]
    search_fields = ["code", "text", "text_zh_hans"]
    list_select_related = ["trial", "version"]
    inlines = [ConditionInline]
    # The version each history row belongs to (its label in the page's language).
    history_list_display = ["version"]
    fields = [
        "trial",
        "version",
        "code",
        "kind",
        "position",
        "text",
        "text_zh_hans",
        "is_attestation",
        "active",
        "change_reason",
    ]

    def has_delete_permission(self, request, obj=None):
        # Its delete page asks no reason; deactivate it instead (or remove it on
        # its trial's page, whose form requires a reason).
        return False

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        queryset = super().get_history_queryset(
            request, history_manager, pk_name, object_id
        )
        return queryset.select_related("version")

    @admin.display(description=_("protocol wording"))
    def short_text(self, obj):
        return obj.text[:80]


@admin.register(Condition)
class ConditionAdmin(DraftOnly, ReasonedHistoryAdmin):
    trial_path = "criterion__trial_id"
    list_display = ["criterion", "version", "position", "__str__"]
    list_filter = [
        ("criterion__trial", TrialScopeFilter),
        "criterion__kind",
        "variable",
        "operator",
    ]
    search_fields = ["criterion__code", "variable"]
    list_select_related = ["criterion__trial", "criterion__version"]
    history_list_display = ["version"]

    @admin.display(description=_("criteria version"))
    def version(self, obj):
        """The version of a condition, or of a history row (its criterion's then)."""
        criterion = obj.criterion if obj.criterion_id else None
        if criterion is None and obj.criterion_id:
            # A history row of a deleted criterion's condition.
            criterion = (
                Criterion.history.filter(id=obj.criterion_id)
                .select_related("version")
                .order_by("-history_id")
                .first()
            )
        return "" if criterion is None else str(criterion.version)

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        queryset = super().get_history_queryset(
            request, history_manager, pk_name, object_id
        )
        return queryset.select_related("criterion__version")

    def has_delete_permission(self, request, obj=None):
        # The delete page asks no reason: conditions are removed on their
        # criterion's page, whose form requires one.
        return False
