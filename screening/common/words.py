"""Words shared by the rooms: labels, reasons and problems in the page's language."""

from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from screening.domain.inputs import (
    INPUTS,
    NOT_DONE,
    PART_LABELS,
    PENDING,
    Part,
    input_for_path,
)
from screening.domain.variables import VARIABLES

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
    "s": pgettext_lazy("unit of time", "s"),
}


STATUS_WORDS = {PENDING: _("pending"), NOT_DONE: _("not done")}


ANSWER_TEXT = {True: _("Yes"), False: _("No"), PENDING: _("Pending")}


# A "to collect" entry that is not an input of its own.
_COLLECT_EXTRA = {
    "tbil_series (12 h apart)": _("TBil measurements at least 12 hours apart"),
    # A threshold relative to the laboratory's ULN needs the ULN ("crp_uln").
    **{
        item.column(Part.ULN): format_lazy(
            "{}: {}", _(item.collect), _("laboratory's upper limit of normal")
        )
        for item in INPUTS.values()
        if item.lab_uln
    },
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
    "protocol threshold": _("protocol's threshold"),
    "x lab ULN": _("multiple of the lab upper limit of normal"),
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
        ("equal to", _("equal to")),
        ("not equal to", _("not equal to")),
        ("cannot tell if equal to", _("cannot tell if equal to")),
    )
}


def _word(text: str) -> str:
    return str(WORDS.get(text, text))


def _translated_units(value: str) -> str:
    number, _sep, unit = value.partition(" ")
    if not unit:
        return number
    return f"{number} {UNIT_LABELS[unit] if unit in UNIT_LABELS else _word(unit)}"


def condition_text(detail: dict) -> str:
    """One condition's reason in the page's language, from its stored parts."""
    rich = rich_condition_text(detail)
    if rich is not None:
        return rich
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


# Relations of the richer conditions (engine: windows and ULN multiples).
RICH_RELATIONS = ("too old", "no screening time", "needs ULN")


def rich_condition_text(detail: dict) -> str | None:
    """A richer condition's reason in the page's language; None for the others.

    A value outside its lookback window, a window without a screening date, a
    threshold relative to a ULN that was not given, and a comparison with k x
    the lab's ULN (which names k and the ULN). ``condition_text`` gives every
    other reason; it calls this first.
    """
    relation = detail.get("relation", "")
    if relation not in RICH_RELATIONS and not detail.get("factor"):
        return None
    variable = VARIABLES.get(detail.get("variable"))
    params = {
        "label": gettext(variable.label) if variable else str(detail.get("variable")),
        "value": _translated_units(detail.get("value", "")),
        "collected": detail.get("collected", ""),
        "hours": detail.get("lookback_hours", ""),
        "factor": detail.get("factor", ""),
        "uln": detail.get("uln", ""),
    }
    if relation == "too old":
        text = _("%(label)s %(value)s collected %(collected)s, older than %(hours)s h")
    elif relation == "no screening time":
        text = _(
            "%(label)s %(value)s collected %(collected)s: no screening date to "
            "check the %(hours)s h window"
        )
    elif relation == "needs ULN":
        text = _(
            "%(label)s %(value)s: needs the laboratory's upper limit of normal "
            "(threshold %(factor)s × ULN)"
        )
    else:
        plain = {k: v for k, v in detail.items() if k not in ("factor", "source")}
        text = _("%(text)s (%(factor)s × lab upper limit of normal %(uln)s)")
        params["text"] = condition_text(plain)
        return str(text) % params
    text = str(text) % params
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
    "number_inexact": _("%(text)s: not exact as a JSON number; send it as text"),
    "number_too_precise": _("%(text)s: at most %(max)s significant digits"),
    "text_expected": _("expected text"),
    "required": _("this is required"),
    "consent_detail_required": _(
        "required when the written informed consent is signed"
    ),
    "consent_date_after_screening": _("the consent date is after the screening date"),
    "consent_date_before_birth": _("the consent date is before the date of birth"),
    "consent_form_version_format": _(
        "expected the version as printed on the form, at most %(max)s characters"
    ),
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
    "confirm_invalid": _("expected a list of input names"),
    "cell_count": _("this row has %(cells)s cells, the header has %(columns)s"),
    "cell_without_header": _(
        "a value stands in column %(column)s, which has no header"
    ),
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


def input_label(name: str) -> str:
    """An input's "to collect" words in the page's language."""
    item = INPUTS.get(name)
    if item is not None:
        return gettext(item.collect)
    return str(_COLLECT_EXTRA.get(name, name))
