"""The log's filter form and the funnel's period form."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.names import display_name
from screening.models import EligibilityDecision
from screening.reports import selectors
from trials.selectors import criterion_codes


def add_bootstrap_classes(form: forms.Form) -> None:
    """Small Bootstrap controls for filter forms laid out by hand in templates."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select form-select-sm"
        else:
            css = "form-control form-control-sm"
        widget.attrs["class"] = css


def _date(label) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class LogFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Screening number or initials"), required=False, max_length=20
    )
    outcome = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", _("All"))] + list(EligibilityDecision.Result.choices),
    )
    blocking = forms.ChoiceField(label=_("Blocking criterion"), required=False)
    date_from = _date(_("Screened from"))
    date_to = _date(_("Screened to"))
    recorded_by = forms.TypedChoiceField(
        label=_("Screened by"), required=False, coerce=int, empty_value=None
    )
    signed = forms.ChoiceField(
        label=_("Sign-off"),
        required=False,
        choices=[
            ("", _("All")),
            ("signed", _("Signed")),
            ("unsigned", _("Not signed")),
            ("disagreed", _("Investigator disagreed")),
        ],
    )
    current_only = forms.BooleanField(
        label=_("Latest record of each candidate only"), required=False
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(s, s) for key in selectors.SORTS for s in (key, f"-{key}")],
    )

    def __init__(self, *args, trial, **kwargs):
        super().__init__(*args, **kwargs)
        codes = criterion_codes(trial=trial)
        self.fields["blocking"].choices = [("", _("Any"))] + [(c, c) for c in codes]
        users = (
            get_user_model()
            .objects.filter(
                memberships__trial=trial,
                memberships__role__in=[roles.COORDINATOR, roles.INVESTIGATOR],
            )
            .distinct()
            .select_related("profile")
            .order_by("username")
        )
        self.fields["recorded_by"].choices = [("", _("Anyone"))] + [
            (u.pk, display_name(u)) for u in users
        ]
        add_bootstrap_classes(self)


def log_filter_form(params, *, trial) -> tuple[LogFilterForm, selectors.LogFilter]:
    """The filter form, and the filters it gives; invalid filters are ignored."""
    form = LogFilterForm(params, trial=trial)
    form.is_valid()
    data = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    return form, selectors.LogFilter(
        outcome=data.get("outcome") or "",
        blocking=data.get("blocking") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        recorded_by=data.get("recorded_by"),
        signed=data.get("signed") or "",
        q=data.get("q") or "",
        sort=data.get("sort") or "-recorded",
        current_only=bool(data.get("current_only")),
    )


class FunnelForm(forms.Form):
    date_from = _date(_("Screened from"))
    date_to = _date(_("Screened to"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_bootstrap_classes(self)
