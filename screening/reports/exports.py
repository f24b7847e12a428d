"""The screening log as CSV rows."""

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from screening.models import EligibilityDecision

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
    "criteria_version",
    "decision_that_counts",
]


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %z") if moment else ""


def export_rows(
    decisions: QuerySet[EligibilityDecision], criteria_text: dict[str, str]
) -> Iterator[list]:
    yield HEADER
    rows = decisions.select_related(
        "recorded_by", "signature", "supersedes", "superseded_by", "criteria_version"
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
            f"v{d.criteria_version.number}" if d.criteria_version_id else "",
            signature.override_outcome
            if signature and signature.override_outcome
            else d.outcome,
        ]
