"""A laboratory-system (LIS) CSV export: one row per result.

Columns, by English or Chinese header (any order, nothing else): patient
identifier (the trial's screening number), test code or name, value, unit,
reference range, collection time. The text is UTF-8 (with or without a BOM),
else GB18030, decided strictly for the whole file: bytes that are neither are
refused with their line number, never replaced.
"""

import csv
import io
import re
from types import MappingProxyType

from screening.labs.reading import LabFileError, LabProblem, Result

# Column -> the headers a LIS export may give it.
COLUMNS = MappingProxyType(
    {
        "patient": ("screening_number", "patient", "patient_id", "筛选号", "患者编号"),
        "test": ("test", "test_code", "test_name", "检验项目", "项目", "项目代码"),
        "value": ("value", "result", "结果", "检验结果"),
        "unit": ("unit", "单位"),
        "reference_range": ("reference_range", "参考范围", "参考值"),
        "collected_at": ("collected_at", "collection_time", "采集时间", "采样时间"),
    }
)
REQUIRED = ("patient", "test", "value", "collected_at")
_HEADERS = MappingProxyType(
    {header.casefold(): column for column, names in COLUMNS.items() for header in names}
)
_UTF8_BOM = b"\xef\xbb\xbf"
# "3.4-20.5", "0～7", "<5", "≤5": the upper limit is the last number.
_RANGE_RE = re.compile(
    r"^\s*(?:(?:[0-9]+(?:\.[0-9]+)?)\s*[-–~～]\s*|<=?\s*|≤\s*)?"
    r"([0-9]+(?:\.[0-9]+)?)\s*$"
)


def decode(content: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (BOM stripped), else GB18030; else refused."""
    if content.startswith(_UTF8_BOM):
        content = content[len(_UTF8_BOM) :]
        encodings = ("utf-8",)
    else:
        encodings = ("utf-8", "gb18030")
    stop = 0
    for encoding in encodings:
        try:
            return content.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            stop = max(stop, exc.start)
    # The line where the encoding that reads furthest stops: a GB18030 file
    # with one bad byte is refused at that byte, not at its first Chinese word.
    line = content.count(b"\n", 0, stop) + 1
    raise LabFileError([LabProblem(f"line {line}", "", "encoding", {"line": line})])


def reference_high(text: str | None, where: str) -> tuple[str | None, list]:
    """The upper limit of a reference range cell, or a problem."""
    if text is None or not text.strip():
        return None, []
    match = _RANGE_RE.match(text.replace("０", "0"))
    if not match:
        return None, [
            LabProblem(
                where,
                "reference range",
                "reference_range_invalid",
                {"range": text[:32]},
            )
        ]
    return match[1], []


def read_csv(text: str) -> list[Result]:
    """The rows as results; ``LabFileError`` for a header that is not ours, or
    for text that is not CSV (an unclosed quote, a cell over the csv module's
    limit), naming the line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _read_rows(reader)
    except csv.Error as exc:
        where = f"line {reader.line_num or 1}"
        raise LabFileError(
            [LabProblem(where, "", "csv_invalid", {"error": str(exc)[:80]})]
        ) from exc


def _read_rows(reader) -> list[Result]:
    try:
        header = next(reader)
    except StopIteration:
        raise LabFileError([LabProblem("", "", "empty")]) from None
    columns, problems = [], []
    for cell in header:
        name = cell.strip().lstrip("\ufeff")
        column = _HEADERS.get(name.casefold())
        if column is None:
            problems.append(
                LabProblem("line 1", "", "header_unknown", {"column": name[:40]})
            )
        elif column in columns:
            problems.append(
                LabProblem("line 1", "", "header_duplicate", {"column": name[:40]})
            )
        columns.append(column)
    for column in REQUIRED:
        if column not in columns:
            problems.append(
                LabProblem("line 1", "", "header_missing", {"column": column})
            )
    if problems:
        raise LabFileError(problems)
    results, row_problems = [], []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        where = f"line {line}"
        if len(cells) != len(columns):
            row_problems.append(
                LabProblem(
                    where,
                    "",
                    "row_length",
                    {"count": len(cells), "expected": len(columns)},
                )
            )
            continue
        row = dict(zip(columns, (c.strip() for c in cells), strict=True))
        uln, found = reference_high(row.get("reference_range"), where)
        results.append(
            Result(
                where=where,
                position=line,
                patient=row.get("patient"),
                test=row.get("test"),
                value=row.get("value"),
                unit=row.get("unit"),
                uln=uln,
                time=row.get("collected_at"),
                problem=found[0] if found else None,
            )
        )
    if row_problems:
        raise LabFileError(row_problems)
    return results
