"""Writes of pre-screening: an upload evaluated once and stored with its results."""

import hashlib
from collections import Counter

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.scope import PRESCREEN, scope_for
from screening.assessment import (
    active_criteria,
    assess_rows,
)
from screening.decisions.services import screening_sites
from screening.models import (
    PrescreenResult,
    PrescreenUpload,
)
from screening.prescreen.files import result_entry
from trials.models import Trial


def _storable(value):
    """The value with NUL characters shown as U+FFFD: PostgreSQL refuses them.

    Refused rows echo what was given (a short prefix); a NUL in a crafted file
    must not turn the upload into a server error.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def prescreen_upload_record(
    *,
    trial: Trial,
    user: AbstractBaseUser,
    file_name: str,
    file_format: str,
    content: bytes,
    records: list,
) -> PrescreenUpload:
    """Evaluate every row once and log the upload with its results.

    Records no decision. The rows' results are stored with the criteria they
    were evaluated under; pages and downloads read them, never re-evaluating.
    Raises NoActiveCriteria for a trial without active criteria.
    """
    sites = screening_sites(user=user, trial=trial)
    if not scope_for(user).can(PRESCREEN, trial.pk):
        raise PermissionDenied("not a member who may pre-screen in this trial")
    criteria = active_criteria(trial=trial)
    rows = list(assess_rows(records, criteria=criteria, today=timezone.localdate()))
    entries = [result_entry(r, details=True) for r in rows]
    summary = Counter(e["decision"] or PrescreenResult.ERROR for e in entries)
    upload = PrescreenUpload(
        trial=trial,
        # One site when the uploader has one; else the trial's members see it.
        site=sites[0] if len(sites) == 1 else None,
        user=user,
        uploaded_at=timezone.now(),
        file_name=file_name[:200],
        file_format=file_format,
        content=content,
        file_sha256=hashlib.sha256(content).hexdigest(),
        row_count=len(entries),
        error_count=summary[PrescreenResult.ERROR],
        summary=dict(summary),
        criteria_snapshot=criteria.snapshot,
    )
    upload.full_clean()
    with transaction.atomic():
        upload.save(force_insert=True)
        PrescreenResult.objects.bulk_create(
            (
                PrescreenResult(
                    upload=upload,
                    row=entry["row"],
                    screening_number=_storable(entry.get("screening_number") or ""),
                    decision=entry["decision"] or PrescreenResult.ERROR,
                    result=_storable(entry),
                    # Only a valid row can open the screening form.
                    entered=_storable(row.data) if row.assessment is not None else None,
                )
                for row, entry in zip(rows, entries, strict=True)
            ),
            batch_size=1000,
        )
    return upload
