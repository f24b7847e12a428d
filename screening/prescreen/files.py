"""Pre-screening files: read as hospitals export them, evaluated, never recorded.

Used by the ``prescreen`` command and the bulk upload page. The columns, their
Chinese headers and the example row come from the input registry. A file is
refused as a whole when its header names a column the registry does not know,
or one twice; a row whose cell count differs from the header's is an error of
that row; blank rows are skipped. UTF-8 (with or without a byte order mark) and
GB18030 (which includes GBK) are read; anything else is refused by name.
"""

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from django.utils.translation import gettext_lazy as _

from screening.assessment import RowAssessment, computed_values
from screening.common.csv import spreadsheet_safe
from screening.domain import contract
from screening.domain.engine import Decision, format_number
from screening.domain.inputs import (
    INPUTS,
    Input,
    InputKind,
    Part,
    column_index,
    example_candidate,
)

ENCODINGS = ("utf-8-sig", "gb18030")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# The result file's columns, and their headers in the page's language.
RESULT_HEADERS = {
    "row": _("Row"),
    "screening_number": _("Screening number"),
    "decision": _("Decision"),
    "age_years": _("Age (completed years)"),
    "meld": _("MELD"),
    "meld_na": _("MELD-Na (information only)"),
    "meld_3": _("MELD 3.0 (information only)"),
    "tbil_umol_l": _("Current TBil (μmol/L)"),
    "tbil_max_rise_per_day": _("Largest daily TBil rise (μmol/L/day)"),
    "blocking": _("Blocking criteria"),
    "missing": _("Undecided criteria"),
    "to_collect": _("To collect"),
    "reasons": _("Reasons"),
    "errors": _("Errors"),
}
RESULT_COLUMNS = list(RESULT_HEADERS)


class UnreadableFile(ValueError):
    """The file cannot be read as candidates at all (``code`` and ``names`` say why)."""

    def __init__(self, code: str, message: str, names: Iterable[str] = ()):
        super().__init__(message)
        self.code = code
        self.names = tuple(names)


def csv_columns() -> list[str]:
    """The template's columns, in registry order (English names)."""
    return [item.column(part) for item in INPUTS.values() for part in item.parts]


CSV_COLUMNS = csv_columns()


def csv_text(candidates: Iterable[dict]) -> str:
    """Candidates of the contract as a CSV file's text (the template's columns)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for data in candidates:
        writer.writerow(csv_row_from_contract(data))
    return out.getvalue()


def _column_header(item: Input, part: Part, chinese: bool) -> str:
    return item.zh_column(part) if chinese else item.column(part)


def _series_cell(measurements) -> str:
    return "; ".join(
        f"{m['time']} {m['value']} {m['unit']}" for m in measurements or ()
    )


def _series_from_cell(cell: str) -> list[dict]:
    """'TIME VALUE UNIT; ...' -> measurements (the time may hold a space).

    A measurement whose last word is a number has no unit written; one with a
    single word has no time. The parser names what each lacks.
    """
    items = []
    for part in cell.split(";"):
        pieces = part.split()
        if not pieces:
            continue
        if contract.NUMBER_RE.match(contract.fold_fullwidth(pieces[-1])):
            items.append({"time": " ".join(pieces[:-1]), "value": pieces[-1]})
            continue
        value = pieces[-2] if len(pieces) > 1 else ""
        items.append(
            {"time": " ".join(pieces[:-2]), "value": value, "unit": pieces[-1]}
        )
    return items


def _answer_cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def csv_row_from_contract(data: dict) -> dict[str, str]:
    """A contract dict as CSV cells by column (the inverse of the reader)."""
    row: dict[str, str] = {}
    for key, item in INPUTS.items():
        value = data.get(key)
        if item.kind is InputKind.SERIES:
            row[item.column()] = _series_cell(value)
        elif item.is_lab:
            parts = value if isinstance(value, dict) else {"value": value}
            for part in item.parts:
                cell = parts.get(part.value or "value")
                row[item.column(part)] = "" if cell is None else str(cell)
        else:
            row[item.column()] = _answer_cell(value)
    return row


def csv_template(*, chinese: bool = False) -> str:
    """The header (English or Chinese) and one example row, from the registry."""
    out = io.StringIO()
    writer = csv.writer(out)
    pairs = [(item, part) for item in INPUTS.values() for part in item.parts]
    writer.writerow([_column_header(item, part, chinese) for item, part in pairs])
    example = csv_row_from_contract(example_candidate())
    writer.writerow([example[item.column(part)] for item, part in pairs])
    return out.getvalue()


def decode(content: bytes) -> str:
    """The file's text: UTF-8 (BOM or not), else GB18030/GBK; else refused."""
    if content.startswith(_UTF16_BOMS):
        raise UnreadableFile("encoding", "UTF-16 text is not accepted; save as UTF-8")
    for encoding in ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("encoding", "the file is neither UTF-8 nor GB18030/GBK text")


def _header(cells: list[str]) -> list[tuple[Input, Part] | None]:
    index = column_index()
    unknown, duplicate, seen, columns = [], [], set(), []
    for cell in cells:
        name = cell.strip().lstrip("\ufeff")
        if not name:
            columns.append(None)
            continue
        if name not in index:
            unknown.append(name[:40])
            continue
        item, part = index[name]
        if (item.key, part) in seen:
            duplicate.append(name[:40])
        seen.add((item.key, part))
        columns.append(index[name])
    if unknown:
        raise UnreadableFile(
            "csv_unknown_columns", "unknown columns: " + ", ".join(unknown), unknown
        )
    if duplicate:
        raise UnreadableFile(
            "csv_duplicate_columns",
            "columns given twice: " + ", ".join(duplicate),
            duplicate,
        )
    if ("screening_number", Part.VALUE) not in seen:
        raise UnreadableFile(
            "csv_no_header", "the CSV header has no screening_number column"
        )
    return columns


def _row_problem(code: str, message: str, **params) -> contract.CandidateError:
    return contract.CandidateError({"row": [contract.Problem(code, message, **params)]})


def contract_from_cells(columns, cells: list[str]) -> dict | contract.CandidateError:
    """One CSV row as a candidate in the contract, or the row's problem."""
    if len(cells) != len(columns):
        return _row_problem(
            "cell_count",
            "this row has {cells} cells, the header has {columns}",
            cells=len(cells),
            columns=len(columns),
        )
    blank_columns, groups = _plan(columns)
    for index in blank_columns:
        if cells[index].strip():
            return _row_problem(
                "cell_without_header",
                "a value stands in column {column}, which has no header",
                column=index + 1,
            )
    data: dict = {}
    for key, shape, parts in groups:
        if shape is _LAB:
            given = {}
            for index, name in parts:
                text = cells[index].strip()
                if text:
                    given[name] = text
            if given:
                data[key] = given
            continue
        text = cells[parts[0][0]].strip()
        if text:
            data[key] = _series_from_cell(text) if shape is _SERIES else text
    return data


_LAB, _SERIES, _PLAIN = "lab", "series", "plain"
_SHAPES = {
    key: _LAB if item.is_lab else _SERIES if item.kind is InputKind.SERIES else _PLAIN
    for key, item in INPUTS.items()
}
_last_plan: tuple = (None, None)


def _plan(columns: list) -> tuple:
    """The header's columns as each row is read: the cell indices of the
    columns without a header, and for each input (in the order of its first
    column) its shape and its parts as (cell index, part name), in header order.

    Worked out once per header: the last one is kept (one tuple, read and
    replaced whole, so threads reading different files do not mix them).
    """
    global _last_plan
    last = _last_plan
    if last[0] is columns:
        return last[1]
    blank, parts = [], {}
    for index, column in enumerate(columns):
        if column is None:
            blank.append(index)
        else:
            key = column[0].key
            parts.setdefault(key, []).append((index, column[1].value or "value"))
    plan = (
        tuple(blank),
        tuple((key, _SHAPES[key], tuple(given)) for key, given in parts.items()),
    )
    _last_plan = (columns, plan)
    return plan


def csv_rows(text: Iterable[str]) -> tuple[list, Iterator[list[str]]]:
    """The header's columns, and the cells of each non-blank row in file order.

    The header is read at once (an unreadable file is refused here); the rows
    are read as they are consumed.
    """
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UnreadableFile("csv_invalid", f"not a readable CSV file: {exc}") from exc
    if header is None:
        raise UnreadableFile("csv_empty", "the CSV file is empty")
    columns = _header(header)

    def rows() -> Iterator[list[str]]:
        try:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue  # blank rows, such as Excel's trailing ones
                yield cells
        except csv.Error as exc:
            raise UnreadableFile(
                "csv_invalid", f"not a readable CSV file: {exc}"
            ) from exc

    return columns, rows()


def csv_line_chunks(
    text: Iterable[str], size: int
) -> tuple[list, Iterator[tuple[int, str]]]:
    """The header's columns, and the file's rows as text, ``size`` rows a chunk.

    Each chunk is (its number of non-blank rows, the lines of its records as
    one text). The records are cut where the csv module ends them (a quoted
    cell may hold a line break), so ``chunk_cells`` reads a chunk's text back
    into the cells ``csv_rows`` gives. The header is read at once; a problem in
    the file is raised when reached, and the rows read since the last whole
    chunk are dropped with it, as ``csv_rows`` read in chunks of ``size`` does.
    """
    lines: list[str] = []

    def recorded() -> Iterator[str]:
        for line in text:
            lines.append(line)
            yield line

    reader = csv.reader(recorded())
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UnreadableFile("csv_invalid", f"not a readable CSV file: {exc}") from exc
    if header is None:
        raise UnreadableFile("csv_empty", "the CSV file is empty")
    columns = _header(header)
    lines.clear()

    def chunks() -> Iterator[tuple[int, str]]:
        count, cut = 0, False
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    count += 1
                    if count == size:
                        yield count, "".join(lines)
                        lines.clear()
                        count, cut = 0, True
        except csv.Error as exc:
            if count and not cut:
                # A row was read before the problem: the file has candidates
                # (callers print their header), none of them written.
                yield 0, ""
            raise UnreadableFile(
                "csv_invalid", f"not a readable CSV file: {exc}"
            ) from exc
        if count:
            yield count, "".join(lines)

    return columns, chunks()


def chunk_cells(text: str) -> Iterator[list[str]]:
    """The cells of each non-blank row of a chunk from ``csv_line_chunks``."""
    for cells in csv.reader(io.StringIO(text, newline="")):
        if any(cell.strip() for cell in cells):
            yield cells


def read_candidates(text: Iterable[str], *, fmt: str) -> Iterator:
    """Candidates from JSON (a list of objects) or CSV lines, in file order.

    A CSV row that cannot become a candidate is yielded as its CandidateError.
    """
    if fmt == "json":
        yield from json_records("".join(text))
        return
    columns, rows = csv_rows(text)
    for cells in rows:
        yield contract_from_cells(columns, cells)


def json_records(text: str) -> list:
    """The candidates of a JSON file's text (a list), or the file is refused."""
    try:
        records = json.loads(text, parse_float=contract.json_float)
    except (ValueError, RecursionError) as exc:
        raise UnreadableFile("not_json", f"not valid JSON: {exc}") from exc
    if not isinstance(records, list):
        raise UnreadableFile("not_list", "expected a JSON list of candidates")
    return records


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while block := handle.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def open_text(path: Path) -> TextIO:
    """A file's text, streamed: the encodings and refusals of ``decode``.

    The whole file is checked against each encoding in turn before any of it is
    read as text, so a file is never read half in one encoding; nothing but a
    block of it is held in memory. Raises OSError when it cannot be read.
    """
    with path.open("rb") as handle:
        start = handle.read(2)
    if start.startswith(_UTF16_BOMS):
        raise UnreadableFile("encoding", "UTF-16 text is not accepted; save as UTF-8")
    for encoding in ENCODINGS:
        if _decodes(path, encoding):
            return path.open(encoding=encoding, newline="")
    raise UnreadableFile("encoding", "the file is neither UTF-8 nor GB18030/GBK text")


def uploaded_candidates(content: bytes, *, fmt: str) -> Iterator:
    """Candidates from an uploaded file's bytes."""
    return read_candidates(io.StringIO(decode(content), newline=""), fmt=fmt)


def _shown(value) -> str | None:
    """A computed number as pages show it (at most 3 decimals)."""
    return None if value is None else format_number(contract.Decimal(value))


def result_entry(result: RowAssessment, *, details: bool = False) -> dict:
    """The contract's result for one row; ``details`` adds reason parts."""
    if result.assessment is None:
        data = result.data
        number = data.get("screening_number") if isinstance(data, dict) else None
        entry = {
            "row": result.row,
            # Echo at most a short prefix of whatever was given.
            "screening_number": number[:20] if isinstance(number, str) else None,
            "decision": None,
            "errors": result.error.errors,
        }
        if details:
            entry["problems"] = result.error.problems
        return entry
    parsed = result.assessment.candidate
    derived = result.assessment.derived
    evaluation = result.assessment.evaluation
    computed = computed_values(derived)
    return {
        "row": result.row,
        "screening_number": parsed.screening_number,
        "decision": evaluation.decision.value,
        "age_years": derived.age_years,
        "meld": derived.meld,
        "meld_na": derived.meld_na,
        "meld_3": derived.meld_3,
        "tbil_umol_l": _shown(computed["tbil_umol_l"]),
        "tbil_max_rise_per_day": _shown(computed["tbil_max_rise_per_day"]),
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
        "unusual": [u.path for u in parsed.unusual],
    }


def result_csv_row(result: dict, *, decision_label=None, reason_text=None) -> list:
    """One result as CSV cells; labels and reasons in the page's words if given."""
    errors = result.get("errors") or {}
    decision = result.get("decision") or "ERROR"
    if decision_label is not None:
        decision = decision_label(decision)
    reasons = result.get("criteria", [])
    return [
        result["row"],
        result.get("screening_number") or "",
        decision,
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
            f"{c['code']} {c['outcome']}: "
            + (reason_text(c) if reason_text else c["reason"])
            for c in reasons
        ),
        " | ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()),
    ]


def _deciding(evaluation) -> tuple:
    """The criteria that decide: the blocking ones of an ineligible candidate,
    the undecided ones of an incomplete one, and all of an eligible one."""
    if evaluation.decision is Decision.INELIGIBLE:
        wanted = evaluation.blocking
    elif evaluation.decision is Decision.INCOMPLETE:
        wanted = evaluation.unknown
    else:
        return evaluation.criteria
    return tuple(r for r in evaluation.criteria if r.code in wanted)


def _cell(value) -> object:
    return "" if value is None else value


def assessment_csv_row(result: RowAssessment) -> list:
    """One row's result as the ``prescreen`` command's CSV cells.

    The columns and values of ``result_csv_row(result_entry(result))``, except
    that the reasons are those of the deciding criteria only (``_deciding``);
    the JSON output keeps all 14. Reasons are worked out only for those.
    """
    if result.assessment is None:
        data = result.data
        number = data.get("screening_number") if isinstance(data, dict) else None
        errors = result.error.errors
        return [
            result.row,
            number[:20] if isinstance(number, str) and number[:20] else "",
            "ERROR",
            *([""] * 10),
            " | ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()),
        ]
    derived = result.assessment.derived
    evaluation = result.assessment.evaluation
    rise = derived.tbil_rise
    return [
        result.row,
        result.assessment.candidate.screening_number or "",
        evaluation.decision.value,
        _cell(derived.age_years),
        _cell(derived.meld),
        _cell(derived.meld_na),
        _cell(derived.meld_3),
        _cell(
            None if derived.tbil_umol_l is None else _shown(str(derived.tbil_umol_l))
        ),
        _cell(None if rise is None else _shown(str(rise.per_day))),
        " ".join(evaluation.blocking),
        " ".join(evaluation.unknown),
        " ".join(evaluation.to_collect),
        " | ".join(
            f"{r.code} {r.outcome.value}: {r.reason}" for r in _deciding(evaluation)
        ),
        "",
    ]


def result_header() -> list[str]:
    """The result file's header in the active language."""
    return [str(RESULT_HEADERS[name]) for name in RESULT_COLUMNS]


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
