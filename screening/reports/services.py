"""Writes of the reports room: each export of the screening log is logged."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from screening.models import ScreeningLogExport
from trials.models import Trial


def screening_log_export_record(
    *, trial: Trial, user: AbstractBaseUser, export_format: str, filters: dict
) -> ScreeningLogExport:
    """Log one export of the screening log: who, when, which format and filter."""
    export = ScreeningLogExport(
        trial=trial,
        user=user,
        exported_at=timezone.now(),
        export_format=export_format,
        filters=filters,
    )
    export.full_clean()
    export.save(force_insert=True)
    return export
