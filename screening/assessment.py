"""The one assessment pipeline: parse, derive, evaluate against the active criteria.

The screening form, the pre-screening upload and the ``prescreen`` command (and
any later door) call these functions and nothing else to decide a candidate, so
each door reads the same data the same way and refuses a trial without active
criteria the same way.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from screening.criteria import CriteriaSet, criteria_current
from screening.domain import contract, facts
from screening.domain.engine import Evaluation, evaluate
from trials.models import Trial


class NoActiveCriteria(ValidationError):
    """A trial with no active criterion would make everyone eligible."""

    def __init__(self):
        super().__init__(
            _("This trial has no active criteria to screen against."),
            code="no_criteria",
        )


def site_zone() -> ZoneInfo:
    # Django's own, worked out once per TIME_ZONE (reading settings is not free).
    return timezone.get_default_timezone()


@dataclass(frozen=True, slots=True)
class Assessment:
    """A candidate evaluated against a trial's criteria, before anything is saved."""

    candidate: contract.Candidate
    derived: facts.Derived
    evaluation: Evaluation
    criteria: CriteriaSet


@dataclass(frozen=True, slots=True)
class RowAssessment:
    """One candidate of a file: its data, and an assessment or its problems."""

    row: int
    data: object
    assessment: Assessment | None = None
    error: contract.CandidateError | None = None


def computed_values(derived: facts.Derived) -> dict:
    """The computed values as recorded: numbers as exact strings."""
    rise = derived.tbil_rise

    def text(value):
        return None if value is None else str(value)

    return {
        "age_years": derived.age_years,
        "tbil_umol_l": text(derived.tbil_umol_l),
        "tbil_max_rise_per_day": text(rise.per_day) if rise else None,
        "tbil_rise_from": rise.start.time.isoformat() if rise else None,
        "tbil_rise_to": rise.end.time.isoformat() if rise else None,
        "meld": derived.meld,
        "meld_na": derived.meld_na,
        "meld_3": derived.meld_3,
    }


def active_criteria(*, trial: Trial) -> CriteriaSet:
    """The trial's active criteria; raises NoActiveCriteria when there are none."""
    criteria = criteria_current(trial=trial)
    if not criteria.specs:
        raise NoActiveCriteria
    return criteria


def assess(
    *,
    data,
    criteria: CriteriaSet,
    today: date,
    for_record: bool = False,
    now: datetime | None = None,
) -> Assessment:
    """Parse, derive and evaluate one candidate. Raises ``CandidateError``.

    ``for_record``: the data are to become an append-only record, so the inputs
    a record needs are required and unusual values must have been confirmed.
    """
    if not criteria.specs:
        raise NoActiveCriteria
    zone = site_zone()
    candidate = contract.parse_candidate(
        data,
        today=today,
        tz=zone,
        for_record=for_record,
        require_confirmation=for_record,
        now=now,
    )
    derived = facts.derive(candidate, tz=zone, now=now)
    evaluation = evaluate(
        criteria.specs, derived.facts, screening_time=derived.screening_time
    )
    return Assessment(candidate, derived, evaluation, criteria)


def assess_rows(
    records: Iterable, *, criteria: CriteriaSet, today: date
) -> Iterator[RowAssessment]:
    """Each candidate of a file in order; a malformed one gives its problems.

    A record may already be a ``CandidateError`` (a row the file reader could
    not turn into a candidate, such as one with a cell too many).
    """
    if not criteria.specs:
        raise NoActiveCriteria
    for row, data in enumerate(records, start=1):
        if isinstance(data, contract.CandidateError):
            yield RowAssessment(row, None, error=data)
            continue
        try:
            result = assess(data=data, criteria=criteria, today=today)
        except contract.CandidateError as exc:
            yield RowAssessment(row, data, error=exc)
        else:
            yield RowAssessment(row, data, assessment=result)
