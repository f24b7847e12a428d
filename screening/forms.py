"""The screening form: the shape of the answers, grouped as a coordinator works.

The form checks each field (numbers, units, plausibility, dates) with messages at
the field; it then builds the input contract (the same JSON names as ``prescreen``
and the bulk upload) that the service evaluates. It decides nothing clinical.
"""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from screening.domain import units
from screening.domain.candidate import (
    BOUNDS,
    EARLIEST_YEAR,
    INITIALS_RE,
    LATEST_YEAR,
    NUMBER_RE,
    SCREENING_NUMBER_RE,
    parse_bool,
    parse_datetime,
)
from screening.domain.engine import format_number
from screening.domain.variables import CHECKLIST_ITEMS

from .models import Signature

ANSWER_CHOICES = [("", _("Not answered")), ("yes", _("Yes")), ("no", _("No"))]

CHECKLIST_LABELS = {
    "able_to_communicate_and_complete": _(
        "The subject is able to communicate well with the researchers and can "
        "complete the study in accordance with the study regulations (I7)"
    ),
    "written_informed_consent": _(
        "The subject was informed of this study and voluntarily signed the written "
        "informed consent form (I8)"
    ),
    "severe_active_bleeding": _("Severe active bleeding (E1)"),
    "dic": _("Diffuse intravascular coagulation (E1)"),
    "allergy_blood_products_or_study_drugs": _(
        "High degree of allergy to blood products or drugs used during treatment, "
        "such as plasma, heparin and protamine (E2)"
    ),
    "circulatory_failure": _("Circulatory failure (E3)"),
    "severe_comorbidity": _(
        "Other severe heart, lung, blood or autoimmune disease (E5)"
    ),
    "diabetes": _("Diabetes (E5)"),
    "investigator_excludes": _(
        "May be unable to complete this study for other reasons, or the researchers "
        "believe the subject should not be included (E6)"
    ),
}

HE_GRADES = [
    ("", _("Not assessed")),
    ("0", _("0: no encephalopathy")),
    ("1", _("I: trivial lack of awareness, shortened attention span")),
    ("2", _("II: lethargy, disorientation for time, asterixis")),
    ("3", _("III: somnolence to semi-stupor, confusion, gross disorientation")),
    ("4", _("IV: coma")),
]

STAGE_CHOICES = [
    ("", _("Not assessed")),
    ("early", _("Early (30% < PTA ≤ 40%)")),
    ("intermediate", _("Intermediate (20% < PTA ≤ 30%)")),
    ("late", _("Late (PTA ≤ 20%)")),
    ("none", _("Not liver failure")),
]

UNIT_LABELS = {
    "umol/L": _("μmol/L"),
    "mg/dL": _("mg/dL"),
    "g/L": _("g/L"),
    "g/dL": _("g/dL"),
    "mg/L": _("mg/L"),
    "ng/mL": _("ng/mL"),
    "pg/mL": _("pg/mL"),
}


def _unit_choices(analyte: str):
    return [(u, UNIT_LABELS[u]) for u in units.accepted_units(analyte)]


class PlainDecimalField(forms.DecimalField):
    """A decimal typed with ASCII digits and a dot: nothing else is a number here.

    Django's field would also take "1_000" and other scripts' digits; a comma
    is refused rather than guessed as a decimal separator.
    """

    def to_python(self, value):
        if isinstance(value, str) and value.strip():
            if not NUMBER_RE.match(value.strip()) or len(value) > 32:
                raise forms.ValidationError(
                    _("Enter a number with digits and a dot, for example 17.1."),
                    code="invalid",
                )
        return super().to_python(value)


class PlausibleDateTimeField(forms.DateTimeField):
    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise forms.ValidationError(_("Implausible date."), code="implausible_date")
        return moment


class PlausibleDateField(forms.DateField):
    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not EARLIEST_YEAR - 100 <= day.year <= LATEST_YEAR:
            raise forms.ValidationError(_("Implausible date."), code="implausible_date")
        return day


def _number(label, help_text=""):
    return PlainDecimalField(
        label=label,
        required=False,
        max_digits=12,
        decimal_places=4,
        help_text=help_text,
    )


# Quantity fields: name -> (analyte, bound key, has unit choice, has lab ULN)
QUANTITIES = {
    "tbil": ("bilirubin", "tbil", True, False),
    "creatinine": ("creatinine", "creatinine", True, False),
    "albumin": ("albumin", "albumin", True, False),
    "il6": ("il6", "il6", False, True),
    "tnf_alpha": ("tnf_alpha", "tnf_alpha", False, True),
    "crp": ("crp", "crp", True, True),
    "pct": ("pct", "pct", False, True),
}
PLAIN_NUMBERS = {"pta_percent": "%", "inr": "", "sodium_mmol_l": "mmol/L"}


def bounds_in(analyte: str, bound_key: str, unit: str) -> tuple[Decimal, Decimal]:
    """The plausibility bounds of a quantity in the unit the user chose."""
    low, high = BOUNDS[bound_key]
    canonical = units.accepted_units(analyte)[0]
    return (
        units.convert(analyte, low, canonical, unit),
        units.convert(analyte, high, canonical, unit),
    )


def _implausible(low: Decimal, high: Decimal, unit: str) -> forms.ValidationError:
    message = (
        _("Implausible value: must be between %(low)s and %(high)s %(unit)s.")
        if unit
        else _("Implausible value: must be between %(low)s and %(high)s.")
    )
    return forms.ValidationError(
        message,
        code="implausible",
        params={
            "low": format_number(low),
            "high": format_number(high),
            "unit": UNIT_LABELS.get(unit, unit),
        },
    )


class TbilMeasurementForm(forms.Form):
    time = PlausibleDateTimeField(
        label=_("Measured at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    value = _number(_("TBil"))
    unit = forms.ChoiceField(label=_("Unit"), choices=_unit_choices("bilirubin"))

    def clean(self):
        data = super().clean()
        value, moment = data.get("value"), data.get("time")
        if value is None and moment is None:
            return data
        if value is None and "value" not in self.errors:
            self.add_error(
                "value", forms.ValidationError(_("Enter the value."), code="required")
            )
        if moment is None and "time" not in self.errors:
            self.add_error(
                "time",
                forms.ValidationError(
                    _("Enter when it was measured."), code="required"
                ),
            )
        elif moment is not None and moment > timezone.now():
            self.add_error(
                "time",
                forms.ValidationError(_("This is in the future."), code="future"),
            )
        if value is not None and data.get("unit"):
            low, high = bounds_in("bilirubin", "tbil", data["unit"])
            if not low <= value <= high:
                self.add_error("value", _implausible(low, high, data["unit"]))
        return data

    def measurement(self) -> dict | None:
        data = self.cleaned_data
        if not data or data.get("value") is None:
            return None
        return {
            "time": data["time"].isoformat(),
            "value": format(data["value"], "f"),
            "unit": data["unit"],
        }


class BaseTbilSeriesFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        # Django reads a negative count as none; a browser never sends one.
        if self.management_form.cleaned_data.get("TOTAL_FORMS", 0) < 0:
            raise forms.ValidationError(
                _("Invalid form data."), code="invalid_management_form"
            )


TbilSeriesFormSet = forms.formset_factory(
    TbilMeasurementForm,
    formset=BaseTbilSeriesFormSet,
    extra=2,
    max_num=20,
    validate_max=True,
    absolute_max=20,
)


class ScreeningForm(forms.Form):
    screening_number = forms.RegexField(
        label=_("Screening number"),
        regex=SCREENING_NUMBER_RE,
        max_length=12,
        help_text=_("Site format, for example 01-001."),
        error_messages={
            "invalid": _("Use the site's format, for example 01-001."),
        },
    )
    initials = forms.CharField(
        label=_("Initials"),
        max_length=4,
        required=False,
        help_text=_("1 to 4 letters, no names."),
    )
    sex = forms.ChoiceField(
        label=_("Sex"),
        choices=[("", "---------"), ("M", _("Male")), ("F", _("Female"))],
    )
    date_of_birth = PlausibleDateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    screening_date = PlausibleDateField(
        label=_("Screening date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    tbil_value = _number(_("Current total bilirubin (TBil)"))
    tbil_unit = forms.ChoiceField(label=_("Unit"), choices=_unit_choices("bilirubin"))
    tbil_time = PlausibleDateTimeField(
        label=_("Measured at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Needed to compute the daily rise with earlier measurements."),
    )
    pta_percent = _number(_("Prothrombin activity (PTA, %)"))
    inr = _number(_("INR"))
    creatinine_value = _number(_("Creatinine"))
    creatinine_unit = forms.ChoiceField(
        label=_("Unit"), choices=_unit_choices("creatinine")
    )
    dialysis_twice_past_week = forms.ChoiceField(
        label=_("Dialysis at least twice, or 24 hours of CVVHD, in the past week"),
        choices=ANSWER_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )
    sodium_mmol_l = _number(_("Sodium (mmol/L)"))
    albumin_value = _number(_("Albumin"))
    albumin_unit = forms.ChoiceField(label=_("Unit"), choices=_unit_choices("albumin"))

    he_grade = forms.ChoiceField(
        label=_("Hepatic encephalopathy (West Haven grade)"),
        choices=HE_GRADES,
        required=False,
        widget=forms.RadioSelect,
    )

    il6_value = _number(_("IL-6 (pg/mL)"))
    il6_uln = _number(_("Lab upper limit (pg/mL)"), _("Optional; default 7."))
    tnf_alpha_value = _number(_("TNF-α (pg/mL)"))
    tnf_alpha_uln = _number(_("Lab upper limit (pg/mL)"), _("Optional; default 8.1."))
    crp_value = _number(_("CRP"))
    crp_unit = forms.ChoiceField(label=_("Unit"), choices=_unit_choices("crp"))
    crp_uln = _number(
        _("Lab upper limit"), _("Optional, in the same unit; default 10 mg/L.")
    )
    pct_value = _number(_("PCT (ng/mL)"))
    pct_uln = _number(_("Lab upper limit (ng/mL)"), _("Optional; default 0.05."))

    liver_failure_stage = forms.ChoiceField(
        label=_("Liver failure stage (clinician's assessment)"),
        choices=STAGE_CHOICES,
        required=False,
    )

    def __init__(self, *args, series=None, correction=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.series = series
        for item in CHECKLIST_ITEMS:
            self.fields[item] = forms.ChoiceField(
                label=CHECKLIST_LABELS[item],
                choices=ANSWER_CHOICES,
                required=False,
                widget=forms.RadioSelect(attrs={"class": "checklist"}),
            )
        if correction:
            self.fields["supersede_reason"] = forms.CharField(
                label=_("Reason for the correction or re-screen"),
                widget=forms.Textarea(attrs={"rows": 2}),
                max_length=1000,
            )
            self.fields["screening_number"].disabled = True
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.layout = self._layout(correction)

    def _layout(self, correction: bool) -> Layout:
        def row(*names, widths=None):
            widths = widths or [12 // len(names)] * len(names)
            return Row(
                *(
                    Column(name, css_class=f"col-md-{width}")
                    for name, width in zip(names, widths, strict=True)
                )
            )

        parts = []
        if correction:
            parts.append(Fieldset(_("Correction"), "supersede_reason"))
        parts += [
            Fieldset(
                _("Identification"),
                row("screening_number", "initials", "sex"),
                row("date_of_birth", "screening_date"),
            ),
            Fieldset(
                _("Liver function"),
                row("tbil_value", "tbil_unit", "tbil_time", widths=[5, 2, 5]),
                HTML('{% include "screening/_tbil_series.html" %}'),
                row("pta_percent", "inr"),
                row("creatinine_value", "creatinine_unit", widths=[8, 4]),
                "dialysis_twice_past_week",
                row("sodium_mmol_l", "albumin_value", "albumin_unit", widths=[5, 5, 2]),
            ),
            Fieldset(_("Encephalopathy"), "he_grade"),
            Fieldset(
                _("Inflammation"),
                row("il6_value", "il6_uln"),
                row("tnf_alpha_value", "tnf_alpha_uln"),
                row("crp_value", "crp_unit", "crp_uln", widths=[5, 2, 5]),
                row("pct_value", "pct_uln"),
            ),
            Fieldset(_("Stage"), "liver_failure_stage"),
            Fieldset(
                _("Checklist"),
                Div(*CHECKLIST_ITEMS, css_class="checklist-items"),
            ),
            Submit("submit", _("Check eligibility and record")),
        ]
        return Layout(*parts)

    def clean_initials(self):
        initials = self.cleaned_data["initials"].strip().upper()
        if initials and not INITIALS_RE.match(initials):
            raise forms.ValidationError(
                _("Use 1 to 4 letters A-Z."), code="invalid_initials"
            )
        return initials

    def clean_screening_date(self):
        value = self.cleaned_data["screening_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(
                _("The screening date is in the future."), code="future"
            )
        return value

    def clean_tbil_time(self):
        value = self.cleaned_data["tbil_time"]
        if value is not None and value > timezone.now():
            raise forms.ValidationError(_("This is in the future."), code="future")
        return value

    def clean(self):
        data = super().clean()
        dob, screened = data.get("date_of_birth"), data.get("screening_date")
        if dob and screened:
            if dob > screened:
                self.add_error(
                    "date_of_birth",
                    forms.ValidationError(
                        _("The date of birth is after the screening date."),
                        code="dob_after_screening",
                    ),
                )
            elif screened.year - dob.year > 121 or (
                screened.year - dob.year == 121
                and (screened.month, screened.day) >= (dob.month, dob.day)
            ):
                self.add_error(
                    "date_of_birth",
                    forms.ValidationError(
                        _("Implausible: age over 120 years."), code="implausible"
                    ),
                )
        for name, (analyte, bound_key, _unit, has_uln) in QUANTITIES.items():
            value = data.get(f"{name}_value")
            unit = data.get(f"{name}_unit") or units.accepted_units(analyte)[0]
            if value is not None:
                low, high = bounds_in(analyte, bound_key, unit)
                if not low <= value <= high:
                    self.add_error(f"{name}_value", _implausible(low, high, unit))
            uln = data.get(f"{name}_uln") if has_uln else None
            if uln is not None and uln <= 0:
                self.add_error(
                    f"{name}_uln",
                    forms.ValidationError(
                        _("The upper limit of normal must be above 0."),
                        code="uln_not_positive",
                    ),
                )
            if uln is not None and value is None and f"{name}_value" not in self.errors:
                self.add_error(
                    f"{name}_value",
                    forms.ValidationError(
                        _("Enter the value that goes with this limit."),
                        code="required",
                    ),
                )
        for name, unit in PLAIN_NUMBERS.items():
            value = data.get(name)
            low, high = BOUNDS[name]
            if value is not None and not low <= value <= high:
                self.add_error(name, _implausible(low, high, unit))
        self._check_series_order(data.get("tbil_time"))
        return data

    def _series_forms(self):
        if self.series is None or not self.series.is_valid():
            return []
        return [f for f in self.series.forms if f.measurement() is not None]

    def _check_series_order(self, current_time):
        if current_time is None:
            return
        for form in self._series_forms():
            if form.cleaned_data["time"] > current_time:
                form.add_error(
                    "time",
                    forms.ValidationError(
                        _("An earlier measurement is later than the current TBil."),
                        code="series_after_current",
                    ),
                )
                self.add_error(
                    None,
                    forms.ValidationError(
                        _("An earlier TBil measurement is later than the current one."),
                        code="series_after_current",
                    ),
                )

    def to_contract(self) -> dict:
        """The cleaned answers under the input contract's names, units included."""
        data = self.cleaned_data

        def num(value):
            return None if value is None else format(value, "f")

        def answer(value):
            return {"yes": True, "no": False}.get(value)

        contract: dict = {
            "screening_number": data["screening_number"],
            "initials": data.get("initials") or None,
            "sex": data.get("sex") or None,
            "date_of_birth": (
                data["date_of_birth"].isoformat() if data.get("date_of_birth") else None
            ),
            "screening_date": data["screening_date"].isoformat(),
            "liver_failure_stage": data.get("liver_failure_stage") or None,
            "pta_percent": num(data.get("pta_percent")),
            "inr": num(data.get("inr")),
            "sodium_mmol_l": num(data.get("sodium_mmol_l")),
            "he_grade": int(data["he_grade"]) if data.get("he_grade") else None,
            "dialysis_twice_past_week": answer(data.get("dialysis_twice_past_week")),
            "tbil_series": [f.measurement() for f in self._series_forms()],
        }
        for name, (analyte, _bound, has_unit, has_uln) in QUANTITIES.items():
            value = data.get(f"{name}_value")
            if value is None:
                contract[name] = None
                continue
            quantity = {
                "value": num(value),
                "unit": data[f"{name}_unit"]
                if has_unit
                else units.accepted_units(analyte)[0],
            }
            if has_uln and data.get(f"{name}_uln") is not None:
                quantity["uln"] = num(data[f"{name}_uln"])
            if name == "tbil" and data.get("tbil_time") is not None:
                quantity["time"] = data["tbil_time"].isoformat()
            contract[name] = quantity
        for item in CHECKLIST_ITEMS:
            contract[item] = answer(data.get(item))
        return contract


def initial_from_contract(entered: dict) -> tuple[dict, list[dict]]:
    """Form and series initial values from a recorded or uploaded contract dict."""
    initial: dict = {}
    for key in (
        "screening_number",
        "initials",
        "sex",
        "date_of_birth",
        "screening_date",
        "liver_failure_stage",
        "pta_percent",
        "inr",
        "sodium_mmol_l",
    ):
        if entered.get(key) is not None:
            initial[key] = entered[key]
    if entered.get("he_grade") is not None:
        initial["he_grade"] = str(entered["he_grade"])
    for item in (*CHECKLIST_ITEMS, "dialysis_twice_past_week"):
        # Uploaded files say "no" as text: parse, never test for truth.
        try:
            answer = parse_bool(entered.get(item))
        except ValueError:
            answer = None
        if answer is not None:
            initial[item] = "yes" if answer else "no"
    for name in QUANTITIES:
        quantity = entered.get(name)
        if isinstance(quantity, dict):
            for part in ("value", "unit", "uln"):
                if quantity.get(part) is not None:
                    initial[f"{name}_{part}"] = quantity[part]
            if quantity.get("time") is not None:
                initial[f"{name}_time"] = _local_input(quantity["time"])
    series = [
        {
            "time": _local_input(m.get("time")),
            "value": m.get("value"),
            "unit": m.get("unit"),
        }
        for m in entered.get("tbil_series") or []
        if isinstance(m, dict)
    ]
    return initial, series


def _local_input(moment: str | None) -> str | None:
    """An ISO date-time as a datetime-local input shows it, in the site's zone."""
    try:
        parsed = parse_datetime(moment, timezone.get_current_timezone())
    except ValueError:
        return moment
    return timezone.localtime(parsed).strftime("%Y-%m-%dT%H:%M")


class SignatureForm(forms.Form):
    meaning = forms.ChoiceField(
        label=_("Meaning of this signature"),
        choices=Signature.Meaning.choices,
        widget=forms.RadioSelect,
        initial=Signature.Meaning.CONFIRM,
    )
    override_outcome = forms.ChoiceField(
        label=_("Your assessment (if you disagree)"),
        choices=[
            ("", "---------"),
            ("ELIGIBLE", _("Eligible")),
            ("INELIGIBLE", _("Ineligible")),
            ("INCOMPLETE", _("Incomplete")),
        ],
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required if you disagree."),
    )
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Re-enter your password to sign."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "meaning",
            "override_outcome",
            "reason",
            "password",
            Submit("submit", _("Sign")),
        )

    def clean(self):
        data = super().clean()
        if data.get("meaning") == Signature.Meaning.DISAGREE:
            if not (data.get("reason") or "").strip():
                self.add_error(
                    "reason",
                    forms.ValidationError(
                        _("Give the reason for disagreeing."), code="required"
                    ),
                )
            if not data.get("override_outcome"):
                self.add_error(
                    "override_outcome",
                    forms.ValidationError(
                        _("Give your own assessment."), code="required"
                    ),
                )
        return data
