"""From a laboratory's results to the registry's inputs, read by the contract.

The FHIR and LIS readers (``fhir.py``, ``lis.py``) give ``Result`` rows: the
test, value, unit, reference range and collection time as the message spells
them. ``read_results`` maps each test onto a registry input (LOINC code or
declared name), each unit onto an accepted one (UCUM codes through
``units.UCUM_UNITS``), and reads the value with the contract's own parser
(``contract.parse_candidate``), so a lab value reaches the engine exactly as a
typed one would: ``<0.05`` stays censored, full-width digits are digits, a
comma is refused. Every problem is collected, each naming where it is (bundle
entry or file line), what (code, unit, patient, value, time, ...) and a stable
code; nothing is guessed.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from django.utils.translation import gettext_lazy as _

from screening.common.words import problem_text
from screening.domain import contract, units
from screening.domain.inputs import Input, input_for_test

# Words for the problems this module raises (the contract's have their own).
PROBLEM_TEXT = {
    "code_unknown": _("unknown test %(code)s: not an input of the protocol"),
    "code_missing": _("no LOINC code or test name"),
    "unit_unknown": _("unknown unit %(unit)s for %(input)s (accepted: %(accepted)s)"),
    "unit_code_mismatch": _(
        "the unit %(unit)s does not fit the test %(code)s, which reports %(expected)s"
    ),
    "patient_missing": _("no patient identifier"),
    "patient_format": _(
        "unknown patient %(patient)s: not a screening number of this trial"
    ),
    "patient_unknown": _(
        "unknown patient %(patient)s: no screening is recorded for this number "
        "and the trial is closed"
    ),
    # Which site screens the patient is not said: it is outside the user's scope.
    "patient_other_site": _(
        "patient %(patient)s is not a candidate of a site where you may import"
    ),
    "value_missing": _("no value"),
    "value_not_quantity": _("the value is not a quantity (valueQuantity)"),
    "comparator_not_accepted": _("the comparator %(comparator)s is not accepted"),
    "time_missing": _("no collection time"),
    "status_not_final": _("result status %(status)s: only final results are imported"),
    "reference_range_invalid": _(
        "reference range %(range)s: expected low-high or an upper limit"
    ),
    "reference_unit_mismatch": _(
        "the reference range is in %(unit)s, the value in %(expected)s"
    ),
    "duplicate": _("the same test for the same patient at the same time twice"),
    "fhir_invalid": _("not a valid FHIR resource: %(detail)s"),
    "not_bundle": _("expected a FHIR Bundle, not %(type)s"),
    "not_json": _("not JSON: %(detail)s"),
    "empty": _("no results in the message"),
    "csv_invalid": _("not a readable CSV file: %(error)s"),
    "encoding": _(
        "line %(line)s: bytes that are neither UTF-8 nor GB18030 (save the file "
        "as UTF-8)"
    ),
    "header_unknown": _("unknown column %(column)s"),
    "header_missing": _("missing column %(column)s"),
    "header_duplicate": _("column %(column)s twice"),
    "row_length": _("%(count)s cells, expected %(expected)s"),
    "already_imported": _("this message was already imported (%(when)s)"),
    "too_large": _("the message is larger than %(limit)s bytes"),
}


PART_WORDS = {
    "patient": _("patient"),
    "test": _("test"),
    "value": _("value"),
    "unit": _("unit"),
    "uln": _("lab upper limit"),
    "reference range": _("reference range"),
    "time": _("collection time"),
    "status": _("status"),
}


@dataclass(frozen=True, slots=True)
class LabProblem:
    """One problem with one result: where, which part, a stable code, values."""

    where: str
    part: str
    code: str
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "where": self.where,
            "part": self.part,
            "code": self.code,
            "params": {k: str(v) for k, v in self.params.items()},
        }


def problem_words(problem: dict) -> str:
    """A problem in the page's language, prefixed by where and what it is."""
    template = PROBLEM_TEXT.get(problem["code"])
    params = problem.get("params", {})
    if template is not None:
        text = str(template) % {k: v for k, v in params.items()}
    else:
        text = problem_text(problem)
    where = problem.get("where") or ""
    if where.startswith("line "):
        where = str(_("line %(line)s")) % {"line": where[5:]}
    part = PART_WORDS.get(problem.get("part") or "")
    place = ", ".join(p for p in (where, str(part) if part else "") if p)
    return f"{place}: {text}" if place else text


class LabFileError(ValueError):
    """The message is refused; ``problems`` lists every reason (dicts)."""

    def __init__(self, problems: list[LabProblem]):
        self.problems = [p.as_dict() for p in problems]
        super().__init__("; ".join(f"{p.where} {p.part} {p.code}" for p in problems))

    def messages(self) -> list[str]:
        return [problem_words(p) for p in self.problems]


@dataclass(frozen=True, slots=True)
class Result:
    """One result as the message gives it (strings, or None when absent).

    ``unit`` is already a registry unit when ``unit_mapped`` (a UCUM code the
    FHIR reader mapped); otherwise it is the lab's spelling, which the
    contract reads (``µmol/L`` is ``umol/L``; nothing else is folded).
    """

    where: str
    position: int
    patient: str | None
    test: str | None
    value: str | None
    unit: str | None
    unit_mapped: bool = False
    uln: str | None = None
    uln_unit: str | None = None
    time: str | None = None
    comparator: str = ""
    problem: LabProblem | None = None


@dataclass(frozen=True, slots=True)
class ReadValue:
    """A result that fits the registry, in the contract's own form."""

    where: str
    position: int
    screening_number: str
    input: Input
    test: str
    value_text: str
    unit_text: str
    reference_high: str
    collected_at: datetime
    entry: dict
    normalised: object


def _blank(raw) -> bool:
    return raw is None or not str(raw).strip()


def _part(path: str) -> str:
    _key, _sep, part = path.partition(".")
    return part or "value"


def read_results(
    results: list[Result], *, tz: tzinfo, now: datetime
) -> tuple[list[ReadValue], list[LabProblem]]:
    """Each result read against the registry and the contract, with all problems."""
    values: list[ReadValue] = []
    problems: list[LabProblem] = []
    seen: set[tuple[str, str, datetime]] = set()
    if not results:
        problems.append(LabProblem("", "", "empty"))
    for result in results:
        found = _read_one(result, tz=tz, now=now)
        if isinstance(found, list):
            problems.extend(found)
            continue
        key = (found.screening_number, found.input.key, found.collected_at)
        if key in seen:
            problems.append(LabProblem(result.where, "test", "duplicate"))
            continue
        seen.add(key)
        values.append(found)
    return values, problems


def _read_one(result: Result, *, tz: tzinfo, now: datetime):
    where = result.where
    problems: list[LabProblem] = []
    if result.problem is not None:
        problems.append(result.problem)
    number = _screening_number(result, problems)
    item, implied_unit = None, ""
    test = (result.test or "").strip()
    if not test:
        problems.append(LabProblem(where, "test", "code_missing"))
    else:
        found = input_for_test(test)
        if found is None:
            problems.append(
                LabProblem(where, "test", "code_unknown", {"code": test[:64]})
            )
        else:
            item, implied_unit = found
    if item is None:
        return problems
    unit = _unit(item, result, implied_unit, test, problems)
    if _blank(result.value):
        problems.append(LabProblem(where, "value", "value_missing"))
    if _blank(result.time):
        problems.append(LabProblem(where, "time", "time_missing"))
    if result.uln and item.lab_uln and result.uln_unit is not None:
        if unit is not None and result.uln_unit != unit:
            problems.append(
                LabProblem(
                    where,
                    "reference range",
                    "reference_unit_mismatch",
                    {"unit": result.uln_unit or "-", "expected": unit or "-"},
                )
            )
    if problems:
        return problems
    entry: dict = {"value": f"{result.comparator}{result.value.strip()}"}
    if unit:
        entry["unit"] = unit
    if result.uln and item.lab_uln:
        entry["uln"] = result.uln
    entry["time"] = result.time.strip()
    try:
        candidate = contract.parse_candidate(
            {item.key: entry}, today=now.astimezone(tz).date(), tz=tz, now=now
        )
    except contract.CandidateError as exc:
        return [
            LabProblem(where, _part(path), p["code"], p["params"])
            for path, found in exc.problems.items()
            for p in found
        ]
    quantity = candidate.values[item.key]
    return ReadValue(
        where=where,
        position=result.position,
        screening_number=number,
        input=item,
        test=test[:64],
        value_text=entry["value"][:64],
        unit_text=(result.unit or "")[:32],
        reference_high=(result.uln or "")[:32],
        collected_at=quantity.time,
        entry=entry,
        normalised=contract.normalised(candidate)[item.key],
    )


def _screening_number(result: Result, problems: list[LabProblem]) -> str:
    raw = result.patient
    if _blank(raw):
        problems.append(LabProblem(result.where, "patient", "patient_missing"))
        return ""
    try:
        candidate = contract.parse_candidate(
            {"screening_number": raw}, today=None, tz=UTC
        )
    except contract.CandidateError:
        problems.append(
            LabProblem(result.where, "patient", "patient_format", {"patient": raw[:40]})
        )
        return ""
    return candidate.values["screening_number"]


def _unit(item: Input, result: Result, implied: str, test: str, problems) -> str | None:
    """The registry unit of the result, or None (a problem is added)."""
    accepted = item.units
    raw = (result.unit or "").strip()
    if result.unit_mapped:
        unit = raw
    elif not raw:
        # Blank: the unit the LOINC code implies, or the input's only unit.
        unit = implied or (accepted[0] if len(accepted) == 1 else "")
    else:
        unit = units.UNIT_ALIASES.get(raw, raw)
    if not (unit in accepted or (unit == "" and not accepted)):
        problems.append(
            LabProblem(
                result.where,
                "unit",
                "unit_unknown",
                {
                    "unit": raw[:32] or "-",
                    "input": item.key,
                    "accepted": ", ".join(accepted) or "-",
                },
            )
        )
        return None
    if implied and unit != implied:
        problems.append(
            LabProblem(
                result.where,
                "unit",
                "unit_code_mismatch",
                {"unit": unit, "code": test, "expected": implied},
            )
        )
        return None
    return unit
