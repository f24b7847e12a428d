"""CSV files people open in Excel: safe cells, streamed row by row."""

import csv
from collections.abc import Iterable, Iterator

BOM = "\ufeff"


class _Echo:
    def write(self, value):
        return value


def csv_stream(rows: Iterable[list], *, excel: bool) -> Iterator[str]:
    """CSV text chunks; Excel-friendly output starts with a UTF-8 byte order mark."""
    writer = csv.writer(_Echo())
    if excel:
        yield BOM
    for row in rows:
        yield writer.writerow(spreadsheet_safe(row))


def spreadsheet_safe(row: list) -> list:
    """Quote text cells that a spreadsheet would run as a formula.

    Negative numbers written as text ("-5.2") stay as they are.
    """
    return [_defuse(v) if isinstance(v, str) else v for v in row]


def _defuse(value: str) -> str:
    first = value[:1]
    if first in ("=", "+", "@", "\t", "\r") or (first == "-" and not _is_number(value)):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
