from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _


class DraftForm(forms.Form):
    label = forms.CharField(
        label=_("Label of the new draft"),
        max_length=120,
        help_text=_("As the amendment names it, e.g. Protocol v2.0 (amendment 2)."),
    )
    label_zh_hans = forms.CharField(
        label=_("Label in Simplified Chinese"),
        max_length=120,
        required=False,
        help_text=_("As the Chinese protocol names it; empty: the label above."),
    )


class ActivationForm(forms.Form):
    effective_from = forms.DateTimeField(
        label=_("Effective from"),
        required=False,
        help_text=_("In the site's time zone. Empty: now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    confirm = forms.BooleanField(
        label=_("I have reviewed the impact report above"), required=True
    )
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", _("Sign and activate")))
