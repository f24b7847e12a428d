"""The lab inbox's forms: an import's file (and site), a rejection's reason."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from screening.labs.services import MAX_MESSAGE_BYTES


class LabImportForm(forms.Form):
    file = forms.FileField(
        label=_("Laboratory message (FHIR JSON bundle or LIS CSV export)"),
        help_text=_(
            "A FHIR R4 Bundle of Observations, or a CSV file with one row per "
            "result (patient, test, value, unit, reference range, collection "
            "time) in UTF-8 or GB18030."
        ),
    )

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._sites = {str(site.pk): site for site in sites}
        if len(self._sites) > 1:
            # Candidates not yet screened wait at the site chosen here.
            self.fields["site"] = forms.ChoiceField(
                label=_("Site of candidates not yet screened"),
                choices=[("", "---------")]
                + [(pk, str(site)) for pk, site in self._sites.items()],
            )
        self.helper = FormHelper(self)
        self.helper.layout = Layout(
            *self.fields, Submit("submit", _("Import into the inbox"))
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_MESSAGE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s."),
                code="too_large",
                params={"limit": filesizeformat(MAX_MESSAGE_BYTES)},
            )
        return upload

    @property
    def site(self):
        if len(self._sites) == 1:
            return next(iter(self._sites.values()))
        return self._sites.get(getattr(self, "cleaned_data", {}).get("site", ""))


class LabRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        max_length=1000,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Give the reason for rejecting.")},
    )
