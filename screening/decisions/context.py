"""What the record page shows: its rows, styles and the values as entered."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, timezone
from django.utils.translation import get_language, gettext

from accounts.scope import SCREEN, SIGN, VIEW, scope_for
from screening.assessment import assess, site_zone
from screening.common.words import (
    ANSWER_TEXT,
    STATUS_WORDS,
    UNIT_LABELS,
    WORDS,
    condition_text,
    input_label,
)
from screening.criteria import criteria_from_snapshot
from screening.decisions import enrolment as enrolments
from screening.decisions import selectors
from screening.domain.contract import parse_datetime
from screening.domain.engine import (
    format_number,
)
from screening.domain.inputs import (
    CONFIRM_KEY,
    INPUTS,
    SECTION_TITLES,
    InputKind,
)
from screening.domain.margins import ConditionMargin, entered_units, margins
from screening.domain.variables import VARIABLES
from screening.models import EligibilityDecision, Enrolment
from trials.models import CriteriaVersion
from trials.services import version_active

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


# --- How close: each value's distance to its threshold (information only) ---------

# The margin of a record without a version: the versions' default.
DEFAULT_MARGIN = CriteriaVersion._meta.get_field("near_miss_margin_percent").default
_TENTH = Decimal("0.1")


def record_margins(
    record: EligibilityDecision, *, now: datetime
) -> tuple[ConditionMargin, ...]:
    """How close each of the record's numeric values is to its threshold.

    The record's entered values go through the one pipeline against the
    criteria of its snapshot, as of its recording time; nothing is saved and
    the record's outcome is what it is. Nothing is shown when that evaluation
    no longer gives the record's own decision (a record the parser or engine
    now reads differently), or when the record cannot be read again.
    Needs ``entered``, the criteria (``criteria_snapshot`` and ``snapshot``:
    ``criteria_as_evaluated``), ``recorded_at``, ``outcome``,
    ``blocking_codes``, ``unknown_codes`` and the criteria version's margin.
    """
    zone = site_zone()
    try:
        assessment = assess(
            data=record.entered,
            criteria=criteria_from_snapshot(record.criteria_as_evaluated or []),
            today=timezone.localdate(record.recorded_at, zone),
            now=record.recorded_at,
        )
    except (ValueError, KeyError, TypeError):
        return ()
    evaluation = assessment.evaluation
    if (
        evaluation.decision.value != record.outcome
        or list(evaluation.blocking) != list(record.blocking_codes)
        or list(evaluation.unknown) != list(record.unknown_codes)
    ):
        return ()
    version = record.criteria_version
    margin = version.near_miss_margin_percent if version else DEFAULT_MARGIN
    return margins(
        evaluation,
        assessment.derived.facts,
        margin_percent=margin,
        now=now,
        shown_units=entered_units(assessment.candidate),
    )


def _unit_text(unit: str) -> str:
    return str(UNIT_LABELS.get(unit) or WORDS.get(unit) or unit)


def _with_unit(value: Decimal, unit: str) -> str:
    shown = format_number(value)
    return f"{shown} {_unit_text(unit)}" if unit else shown


def margin_text(margin: ConditionMargin) -> str:
    """One margin in the page's language: "CRP 9.2 mg/L: 0.8 below 10 (8 %)"."""
    params = {
        "label": gettext(VARIABLES[margin.variable].label),
        "value": _with_unit(margin.value, margin.unit),
        "distance": format_number(abs(margin.distance)),
        "threshold": format_number(margin.threshold),
    }
    if margin.distance == 0:
        return gettext("%(label)s %(value)s: at %(threshold)s") % params
    if margin.distance < 0:
        text = gettext("%(label)s %(value)s: %(distance)s below %(threshold)s")
    else:
        text = gettext("%(label)s %(value)s: %(distance)s above %(threshold)s")
    text %= params
    if margin.percent is not None:
        percent = abs(margin.percent).quantize(_TENTH, rounding=ROUND_HALF_UP)
        # No line break between the number and its sign.
        text += " (" + format_number(percent) + "\u00a0%)"
    return text


def projection_text(margin: ConditionMargin) -> str:
    """A TBil projection in the page's language, the moment in the site's zone.

    "+17.1/day: reaches 171 in about 14 h; re-screen after 06-03 10:00".
    """
    projection = margin.projection
    if projection is None:
        return ""
    params = {
        "rise": format_number(projection.rise_per_day),
        "threshold": format_number(projection.threshold),
        "moment": projection.at.astimezone(site_zone()).strftime("%m-%d %H:%M"),
    }
    if projection.hours_from_now <= 0:
        return (
            gettext(
                "+%(rise)s/day: would have reached %(threshold)s by %(moment)s; "
                "re-screen now"
            )
            % params
        )
    hours = projection.hours_from_now.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    params["hours"] = format_number(max(hours, Decimal(1)))
    return (
        gettext(
            "+%(rise)s/day: reaches %(threshold)s in about %(hours)s h; "
            "re-screen after %(moment)s"
        )
        % params
    )


def how_close_rows(found: tuple[ConditionMargin, ...], *, only_notable=False) -> list:
    """Rows to show: criterion code, distance text, near miss, projection text.

    ``only_notable``: near misses and projections only (the worklist's line).
    """
    return [
        {
            "code": m.code,
            "variable": m.variable,
            "text": margin_text(m),
            "near_miss": m.near_miss,
            "projection": projection_text(m),
        }
        for m in found
        if not only_notable or m.near_miss or m.projection is not None
    ]


def _newer_version(record: EligibilityDecision):
    """The version in force, when the record was decided under an older one."""
    active = version_active(trial=record.trial)
    if active is None or record.criteria_version_id in (None, active.pk):
        return None
    return active


def decision_view_context(request, record: EligibilityDecision) -> dict:
    snapshot = {entry["code"]: entry for entry in record.criteria_as_evaluated}
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
    superseded_by = selectors.decision_superseded_by(decision=record)
    scope = scope_for(request.user)
    # The candidate's enrolment, made from this record or an earlier one.
    enrolment = (
        Enrolment.objects.visible_to(scope, VIEW)
        .filter(trial_id=record.trial_id, screening_number=record.screening_number)
        .select_related("recorded_by", "decision")
        .first()
    )
    return {
        "enrolment": enrolment,
        "can_enrol": enrolments.can_enrol(
            decision=record,
            signature=signature,
            superseded_by=superseded_by,
            enrolment=enrolment,
            scope=scope,
        ),
        "enrolment_form": enrolments.EnrolmentForm(),
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
        "override_style": OUTCOME_STYLE.get(
            signature.override_outcome if signature else "", "secondary"
        ),
        "superseded_by": superseded_by,
        "newer_version": _newer_version(record),
        "can_sign": signature is None
        and superseded_by is None
        and record.recorded_by_id != request.user.pk
        and scope.can(SIGN, record.trial_id, record.site_id),
        "can_correct": scope.can(SCREEN, record.trial_id, record.site_id),
        "variables": VARIABLES,
        "how_close": how_close_rows(record_margins(record, now=timezone.now())),
        "near_miss_margin": format_number(
            record.criteria_version.near_miss_margin_percent
            if record.criteria_version
            else DEFAULT_MARGIN
        )
        + "\u00a0%",
        "entered_rows": entered_rows(
            record.entered,
            record.entered.get(CONFIRM_KEY) or (),
            record.normalised,
        ),
    }
