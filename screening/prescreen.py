"""Pre-screening many candidates from a file: evaluated, reported, never recorded.

Used by the ``prescreen`` command and the bulk upload page. Rows stream through:
nothing holds the whole file's results at once.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date

from screening.domain import candidate as contract
from screening.domain.engine import Evaluation, evaluate
from screening.domain.variables import CHECKLIST_ITEMS

from .criteria import CriteriaSet
from .exports import spreadsheet_safe
from .services import computed_values, site_zone

QUANTITY_COLUMNS = {
    "tbil": ("tbil_unit", None, "tbil_time"),
    "creatinine": ("creatinine_unit", None, None),
    "albumin": ("albumin_unit", None, None),
    "il6": (None, "il6_uln", None),
    "tnf_alpha": (None, "tnf_alpha_uln", None),
    "crp": ("crp_unit", "crp_uln", None),
    "pct": (None, "pct_uln", None),
}
CSV_COLUMNS = [
    "screening_number",
    "initials",
    "sex",
    "date_of_birth",
    "screening_date",
    "liver_failure_stage",
    "tbil",
    "tbil_unit",
    "tbil_time",
    "tbil_series",
    "pta_percent",
    "inr",
    "creatinine",
    "creatinine_unit",
    "dialysis_twice_past_week",
    "sodium_mmol_l",
    "albumin",
    "albumin_unit",
    "he_grade",
    "il6",
    "il6_uln",
    "tnf_alpha",
    "tnf_alpha_uln",
    "crp",
    "crp_unit",
    "crp_uln",
    "pct",
    "pct_uln",
    *CHECKLIST_ITEMS,
]
RESULT_COLUMNS = [
    "row",
    "screening_number",
    "decision",
    "age_years",
    "meld",
    "meld_na",
    "meld_3",
    "tbil_umol_l",
    "tbil_max_rise_per_day",
    "blocking",
    "missing",
    "to_collect",
    "reasons",
    "errors",
]
MAX_CELL = 2000
# Columns that map one to one onto a contract key (not parts of a quantity).
_PLAIN_COLUMNS = tuple(
    name
    for name in CSV_COLUMNS
    if name not in QUANTITY_COLUMNS
    and not any(name in parts for parts in QUANTITY_COLUMNS.values())
)


class UnreadableFile(ValueError):
    """The file cannot be read as a list of candidates at all (``code`` says why)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _series_from_cell(cell: str) -> list[dict] | str:
    """'TIME VALUE UNIT; TIME VALUE UNIT' -> measurements; the cell if malformed."""
    items = []
    for part in cell.split(";"):
        if not part.strip():
            continue
        pieces = part.split()
        if len(pieces) != 3:
            return cell
        items.append({"time": pieces[0], "value": pieces[1], "unit": pieces[2]})
    return items


def contract_from_csv_row(row: dict[str, str]) -> dict:
    """A CSV row (columns of CSV_COLUMNS) as a candidate in the input contract."""
    cells = {
        k.strip(): (v or "").strip()[:MAX_CELL]
        for k, v in row.items()
        if isinstance(k, str)
    }
    data: dict = {name: cells.get(name) or None for name in _PLAIN_COLUMNS}
    for name, (unit_col, uln_col, time_col) in QUANTITY_COLUMNS.items():
        value = cells.get(name)
        if not value:
            data[name] = None
            continue
        quantity = {"value": value}
        if unit_col:
            quantity["unit"] = cells.get(unit_col) or None
        if uln_col and cells.get(uln_col):
            quantity["uln"] = cells[uln_col]
        if time_col and cells.get(time_col):
            quantity["time"] = cells[time_col]
        data[name] = quantity
    if data.get("tbil_series"):
        data["tbil_series"] = _series_from_cell(data["tbil_series"])
    return data


def csv_row_from_contract(data: dict) -> dict[str, str]:
    """A contract dict as a CSV row (the inverse of ``contract_from_csv_row``)."""
    row: dict[str, str] = {}
    for name, value in data.items():
        if name in QUANTITY_COLUMNS or name == "tbil_series":
            continue
        if isinstance(value, bool):
            row[name] = "yes" if value else "no"
        else:
            row[name] = "" if value is None else str(value)
    for name, (unit_col, uln_col, time_col) in QUANTITY_COLUMNS.items():
        quantity = data.get(name) or {}
        row[name] = quantity.get("value", "")
        for column, key in ((unit_col, "unit"), (uln_col, "uln"), (time_col, "time")):
            if column:
                row[column] = quantity.get(key) or ""
    row["tbil_series"] = "; ".join(
        f"{m['time']} {m['value']} {m['unit']}" for m in data.get("tbil_series") or ()
    )
    return row


def csv_template() -> str:
    """A header and one example row for the bulk upload."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    example = {
        "screening_number": "01-001",
        "initials": "ZW",
        "sex": "M",
        "date_of_birth": "1980-05-17",
        "screening_date": "2026-06-01",
        "liver_failure_stage": "early",
        "tbil": "180",
        "tbil_unit": "umol/L",
        "tbil_time": "2026-06-01T08:00+08:00",
        "tbil_series": "2026-05-31T08:00+08:00 158.6 umol/L",
        "pta_percent": "35",
        "inr": "1.8",
        "creatinine": "90",
        "creatinine_unit": "umol/L",
        "dialysis_twice_past_week": "no",
        "sodium_mmol_l": "136",
        "albumin": "32",
        "albumin_unit": "g/L",
        "he_grade": "1",
        "il6": "25",
        "crp": "18",
        "crp_unit": "mg/L",
        **{item: "yes" for item in CHECKLIST_ITEMS[:2]},
        **{item: "no" for item in CHECKLIST_ITEMS[2:]},
    }
    writer.writerow([example.get(c, "") for c in CSV_COLUMNS])
    return out.getvalue()


def read_candidates(text: Iterable[str], *, fmt: str) -> Iterator[dict]:
    """Candidates from JSON (a list of objects) or CSV text lines."""
    if fmt == "json":
        try:
            records = json.loads("".join(text))
        except (ValueError, RecursionError) as exc:
            raise UnreadableFile("not_json", f"not valid JSON: {exc}") from exc
        if not isinstance(records, list):
            raise UnreadableFile("not_list", "expected a JSON list of candidates")
        yield from records
        return
    try:
        reader = csv.DictReader(text)
        if reader.fieldnames is None:
            raise UnreadableFile("csv_empty", "the CSV file is empty")
        if "screening_number" not in {f.strip() for f in reader.fieldnames if f}:
            raise UnreadableFile(
                "csv_no_header", "the CSV header has no screening_number column"
            )
        for row in reader:
            yield contract_from_csv_row(row)
    except csv.Error as exc:
        raise UnreadableFile("csv_invalid", f"not a readable CSV file: {exc}") from exc


def uploaded_candidates(content: bytes, *, fmt: str) -> Iterator[dict]:
    """Candidates from a stored upload (UTF-8, with or without a byte order mark)."""
    text = content.decode("utf-8-sig")
    return read_candidates(io.StringIO(text, newline=""), fmt=fmt)


def prescreen(
    records: Iterable, *, criteria: CriteriaSet, today: date, details: bool = False
) -> Iterator[dict]:
    """One result per candidate, in input order; a malformed one gives its errors."""
    zone = site_zone()
    for index, data in enumerate(records, start=1):
        number = data.get("screening_number") if isinstance(data, dict) else None
        try:
            parsed = contract.parse_candidate(data, today=today, tz=zone)
        except contract.CandidateError as exc:
            entry = {
                "row": index,
                # Echo at most a short prefix of whatever was given.
                "screening_number": number[:20] if isinstance(number, str) else None,
                "decision": None,
                "errors": exc.errors,
            }
            if details:
                entry["problems"] = exc.problems
            yield entry
            continue
        derived = contract.derive(parsed, tz=zone)
        yield result_entry(
            index,
            parsed,
            derived,
            evaluate(criteria.specs, derived.facts),
            details=details,
        )


def result_entry(
    index: int,
    parsed: contract.Candidate,
    derived: contract.Derived,
    evaluation: Evaluation,
    details: bool = False,
) -> dict:
    """The contract's result for one candidate; ``details`` adds reason parts."""
    computed = computed_values(derived)
    return {
        "row": index,
        "screening_number": parsed.screening_number,
        "decision": evaluation.decision.value,
        "age_years": derived.age_years,
        "meld": derived.meld,
        "meld_na": derived.meld_na,
        "meld_3": derived.meld_3,
        "tbil_umol_l": computed["tbil_umol_l"],
        "tbil_max_rise_per_day": computed["tbil_max_rise_per_day"],
        "criteria": [
            {
                "code": r.code,
                "kind": r.kind.value,
                "outcome": r.outcome.value,
                "reason": r.reason,
                **({"details": [c.as_dict() for c in r.conditions]} if details else {}),
            }
            for r in evaluation.criteria
        ],
        "blocking": list(evaluation.blocking),
        "missing": list(evaluation.unknown),
        "to_collect": list(evaluation.to_collect),
    }


def result_csv_row(result: dict) -> list:
    errors = result.get("errors") or {}
    return [
        result["row"],
        result.get("screening_number") or "",
        result.get("decision") or "ERROR",
        *(
            "" if result.get(key) is None else result[key]
            for key in (
                "age_years",
                "meld",
                "meld_na",
                "meld_3",
                "tbil_umol_l",
                "tbil_max_rise_per_day",
            )
        ),
        " ".join(result.get("blocking", [])),
        " ".join(result.get("missing", [])),
        " ".join(result.get("to_collect", [])),
        " | ".join(
            f"{c['code']} {c['outcome']}: {c['reason']}"
            for c in result.get("criteria", [])
        ),
        " | ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()),
    ]


def write_json(results: Iterable[dict], out) -> int:
    """Stream a JSON list; returns the number of entries."""
    count = 0
    out.write("[")
    for result in results:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(result, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_csv(results: Iterable[dict], out) -> int:
    writer = csv.writer(out)
    writer.writerow(RESULT_COLUMNS)
    count = 0

    for result in results:
        writer.writerow(spreadsheet_safe(result_csv_row(result)))
        count += 1
    return count
