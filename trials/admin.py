"""Admin for trials and criteria: every save asks why, and history keeps it."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.scope import ADMINISTER, scope_for

from .models import Condition, Criterion, Site, Trial


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


class CriterionInline(admin.TabularInline):
    model = Criterion
    fields = ["code", "kind", "position", "text", "is_attestation", "active"]
    extra = 0
    show_change_link = True


class ConditionInline(admin.TabularInline):
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
    inlines = [SiteInline, CriterionInline]


@admin.register(Criterion)
class CriterionAdmin(ReasonedHistoryAdmin):
    list_display = ["code", "trial", "kind", "position", "short_text", "active"]
    list_filter = ["trial", "kind", "active"]
    search_fields = ["code", "text", "text_zh_hans"]
    list_select_related = ["trial"]
    inlines = [ConditionInline]
    fields = [
        "trial",
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

    @admin.display(description=_("protocol wording"))
    def short_text(self, obj):
        return obj.text[:80]


@admin.register(Condition)
class ConditionAdmin(ReasonedHistoryAdmin):
    trial_path = "criterion__trial_id"
    list_display = ["criterion", "position", "__str__"]
    list_filter = ["criterion__trial", "criterion__kind", "variable", "operator"]
    search_fields = ["criterion__code", "variable"]
    list_select_related = ["criterion__trial"]

    def has_delete_permission(self, request, obj=None):
        # The delete page asks no reason: conditions are removed on their
        # criterion's page, whose form requires one.
        return False
