"""The screening log as CSV, streamed row by row."""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone

from .models import EligibilityDecision

HEADER = [
    "screening_number",
    "initials",
    "sex",
    "age_years",
    "screening_date",
    "decision",
    "blocking_criteria",
    "screened_by",
    "recorded_at",
    "signed_by",
    "signed_at",
    "signature_meaning",
    "investigator_decision",
    "supersedes_sequence",
    "superseded_by_sequence",
    "sequence",
]
BOM = "\ufeff"


class _Echo:
    def write(self, value):
        return value


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %z") if moment else ""


def export_rows(
    decisions: QuerySet[EligibilityDecision], criteria_text: dict[str, str]
) -> Iterator[list]:
    yield HEADER
    rows = decisions.select_related(
        "recorded_by", "signature", "supersedes", "superseded_by"
    ).iterator(chunk_size=2000)
    for d in rows:
        signature = getattr(d, "signature", None)
        successor = getattr(d, "superseded_by", None)
        yield [
            d.screening_number,
            d.initials,
            d.sex,
            "" if d.age_years is None else d.age_years,
            d.screening_date.isoformat(),
            d.outcome,
            "; ".join(
                f"{c} {criteria_text.get(c, '')}".strip() for c in d.blocking_codes
            ),
            d.recorded_by.get_username(),
            _local(d.recorded_at),
            signature.signer_full_name if signature else "",
            _local(signature.signed_at) if signature else "",
            signature.statement if signature else "",
            signature.override_outcome if signature else "",
            d.supersedes.sequence if d.supersedes_id else "",
            successor.sequence if successor else "",
            d.sequence,
        ]


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
