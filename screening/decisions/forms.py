"""The screening form: the registry's inputs laid out as a coordinator works.

Every field is derived from the input registry. The form gives the answers their
shape and widgets (numbers are text with ``inputmode="decimal"``, so the browser
sends exactly what was typed) and converts them to the input contract; the
parser decides what they mean, and its problems come back to the fields the
registry names. Form-only rules (the correction's reason, the confirmation of
unusual values) are the form's own.
"""

import copy
from functools import cached_property

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from screening.common.words import UNIT_LABELS, field_label, problem_text
from screening.domain import contract, units
from screening.domain.engine import Operator, format_number
from screening.domain.inputs import (
    CONFIRM_KEY,
    INPUTS,
    LAB_STATUSES,
    MAX_SERIES,
    NOT_DONE,
    PART_LABELS,
    PENDING,
    SECTION_TITLES,
    Input,
    InputKind,
    Part,
    Section,
    input_for_path,
)
from screening.domain.variables import VARIABLES
from screening.models import Signature

ANSWER_WORDS = {"yes": True, "no": False, PENDING: PENDING}
STATUS_LABELS = {PENDING: _("Pending"), NOT_DONE: _("Not done")}


def field_name(item: Input, part: Part = Part.VALUE) -> str:
    """The form field of an input's part: ``tbil_value``, ``tbil_unit``, ``inr``."""
    if item.kind is InputKind.QUANTITY and part is Part.VALUE:
        return f"{item.key}_value"
    return item.column(part)


def _unit_choices(item: Input):
    return [(u, UNIT_LABELS.get(u, u)) for u in item.units]


def _text(label, help_text="", **attrs):
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        max_length=64,
        help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", **attrs}),
    )


def _number(label, help_text=""):
    # Text, not <input type=number>: the browser would rewrite "88,4" as 884.
    return _text(label, help_text, inputmode="decimal")


def _moment(label, help_text=""):
    return forms.CharField(
        label=label,
        required=False,
        max_length=64,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


def _answer_choices(item: Input):
    return [
        ("", _("Not answered")),
        ("yes", _("Yes")),
        ("no", _("No")),
        (PENDING, _(item.pending_label)),
    ]


def _codes_by_input(criteria) -> dict[str, list[str]]:
    """Which criterion codes read each input, from the active criteria."""
    codes: dict[str, list[str]] = {}
    for spec in criteria.specs if criteria else ():
        for condition in spec.conditions:
            for key in VARIABLES[condition.variable].inputs:
                if spec.code not in codes.setdefault(key, []):
                    codes[key].append(spec.code)
    return codes


# Shown for every trial: who is screened, the type and cause of their liver
# failure (information), and the liver panel the page computes MELD, MELD-Na
# and MELD 3.0 from.
_ALWAYS_SHOWN = (Section.IDENTIFICATION, Section.DIAGNOSIS, Section.LIVER)


def _inputs_shown(criteria) -> frozenset[str]:
    """The inputs a trial's form shows: those its active criteria read, and the
    sections every trial has; every input when there are no active criteria."""
    if not criteria:
        return frozenset(INPUTS)
    read = {
        key
        for spec in criteria.specs
        for condition in spec.conditions
        for key in VARIABLES[condition.variable].inputs
    }
    return frozenset(
        key
        for key, item in INPUTS.items()
        if key in read or item.section in _ALWAYS_SHOWN
    )


def _default_limits(criteria) -> dict[str, tuple[str, bool]]:
    """A marker's threshold in the active criteria, and whether a lab's ULN
    replaces it, for its help text."""
    limits = {}
    for spec in criteria.specs if criteria else ():
        for condition in spec.conditions:
            variable = VARIABLES[condition.variable]
            if (
                variable.has_lab_uln
                and condition.operator in (Operator.GT, Operator.GTE)
                and not condition.relative_to_uln
            ):
                limits[variable.inputs[0]] = (
                    format_number(condition.low),
                    condition.uln_replaces,
                )
    return limits


def _fields_of(item: Input, label: str, limits: dict[str, str]):
    """(name, field) pairs for one input, in the order the form shows them."""
    if item.kind is InputKind.TEXT:
        return [(item.key, _text(label, _(item.help) if item.help else ""))]
    if item.kind is InputKind.DATE:
        return [
            (
                item.key,
                forms.CharField(
                    label=label,
                    required=False,
                    max_length=64,
                    widget=forms.DateInput(attrs={"type": "date"}),
                ),
            )
        ]
    if item.kind is InputKind.CHOICE:
        widget = forms.RadioSelect if item.radio else forms.Select
        # A required choice (sex) is chosen, not "assessed".
        blank = "---------" if item.required else _("Not assessed")
        choices = [("", blank)] + [(o.value, _(o.label)) for o in item.options]
        return [
            (
                item.key,
                forms.ChoiceField(
                    label=label, choices=choices, required=False, widget=widget
                ),
            )
        ]
    if item.kind is InputKind.ANSWER:
        return [
            (
                item.key,
                forms.ChoiceField(
                    label=label,
                    choices=_answer_choices(item),
                    required=False,
                    widget=forms.RadioSelect(attrs={"class": "checklist"}),
                ),
            )
        ]
    unit = item.canonical_unit
    shown_unit = UNIT_LABELS.get(unit, unit)
    value_label = f"{label} ({shown_unit})" if unit and len(item.units) == 1 else label
    fields = [
        (field_name(item), _number(value_label, _(item.help) if item.help else ""))
    ]
    if Part.UNIT in item.parts:
        fields.append(
            (
                field_name(item, Part.UNIT),
                # Not required here: the contract asks for the unit of a value
                # given (a blank unit with no value is no measurement).
                forms.ChoiceField(
                    label=_(PART_LABELS[Part.UNIT]),
                    choices=_unit_choices(item),
                    required=False,
                ),
            )
        )
    if Part.ULN in item.parts:
        limit, replaces = limits.get(item.key, (None, False))
        if limit and replaces:
            help_text = _(
                "Optional, in the same unit; without it the protocol's %(limit)s "
                "applies."
            ) % {"limit": f"{limit} {shown_unit}"}
        elif limit:
            help_text = _(
                "Recorded for information: the protocol's %(limit)s decides, "
                "whatever the laboratory's limit."
            ) % {"limit": f"{limit} {shown_unit}"}
        else:
            help_text = _("Optional, in the same unit.")
        fields.append(
            (field_name(item, Part.ULN), _number(_(PART_LABELS[Part.ULN]), help_text))
        )
    fields.append((field_name(item, Part.TIME), _moment(_(PART_LABELS[Part.TIME]))))
    fields.append(
        (
            field_name(item, Part.STATUS),
            forms.ChoiceField(
                label=_("Not available because"),
                choices=[("", "—")] + [(s, STATUS_LABELS[s]) for s in LAB_STATUSES],
                required=False,
            ),
        )
    )
    return fields


def _unit_to_choose(form: forms.Form, value_name: str, unit_name: str) -> None:
    """A unit the form cannot show is left to choose, never the first option.

    A value opened again (a file's row, a record to correct) whose unit is
    missing or not one of the select's options would otherwise be posted with
    the first option, which the browser selects: a blank option is shown
    first and selected.
    """
    field = form.fields.get(unit_name)
    if field is None:  # an input this trial's form does not ask for
        return
    if form.is_bound:  # drawn again with its errors: as it was posted
        given = form.data.get(form.add_prefix(unit_name))
        value = form.data.get(form.add_prefix(value_name))
    else:
        given, value = form.initial.get(unit_name), form.initial.get(value_name)
    if value in (None, "") and given in (None, ""):
        return
    if given in {code for code, _label in field.choices}:
        return
    # Left blank with a value, it is refused next to the field by the contract.
    field.choices = [("", "---------"), *field.choices]
    if not form.is_bound:
        form.initial[unit_name] = ""


class TbilMeasurementForm(forms.Form):
    time = _moment(_("Measured at"))
    value = _number(_("TBil"))
    unit = forms.ChoiceField(
        label=_("Unit"), choices=_unit_choices(INPUTS["tbil"]), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _unit_to_choose(self, "value", "unit")
        _keep_seconds(self)

    def measurement(self) -> dict | None:
        data = self.cleaned_data if self.is_valid() else {}
        if (
            not (data.get("time") or "").strip()
            and not (data.get("value") or "").strip()
        ):
            return None
        return {
            "time": data.get("time"),
            "value": data.get("value"),
            "unit": data.get("unit"),
        }


class BaseTbilSeriesFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        # Django reads a negative count as none; a browser never sends one.
        if self.management_form.cleaned_data.get("TOTAL_FORMS", 0) < 0:
            raise forms.ValidationError(
                _("Invalid form data."), code="invalid_management_form"
            )

    def measurements(self) -> list[dict]:
        """The filled rows, in order; ``measured_forms`` keeps their forms."""
        self.measured_forms = [f for f in self.forms if f.measurement() is not None]
        return [f.measurement() for f in self.measured_forms]


TbilSeriesFormSet = forms.formset_factory(
    TbilMeasurementForm,
    formset=BaseTbilSeriesFormSet,
    extra=2,
    max_num=MAX_SERIES,
    validate_max=True,
    absolute_max=MAX_SERIES,
)


_PROTOTYPES: dict[tuple, tuple] = {}
_PROTOTYPES_MAX = 32


def _prototype(criteria) -> tuple[dict[str, forms.Field], dict]:
    """The registry's fields for ``criteria`` in the active language, and the
    names by section, built once per criteria set and language (a form copies
    them). A field depends on nothing else: its labels, help texts and choices
    come from the registry, the criteria and the language."""
    cache_key = (id(criteria), translation.get_language())
    hit = _PROTOTYPES.get(cache_key)
    if hit is not None and hit[0] is criteria:
        return hit[1], hit[2]
    codes = _codes_by_input(criteria)
    limits = _default_limits(criteria)
    shown = _inputs_shown(criteria)
    fields: dict[str, forms.Field] = {}
    sections: dict[Section, list[list[str]]] = {}
    for key, item in INPUTS.items():
        if key not in shown:
            continue
        if item.kind is InputKind.SERIES:
            sections.setdefault(item.section, []).append([key])
            continue
        label = _(item.label)
        if codes.get(key) and item.kind is InputKind.ANSWER:
            label = f"{label} ({', '.join(codes[key])})"
        names = []
        for name, field in _fields_of(item, label, limits):
            fields[name] = field
            names.append(name)
        sections.setdefault(item.section, []).append(names)
    if len(_PROTOTYPES) >= _PROTOTYPES_MAX:
        # Criteria sets of corrections of old records are loaded per request.
        _PROTOTYPES.clear()
    # The criteria set is held with its fields: its id is not reused meanwhile.
    _PROTOTYPES[cache_key] = (criteria, fields, sections)
    return fields, sections


class ScreeningForm(forms.Form):
    """Every registry input as form fields; ``to_contract`` gives the contract."""

    def __init__(
        self,
        *args,
        series=None,
        correction=False,
        criteria=None,
        sites=(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.series = series
        # The criteria the form was built for are the ones its record is made under.
        self.criteria = criteria
        self._sites = {str(site.pk): site for site in sites}
        self.unusual: list[contract.Unusual] = []
        fields, sections = _prototype(criteria)
        # Copies, as Django copies a declared form's fields for each form.
        for name, field in fields.items():
            self.fields[name] = copy.deepcopy(field)
        self.sections: dict[Section, list[list[str]]] = {
            section: [list(names) for names in groups]
            for section, groups in sections.items()
        }
        for key in ("screening_number", "screening_date", "sex"):
            self.fields[key].required = INPUTS[key].required
        for item in INPUTS.values():
            if Part.UNIT in item.parts:
                _unit_to_choose(self, field_name(item), field_name(item, Part.UNIT))
        _keep_seconds(self)
        self.fields[CONFIRM_KEY] = forms.MultipleChoiceField(
            label=_("I have checked these unusual values and confirm them"),
            choices=[(k, _(i.label)) for k, i in INPUTS.items() if i.typical],
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        if correction:
            self.fields["supersede_reason"] = forms.CharField(
                label=_("Reason for the correction or re-screen"),
                widget=forms.Textarea(attrs={"rows": 2}),
                max_length=1000,
            )
            self.fields["screening_number"].disabled = True
        if len(self._sites) > 1 and not correction:
            # Where the user may screen at several sites, the record names one.
            self.fields["site"] = forms.ChoiceField(
                label=_("Site"),
                choices=[("", "---------")]
                + [(pk, str(site)) for pk, site in self._sites.items()],
            )
        self.correction = correction

    @cached_property
    def helper(self) -> FormHelper:
        """The crispy layout, built when the form is drawn: a valid submission
        redirects without it."""
        helper = FormHelper(self)
        helper.form_tag = False
        helper.layout = self._layout()
        return helper

    @property
    def site(self):
        """The chosen site, the user's only one, or None (the service decides)."""
        if len(self._sites) == 1:
            return next(iter(self._sites.values()))
        return self._sites.get(getattr(self, "cleaned_data", {}).get("site", ""))

    def _layout(self) -> Layout:
        parts = []
        if "site" in self.fields:
            parts.append(Fieldset(_("Site"), "site"))
        if self.correction:
            parts.append(Fieldset(_("Correction"), "supersede_reason"))
        for section, groups in self.sections.items():
            rows, short = [], []
            for names in groups:
                if len(names) == 1 and self._is_short(names[0]):
                    # Short single fields (codes, dates, selects) share a row.
                    short.append(names[0])
                    if len(short) == 3:
                        rows.append(self._row(short))
                        short = []
                    continue
                if short:
                    rows.append(self._row(short))
                    short = []
                if names == ["tbil_series"]:
                    rows.append(HTML('{% include "screening/_tbil_series.html" %}'))
                elif len(names) == 1:
                    rows.append(names[0])
                else:
                    rows.append(self._row(names))
            if short:
                rows.append(self._row(short))
            if section is Section.CHECKLIST:
                rows = [Div(*rows, css_class="checklist-items")]
            parts.append(Fieldset(_(SECTION_TITLES[section]), *rows))
        confirmed = (
            self.data.getlist(CONFIRM_KEY) if hasattr(self.data, "getlist") else []
        )
        if self.unusual or confirmed:
            shown = {u.key for u in self.unusual} | set(confirmed)
            values = {
                u.key: f"{u.value} {UNIT_LABELS.get(u.unit, u.unit)}".strip()
                for u in self.unusual
            }
            field = self.fields[CONFIRM_KEY]
            field.choices = [
                (k, f"{label}: {values[k]}" if values.get(k) else label)
                for k, label in field.choices
                if k in shown
            ]
            parts.append(
                Div(
                    CONFIRM_KEY,
                    css_class="alert alert-warning",
                    css_id="confirm-unusual",
                )
            )
        parts.append(Submit("submit", _("Check eligibility and record")))
        return Layout(*parts)

    def _is_short(self, name: str) -> bool:
        field = self.fields.get(name)
        return field is not None and not isinstance(field.widget, forms.RadioSelect)

    @staticmethod
    def _row(names):
        return Row(*(Column(n, css_class="col-md") for n in names))

    def to_contract(self) -> dict:
        """The answers under the contract's names, exactly as typed."""
        data = self.cleaned_data
        contract_data: dict = {}
        for key, item in INPUTS.items():
            if item.kind is InputKind.SERIES:
                contract_data[key] = self.series.measurements() if self.series else []
            elif item.is_lab:
                contract_data[key] = _lab_contract(item, data)
            elif item.kind is InputKind.ANSWER:
                contract_data[key] = ANSWER_WORDS.get(data.get(key))
            else:
                value = data.get(key)
                contract_data[key] = value if value not in ("", None) else None
        if data.get(CONFIRM_KEY):
            contract_data[CONFIRM_KEY] = list(data[CONFIRM_KEY])
        return contract_data

    def add_problems(self, error: contract.CandidateError) -> None:
        """Put the parser's problems on the fields the registry names."""
        for path, problems in error.problems.items():
            item, index, part = input_for_path(path)
            errors = [
                forms.ValidationError(problem_text(p), code=p["code"]) for p in problems
            ]
            for p in problems:
                if p["code"] == "unusual":
                    params = p["params"]
                    self.unusual.append(
                        contract.Unusual(
                            params.get("input", ""),
                            path,
                            params.get("value", ""),
                            params.get("unit", ""),
                        )
                    )
            target, name = self, None
            if item is not None and item.kind is InputKind.SERIES:
                # The parser numbers the filled rows: blank rows are not sent.
                rows = getattr(self.series, "measured_forms", []) if self.series else []
                if index is not None and index < len(rows):
                    target, name = rows[index], part.value or "value"
            elif item is not None:
                name = field_name(item, part)
            if name in target.fields:
                for e in errors:
                    target.add_error(name, e)
            if target is not self or name not in self.fields:
                label = field_label(path)
                self.add_error(
                    None,
                    forms.ValidationError(
                        f"{label}: {'; '.join(e.message for e in errors)}",
                        code=problems[0]["code"],
                    ),
                )
        if self.unusual:
            self.helper.layout = self._layout()


def _lab_contract(item: Input, data: dict):
    parts = {
        (part.value or "value"): (data.get(field_name(item, part)) or "").strip()
        for part in (*item.parts, Part.STATUS)
    }
    given = {k: v for k, v in parts.items() if v}
    if item.kind is InputKind.QUANTITY and set(given) <= {"unit"}:
        return None
    if not given:
        return None
    if set(given) == {"value"} and item.kind is InputKind.NUMBER:
        return given["value"]
    # A quantity's value without its unit: a quantity of one unit has it;
    # otherwise it goes as it is and the contract refuses it next to the unit
    # field ("the unit is required"), never assuming the first option.
    if (
        item.kind is InputKind.QUANTITY
        and len(item.units) == 1
        and "unit" not in given
        and "value" in given
    ):
        given["unit"] = item.canonical_unit
    return given


def initial_from_contract(entered: dict) -> tuple[dict, list[dict]]:
    """Form and series initial values from a recorded or uploaded contract dict.

    Only what the form can show is taken; a malformed value (a crafted
    pre-fill) is left out rather than breaking the form.
    """
    initial: dict = {}
    series: list[dict] = []
    if not isinstance(entered, dict):
        return initial, series
    for key, item in INPUTS.items():
        value = entered.get(key)
        if value is None:
            continue
        if item.kind is InputKind.SERIES:
            if isinstance(value, list):
                series = [
                    {
                        "time": _local_input(m.get("time")),
                        "value": _cell(m.get("value")),
                        "unit": _unit_cell(m.get("unit")),
                    }
                    for m in value[:MAX_SERIES]
                    if isinstance(m, dict)
                ]
        elif item.is_lab:
            parts = value if isinstance(value, dict) else {"value": value}
            for part in (*item.parts, Part.STATUS):
                cell = parts.get(part.value or "value")
                if cell is not None and not isinstance(cell, dict | list):
                    text = _cell(cell)
                    if part is Part.TIME:
                        text = _local_input(text)
                    if part is Part.UNIT:
                        text = _unit_cell(cell)
                    if part is Part.VALUE and parts.get("comparator"):
                        text = parts["comparator"] + text
                    initial[field_name(item, part)] = text
        elif item.kind is InputKind.ANSWER:
            try:
                answer = contract.parse_answer(value)
            except ValueError:
                continue
            if answer is not None:
                initial[key] = {True: "yes", False: "no"}.get(answer, answer)
        elif item.kind is InputKind.DATE:
            # A file may say 1980/5/17: a date input shows only ISO dates.
            try:
                initial[key] = contract.parse_date(value).isoformat()
            except contract.Problem:
                if isinstance(value, str):
                    initial[key] = value[:64]
        elif item.kind is InputKind.CHOICE:
            # A file may say "中期" or "Ⅱ级": the form offers the option itself.
            chosen = contract.choice_option(key, value)
            if chosen is None and isinstance(value, str | int):
                chosen = str(value)
            if chosen is not None:
                initial[key] = chosen
        elif isinstance(value, str | int) and not isinstance(value, bool):
            initial[key] = str(value)
    if isinstance(entered.get(CONFIRM_KEY), list):
        initial[CONFIRM_KEY] = [
            k for k in entered[CONFIRM_KEY] if isinstance(k, str) and k in INPUTS
        ]
    return initial, series


def post_data_from_contract(entered: dict) -> dict[str, str]:
    """What a browser posts for a contract candidate: the form's fields as text.

    The one builder of valid form data, shared by tests and benchmarks.
    """
    initial, series = initial_from_contract(entered)
    data: dict[str, str] = {}
    for item in INPUTS.values():
        if item.kind is InputKind.SERIES:
            continue
        parts = (*item.parts, Part.STATUS) if item.is_lab else (Part.VALUE,)
        for part in parts:
            name = field_name(item, part)
            data[name] = initial.get(name, "")
        if Part.UNIT in item.parts and not data[field_name(item, Part.UNIT)]:
            data[field_name(item, Part.UNIT)] = item.canonical_unit
    for name in ("time", "value", "unit"):
        data.update(
            {f"series-{i}-{name}": row[name] or "" for i, row in enumerate(series)}
        )
    data.update(
        {
            "series-TOTAL_FORMS": str(max(len(series), 1)),
            "series-INITIAL_FORMS": "0",
            "series-MIN_NUM_FORMS": "0",
            "series-MAX_NUM_FORMS": str(MAX_SERIES),
        }
    )
    confirmed = initial.get(CONFIRM_KEY)
    if confirmed:
        data[CONFIRM_KEY] = confirmed
    return data


def _cell(value) -> str:
    if isinstance(value, bool):
        return ""
    return "" if value is None else str(value)[:64]


def _unit_cell(unit) -> str:
    """A unit as the select's option: labs print the micro sign, "umol/L"."""
    text = _cell(unit)
    return units.UNIT_ALIASES.get(text, text)


def _local_input(moment) -> str:
    """An ISO date-time as a datetime-local input shows it, in the site's zone."""
    if not isinstance(moment, str):
        return ""
    try:
        parsed = contract.parse_datetime(moment, timezone.get_current_timezone())
    except ValueError:
        return moment[:64]
    local = timezone.localtime(parsed).replace(tzinfo=None)
    if local.microsecond:
        return local.isoformat(timespec="microseconds").rstrip("0")
    if local.second:
        return local.isoformat(timespec="seconds")
    return local.isoformat(timespec="minutes")


# A datetime-local input steps by the minute: one reopened with seconds would
# be refused by the browser, or have them dropped.
_MINUTE_TEXT = len("2026-06-01T08:00")


def _keep_seconds(form: forms.Form) -> None:
    """Let each time field that holds seconds keep them (``step="any"``)."""
    for name, field in form.fields.items():
        if getattr(field.widget, "input_type", "") != "datetime-local":
            continue
        if form.is_bound:
            value = form.data.get(form.add_prefix(name))
        else:
            value = form.initial.get(name)
        if isinstance(value, str) and len(value.strip()) > _MINUTE_TEXT:
            field.widget.attrs["step"] = "any"


class SignatureForm(forms.Form):
    meaning = forms.ChoiceField(
        label=_("Meaning of this signature"),
        choices=Signature.Meaning.choices,
        widget=forms.RadioSelect,
        # Nothing chosen for the signer: the meaning is theirs to choose.
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
