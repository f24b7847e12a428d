"""The screening logs to hand over, as rows in the page's language.

Two kinds of log, each a list of columns over the same facts of a record:

- the subject screening log (ICH E6; 受试者筛选入选表 on a Chinese page): one
  line per candidate, their latest record, in screening order;
- every record of the log, with the page's filter and sort.

Every row shows the decision that counts (the investigator's own where they
disagreed, else the engine's) with the engine's beside it, the reasons in the
wording of the criteria version the record was decided under, the lab values
the criteria compared (with units), MELD, the consent's date and form version,
the correction and disagreement reasons, the criteria version and the
candidate's enrolment. Headers, decision words, reasons and dates follow the
active language. Cells are text, a number (MELD, age) or None (empty).

The selector fetches every related row up front: one query for the records
(enrolment and consent as annotations) and one for their criterion outcomes per
chunk of records.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.names import display_name, signed_name, signer_name
from accounts.scope import Scope
from screening.common.words import UNIT_LABELS, WORDS
from screening.domain.inputs import INPUTS, InputKind, Section
from screening.domain.variables import VARIABLES, Kind
from screening.models import CriterionOutcome, EligibilityDecision, Enrolment, Signature
from screening.reports import selectors
from trials.models import Trial

Result = EligibilityDecision.Result

CHUNK = 500

# Variables the log shows as lab values: numbers read from laboratory inputs
# (and the TBil series). Age, the HE grade and MELD (a column of its own, also
# computed from a checklist answer) are not lab values.
LAB_VARIABLES = frozenset(
    name
    for name, variable in VARIABLES.items()
    if variable.kind is Kind.NUMBER
    and variable.inputs
    and all(
        key in INPUTS and (INPUTS[key].is_lab or INPUTS[key].kind is InputKind.SERIES)
        for key in variable.inputs
    )
)


# Information on the record (type and cause of liver failure): the registry's
# inputs of the liver failure diagnosis section, in its order, each shown by its
# option's label.
DIAGNOSIS_INPUTS = tuple(
    key for key, item in INPUTS.items() if item.section is Section.DIAGNOSIS
)


@dataclass(frozen=True, slots=True)
class LogKind:
    """One kind of log: its columns, title, file name and which records it lists."""

    name: str
    title: Promise
    file_stem: str
    columns: tuple[tuple[str, Promise], ...]
    # One line per candidate (the latest record), in screening order.
    latest_only: bool
    # Prefix of the format logged for each export ("" for the records log, as
    # its exports were logged before the screening log existed).
    format_prefix: str


SCREENING_LOG = LogKind(
    name="screening-log",
    title=_("Subject screening log"),
    file_stem="subject-screening-log",
    columns=(
        ("screening_number", _("Subject number")),
        ("initials", _("Initials")),
        ("consent_date", _("Date of informed consent")),
        ("consent_form_version", _("Consent form version")),
        ("screening_date", _("Screening date")),
        ("decision", _("Screening result")),
        ("engine_decision", _("Engine's decision")),
        ("failure_reason", _("Reason for screen failure")),
        ("meld", _("MELD")),
        ("lab_values", _("Deciding lab values")),
        *((key, _(INPUTS[key].label)) for key in DIAGNOSIS_INPUTS),
        ("correction_reason", _("Reason for correction")),
        ("disagreement_reason", _("Reason for disagreement")),
        ("criteria_version", _("Criteria version")),
        ("enrolled_on", _("Enrolment date")),
        ("randomisation_number", _("Randomisation number")),
        ("investigator_signature", _("Investigator signature")),
    ),
    latest_only=True,
    format_prefix="screening-log-",
)

RECORDS_LOG = LogKind(
    name="records",
    title=_("Screening records"),
    file_stem="screening-log",
    columns=(
        ("screening_number", _("Screening number")),
        ("initials", _("Initials")),
        ("sex", _("Sex")),
        ("age", _("Age")),
        ("screening_date", _("Screening date")),
        ("decision", _("Decision that counts")),
        ("engine_decision", _("Engine's decision")),
        ("blocking", _("Blocking criteria")),
        ("meld", _("MELD")),
        ("lab_values", _("Deciding lab values")),
        *((key, _(INPUTS[key].label)) for key in DIAGNOSIS_INPUTS),
        ("consent_date", _("Date of informed consent")),
        ("consent_form_version", _("Consent form version")),
        ("screened_by", _("Screened by")),
        ("recorded_at", _("Recorded at")),
        ("signed_by", _("Signed by")),
        ("signed_at", _("Signed at")),
        ("signature_meaning", _("Signature meaning")),
        ("disagreement_reason", _("Reason for disagreement")),
        ("sequence", _("Sequence")),
        ("supersedes", _("Corrects sequence")),
        ("superseded_by", _("Corrected by sequence")),
        ("correction_reason", _("Reason for correction")),
        ("criteria_version", _("Criteria version")),
        ("enrolled_on", _("Enrolment date")),
        ("randomisation_number", _("Randomisation number")),
    ),
    latest_only=False,
    format_prefix="",
)

LOG_KINDS = {kind.name: kind for kind in (SCREENING_LOG, RECORDS_LOG)}


# --- Selector -----------------------------------------------------------------


def filters_for(kind: LogKind, filters: selectors.LogFilter) -> selectors.LogFilter:
    """The filter a log applies: the screening log takes each candidate's latest
    record and its own order (screening date), whatever the page's sort."""
    if kind.latest_only:
        return replace(filters, current_only=True, sort="")
    return filters


def log_decisions(
    *, scope: Scope, trial: Trial, filters: selectors.LogFilter, kind: LogKind
) -> QuerySet[EligibilityDecision]:
    """The records a log lists, scoped and filtered, with every related row.

    The screening log lists each candidate's latest record, in screening order;
    the records log every record the filter keeps, in its sort.
    """
    filters = filters_for(kind, filters)
    enrolment = Enrolment.unscoped.filter(
        trial_id=OuterRef("trial_id"), screening_number=OuterRef("screening_number")
    )
    qs = (
        selectors.decision_log(scope=scope, trial=trial, filters=filters)
        .defer("computed")
        .annotate(
            # Only the consent's two keys, not the whole normalised document.
            export_consent_date=KT("normalised__consent_date"),
            export_consent_form_version=KT("normalised__consent_form_version"),
            # As JSON values (a JSON null is None, not the text "null").
            **{f"export_{key}": F(f"normalised__{key}") for key in DIAGNOSIS_INPUTS},
            export_supersedes_sequence=F("supersedes__sequence"),
            # The candidate's enrolment (made from this record or an earlier
            # one: the same trial and site as the visible record).
            export_enrolled_on=Subquery(enrolment.values("enrolled_on")[:1]),
            export_randomisation_number=Subquery(
                enrolment.values("randomisation_number")[:1]
            ),
        )
        .prefetch_related(
            Prefetch(
                "outcomes",
                queryset=CriterionOutcome.objects.select_related("criterion")
                .only(
                    "decision_id",
                    "position",
                    "code",
                    "blocking",
                    "details",
                    "criterion__text",
                    "criterion__text_zh_hans",
                )
                .order_by("position"),
                to_attr="export_outcomes",
            )
        )
    )
    if kind.latest_only:
        qs = qs.order_by("screening_date", "screening_number", "id")
    return qs


# --- Rows ---------------------------------------------------------------------


def log_rows(
    decisions: QuerySet[EligibilityDecision], kind: LogKind, *, language: str
) -> Iterator[list]:
    """The header, then one row per record, in ``language``.

    A streamed response is read after its view returned: the rows name their
    language rather than rely on the one active then.
    """
    keys = [key for key, _header in kind.columns]
    with translation.override(language):
        yield [str(header) for _key, header in kind.columns]
        for decision in decisions.iterator(chunk_size=CHUNK):
            cells = record_cells(decision, language=language)
            yield [cells[key] for key in keys]


def record_cells(d: EligibilityDecision, *, language: str) -> dict[str, object]:
    """Every fact a log may show of one record, keyed by column.

    People are named as the pages name them in ``language`` (accounts/names.py):
    the Chinese name on a Chinese log, a signature as signed beside it.
    """
    signature: Signature | None = getattr(d, "signature", None)
    successor = getattr(d, "superseded_by", None)
    effective = (
        signature.override_outcome
        if signature and signature.override_outcome
        else d.outcome
    )
    outcomes = d.export_outcomes
    blocking = "; ".join(_criterion_text(o) for o in outcomes if o.blocking)
    disagreement = (
        signature.reason
        if signature and signature.meaning == Signature.Meaning.DISAGREE
        else ""
    )
    if effective == Result.INELIGIBLE:
        # The investigator's own "ineligible" over the engine's has no blocking
        # criterion: their reason is the reason.
        failure_reason = blocking or disagreement
    else:
        failure_reason = ""
    version = d.criteria_version
    return {
        "screening_number": d.screening_number,
        "initials": d.initials,
        "sex": str(EligibilityDecision.Sex(d.sex).label) if d.sex else "",
        "age": d.age_years,
        "screening_date": _date_text(d.screening_date),
        "decision": _result_text(effective),
        "engine_decision": _result_text(d.outcome),
        "blocking": blocking,
        "failure_reason": failure_reason,
        "meld": d.meld,
        "lab_values": lab_values_text(outcomes),
        **{
            key: _option_text(key, getattr(d, f"export_{key}"))
            for key in DIAGNOSIS_INPUTS
        },
        "consent_date": _date_text(d.export_consent_date),
        "consent_form_version": d.export_consent_form_version or "",
        "screened_by": display_name(d.recorded_by, language),
        "recorded_at": _moment_text(d.recorded_at),
        "signed_by": signer_name(signature, language),
        "signed_at": _moment_text(signature.signed_at) if signature else "",
        "signature_meaning": str(Signature.Meaning(signature.meaning).label)
        if signature
        else "",
        "disagreement_reason": disagreement,
        "investigator_signature": (
            f"{signed_name(signature, language)} "
            f"{_date_text(timezone.localtime(signature.signed_at).date())}"
            if signature
            else ""
        ),
        "sequence": d.sequence,
        "supersedes": d.export_supersedes_sequence,
        "superseded_by": successor.sequence if successor else None,
        "correction_reason": d.supersede_reason,
        "criteria_version": (
            f"v{version.number} {version.localized_label}".strip() if version else ""
        ),
        "enrolled_on": _date_text(d.export_enrolled_on),
        "randomisation_number": d.export_randomisation_number or "",
    }


def lab_values_text(outcomes: list[CriterionOutcome]) -> str:
    """The lab values the criteria compared, each once, with its unit."""
    shown: dict[str, str] = {}
    for outcome in outcomes:
        for detail in outcome.details:
            name, value = detail.get("variable"), detail.get("value")
            if name in LAB_VARIABLES and value and name not in shown:
                label = gettext(VARIABLES[name].label)
                shown[name] = f"{label} {_with_unit(value)}"
    return "; ".join(shown.values())


def _with_unit(value: str) -> str:
    number, _sep, unit = value.partition(" ")
    if not unit:
        return number
    return f"{number} {UNIT_LABELS.get(unit) or WORDS.get(unit) or unit}"


def _option_text(key: str, value: str | None) -> str:
    """A choice input's stored code as its option's label ("" when not given)."""
    if not value:
        return ""
    value = str(value)
    labels = {o.value: o.label for o in INPUTS[key].options}
    return gettext(labels[value]) if value in labels else value


def _criterion_text(outcome: CriterionOutcome) -> str:
    # The wording of the version the record was decided under.
    return f"{outcome.code} {outcome.criterion.localized_text}".strip()


def _result_text(value: str) -> str:
    return str(Result(value).label) if value in Result.values else value


def _date_text(value: date | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _moment_text(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
