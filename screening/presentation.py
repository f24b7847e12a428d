"""What pages show: filter forms and display rows. No clinical logic here."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from screening.domain.candidate import parse_datetime
from screening.domain.inputs import (
    CONFIRM_KEY,
    INPUTS,
    NOT_DONE,
    PART_LABELS,
    PENDING,
    SECTION_TITLES,
    InputKind,
    Part,
    input_for_path,
)
from screening.domain.variables import VARIABLES

from . import selectors
from .models import EligibilityDecision

UNIT_LABELS = {
    "umol/L": _("μmol/L"),
    "mg/dL": _("mg/dL"),
    "g/L": _("g/L"),
    "g/dL": _("g/dL"),
    "mg/L": _("mg/L"),
    "ng/mL": _("ng/mL"),
    "pg/mL": _("pg/mL"),
    "mmol/L": _("mmol/L"),
    "%": "%",
}
STATUS_WORDS = {PENDING: _("pending"), NOT_DONE: _("not done")}
ANSWER_TEXT = {True: _("Yes"), False: _("No"), PENDING: _("Pending")}
# A "to collect" entry that is not an input of its own.
_COLLECT_EXTRA = {
    "tbil_series (12 h apart)": _("TBil measurements at least 12 hours apart"),
}
WORDS = {
    "yes": _("yes"),
    "no": _("no"),
    "early": _("early"),
    "intermediate": _("intermediate"),
    "late": _("late"),
    "none": _("not liver failure"),
    "lab ULN": _("lab upper limit of normal"),
    "default ULN": _("default upper limit of normal"),
    "years": _("years"),
    "umol/L": _("μmol/L"),
    "umol/L/day": _("μmol/L/day"),
    "pending": _("pending"),
    "not done": _("not done"),
}
# What a censored value is to its threshold (engine.CENSORED_RELATIONS).
CENSORED_WORDS = {
    relation: word
    for relation, word in (
        ("above", _("above")),
        ("not above", _("not above")),
        ("cannot tell if above", _("cannot tell if above")),
        ("at or above", _("at or above")),
        ("not at or above", _("not at or above")),
        ("cannot tell if at or above", _("cannot tell if at or above")),
        ("below", _("below")),
        ("not below", _("not below")),
        ("cannot tell if below", _("cannot tell if below")),
        ("at or below", _("at or below")),
        ("not at or below", _("not at or below")),
        ("cannot tell if at or below", _("cannot tell if at or below")),
        ("within", _("within")),
        ("outside", _("outside")),
        ("cannot tell if within", _("cannot tell if within")),
    )
}


def _word(text: str) -> str:
    return str(WORDS.get(text, text))


def _translated_units(value: str) -> str:
    number, _sep, unit = value.partition(" ")
    return f"{number} {_word(unit)}" if unit else number


def condition_text(detail: dict) -> str:
    """One condition's reason in the page's language, from its stored parts."""
    variable = VARIABLES.get(detail.get("variable"))
    label = gettext(variable.label) if variable else str(detail.get("variable"))
    relation = detail.get("relation", "")
    params = {
        "label": label,
        "value": _translated_units(detail.get("value", "")),
        "relation": relation,
        "threshold": detail.get("threshold", ""),
        "bounds": detail.get("bounds", ""),
    }
    if relation == "unknown":
        text = _("%(label)s: not available") % params
    elif relation in ("pending", "not done"):
        text = _("%(label)s: %(status)s") % {**params, "status": _word(relation)}
    elif relation in CENSORED_WORDS and detail.get("value", "")[:1] in "<>":
        params["relation"] = CENSORED_WORDS[relation]
        text = _("%(label)s %(value)s, %(relation)s %(threshold)s") % params
    elif relation == ":":
        params["value"] = _word(detail.get("value", ""))
        text = _("%(label)s: %(value)s") % params
    elif relation in ("in", "not in"):
        params["value"] = _word(detail.get("value", ""))
        params["threshold"] = ", ".join(
            _word(v.strip()) for v in detail.get("threshold", "").split(",")
        )
        template = (
            _("%(label)s %(value)s is one of %(threshold)s")
            if relation == "in"
            else _("%(label)s %(value)s is not one of %(threshold)s")
        )
        text = template % params
    elif relation == "within":
        text = _("%(label)s %(value)s within %(bounds)s") % params
    elif detail.get("bounds"):
        text = _(
            "%(label)s %(value)s %(relation)s %(threshold)s (outside %(bounds)s)"
        ) % (params)
    else:
        text = "{label} {value} {relation} {threshold}".format(**params)
    if detail.get("source"):
        text = _("%(text)s (%(source)s)") % {
            "text": text,
            "source": _word(detail["source"]),
        }
    if detail.get("note"):
        text += f" ({detail['note']})"
    return text


PROBLEM_TEXT = {
    "number_not_bool": _("expected a number, not true/false"),
    "number_expected": _("expected a number"),
    "number_invalid": _("not a number: %(text)s (use digits and a dot)"),
    "number_not_finite": _("not a finite number"),
    "bool_invalid": _("expected yes, no or pending"),
    "date_invalid": _("expected a date as YYYY-MM-DD"),
    "datetime_invalid": _("expected a date and time as YYYY-MM-DD HH:MM"),
    "year_implausible": _("implausible year %(year)s"),
    "implausible": _("implausible: must be between %(low)s and %(high)s %(unit)s"),
    "implausible_no_unit": _("implausible: must be between %(low)s and %(high)s"),
    "object_expected": _("expected a value with its unit"),
    "value_required": _("a value is required"),
    "unit_required": _("the unit is required"),
    "unit_unknown": _("unknown unit (accepted: %(accepted)s)"),
    "uln_not_positive": _("the upper limit of normal must be above 0"),
    "choice_invalid": _("expected one of %(options)s"),
    "screening_number_format": _("expected the site's format, for example 01-001"),
    "initials_format": _("expected 1 to 4 letters A-Z"),
    "series_not_list": _("expected a list of timed measurements"),
    "series_too_long": _("at most %(max)s measurements"),
    "series_item_incomplete": _("each measurement needs a time, a value and a unit"),
    "candidate_not_object": _("expected one candidate per row"),
    "he_grade_invalid": _("expected a West Haven grade 0 to 4"),
    "screening_date_future": _("the screening date is in the future"),
    "date_of_birth_future": _("the date of birth is in the future"),
    "date_of_birth_after_screening": _("the date of birth is after the screening date"),
    "age_implausible": _("implausible: age over %(max)s years"),
    "measurement_future": _("the measurement time is in the future"),
    "series_after_current": _("an earlier measurement is later than the current TBil"),
    "number_comma": _("%(text)s: use a dot for decimals, no commas"),
    "text_expected": _("expected text"),
    "required": _("this is required"),
    "unknown_field": _("unknown field %(name)s"),
    "unknown_part": _("unknown part: %(parts)s"),
    "status_invalid": _("expected pending or not done"),
    "status_with_value": _("a value and a status cannot both be given"),
    "uln_not_accepted": _("no upper limit of normal is taken for this value"),
    "unusual": _("%(value)s %(unit)s is unusual: confirm or correct"),
    "tbil_conflict": _(
        "two different TBil values at the same time: %(first)s and %(second)s "
        "μmol/L (%(other)s)"
    ),
    "cell_count": _("this row has %(cells)s cells, the header has %(columns)s"),
    "cell_without_header": _("a value stands in a column without a header"),
}


def problem_text(problem: dict) -> str:
    """A contract problem ({"code", "params"}) in the page's language."""
    code = problem.get("code")
    if code == "implausible" and not problem.get("params", {}).get("unit"):
        code = "implausible_no_unit"
    template = PROBLEM_TEXT.get(code)
    if template is None:
        return problem.get("code", "")
    params = {k: _word(v) for k, v in problem.get("params", {}).items()}
    if "other" in params:
        params["other"] = field_label(params["other"])
    return str(template) % params


def field_label(path: str) -> str:
    """A contract field path ("tbil.unit", "tbil_series[1].time") in words."""
    item, index, part = input_for_path(path)
    if item is None:
        return gettext("row") if path == "row" else path
    label = gettext(item.collect)
    if index is not None:
        label += f" #{index + 1}"
    if part is not Part.VALUE:
        label += f" ({gettext(PART_LABELS[part]).lower()})"
    return label


OUTCOME_STYLE = {
    "ELIGIBLE": "success",
    "INELIGIBLE": "danger",
    "INCOMPLETE": "warning",
}


def _outcome_style(outcome) -> str:
    # Colour says good or bad for the candidate: an exclusion that is not met is
    # as good as an inclusion that is met.
    if outcome.outcome == "UNKNOWN":
        return "warning"
    return "danger" if outcome.blocking else "success"


def input_label(name: str) -> str:
    """An input's "to collect" words in the page's language."""
    item = INPUTS.get(name)
    if item is not None:
        return gettext(item.collect)
    return str(_COLLECT_EXTRA.get(name, name))


def _snapshot_text(entry: dict) -> str:
    if (get_language() or "").startswith("zh") and entry.get("text_zh_hans"):
        return entry["text_zh_hans"]
    return entry["text"]


def _moment_text(value) -> str:
    try:
        moment = parse_datetime(value, timezone.get_current_timezone())
    except ValueError:
        return str(value)
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _lab_text(item, value) -> tuple[str, str]:
    """(value with unit, details) of one lab input as it was entered."""
    parts = value if isinstance(value, dict) else {"value": value}
    status = parts.get("status")
    if status:
        return str(STATUS_WORDS.get(status, status)), ""
    unit = parts.get("unit") or item.canonical_unit
    shown = f"{parts.get('value', '')} {UNIT_LABELS.get(unit, unit)}".strip()
    details = []
    if parts.get("uln") not in (None, ""):
        details.append(gettext("lab upper limit %(uln)s") % {"uln": parts["uln"]})
    if parts.get("time"):
        details.append(
            gettext("collected %(time)s") % {"time": _moment_text(parts["time"])}
        )
    return shown, "; ".join(details)


def _read_as(item, entered, normalised) -> str:
    """How a lab value was read, when that differs from what was typed."""
    if not isinstance(normalised, dict | str):
        return ""
    typed = _lab_text(item, entered)[0]
    read = _lab_text(item, normalised)[0]
    if isinstance(normalised, dict) and normalised.get("comparator"):
        read = normalised["comparator"] + read
    if read == typed:
        return ""
    return gettext("read as %(value)s") % {"value": read}


def entered_rows(entered: dict, unusual=(), normalised=None) -> list[dict]:
    """Every input of the registry with what was entered, for reading back."""
    rows = []
    normalised = normalised if isinstance(normalised, dict) else {}
    for key, item in INPUTS.items():
        value = entered.get(key) if isinstance(entered, dict) else None
        shown, details = "—", ""
        if value not in (None, "", [], {}):
            if item.kind is InputKind.SERIES and isinstance(value, list):
                shown = "; ".join(
                    f"{_moment_text(m.get('time'))} {_lab_text(INPUTS['tbil'], m)[0]}"
                    for m in value
                    if isinstance(m, dict)
                )
            elif item.is_lab:
                shown, details = _lab_text(item, value)
                read_as = _read_as(item, value, normalised.get(key))
                details = "; ".join(d for d in (read_as, details) if d)
            elif item.kind is InputKind.ANSWER:
                shown = str(ANSWER_TEXT.get(value, value))
            elif item.kind is InputKind.CHOICE:
                labels = {o.value: gettext(o.label) for o in item.options}
                shown = labels.get(str(value), str(value))
            else:
                shown = str(value)
        rows.append(
            {
                "key": key,
                "section": gettext(SECTION_TITLES[item.section]),
                "label": gettext(item.label),
                "value": shown,
                "details": details,
                "unusual": key in unusual,
            }
        )
    return rows


def decision_view_context(request, record: EligibilityDecision) -> dict:
    snapshot = {entry["code"]: entry for entry in record.criteria_snapshot}
    rows = [
        {
            "outcome": outcome,
            "text": _snapshot_text(snapshot[outcome.code])
            if outcome.code in snapshot
            else outcome.criterion.text,
            "missing": [input_label(m) for m in outcome.missing],
            "reasons": [condition_text(d) for d in outcome.details] or [outcome.reason],
            "style": _outcome_style(outcome),
        }
        for outcome in record.outcomes.all()
    ]
    # An unsigned decision has no reverse one-to-one row: getattr gives None.
    signature = getattr(record, "signature", None)
    user = request.user
    return {
        "decision": record,
        "trial": record.trial,
        "rows": rows,
        "style": OUTCOME_STYLE[record.outcome],
        "to_collect": [input_label(m) for m in record.to_collect],
        "computed": record.computed,
        "signature": signature,
        "override_differs": bool(
            signature
            and signature.override_outcome
            and signature.override_outcome != record.outcome
        ),
        "superseded_by": selectors.decision_superseded_by(decision=record),
        "can_sign": signature is None
        and user.has_perm("screening.sign_eligibilitydecision"),
        "can_correct": user.has_perm("screening.add_eligibilitydecision"),
        "variables": VARIABLES,
        "entered_rows": entered_rows(
            record.entered,
            record.entered.get(CONFIRM_KEY) or (),
            record.normalised,
        ),
    }


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
    date_from = forms.DateField(
        label=_("Screened from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("Screened to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
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
        codes = trial.criteria.order_by("position").values_list("code", flat=True)
        self.fields["blocking"].choices = [("", _("Any"))] + [(c, c) for c in codes]
        users = (
            get_user_model()
            .objects.filter(groups__permissions__codename="add_eligibilitydecision")
            .distinct()
            .order_by("username")
        )
        self.fields["recorded_by"].choices = [("", _("Anyone"))] + [
            (u.pk, u.get_full_name() or u.get_username()) for u in users
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
