"""Writes of the lab inbox: imports, reviews, and the sources of a decision's values.

Each is one transaction, keyword-only. An import is read (``lab_message_read``),
checked against the registry (``read_results``) and stored with its seal
(``lab_values_store``); a message over ``LAB_JOB_BYTES`` from the upload page
is read and checked by a background job (screening/labs/tasks.py), which then
stores it through the same ``lab_values_store``.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scope import SCREEN, scope_for
from screening import audit
from screening.assessment import site_zone
from screening.common.jobs import job_submit
from screening.decisions.services import screening_site_for
from screening.labs import fhir, lis
from screening.labs.models import LabImport, LabReview, LabSource, LabValue
from screening.labs.reading import (
    LabFileError,
    LabProblem,
    ReadValue,
    Result,
    read_results,
)
from screening.ledger.receivers import seal_written
from screening.models import BackgroundJob, EligibilityDecision
from trials.models import Site, Trial

MAX_MESSAGE_BYTES = 5 * 2**20


def message_format(content: bytes) -> str:
    """FHIR when the message is a JSON object, else a CSV export."""
    start = content.lstrip(b"\xef\xbb\xbf").lstrip()
    return LabImport.Format.FHIR if start.startswith(b"{") else LabImport.Format.CSV


def lab_import(**kwargs) -> LabImport:
    """Import a FHIR bundle or a LIS CSV file, told apart by their first byte."""
    if message_format(kwargs["content"]) == LabImport.Format.FHIR:
        return lab_import_fhir(**kwargs)
    return lab_import_csv(**kwargs)


def lab_import_fhir(
    *,
    trial: Trial,
    user: AbstractBaseUser,
    content: bytes,
    channel: str,
    file_name: str = "",
    site: Site | None = None,
) -> LabImport:
    """Import a FHIR R4 Bundle of Observations into the candidates' inboxes.

    Refused whole (``LabFileError`` listing every problem) when any result
    does not fit: nothing is stored then.
    """
    return _import(
        fmt=LabImport.Format.FHIR,
        trial=trial,
        user=user,
        content=content,
        channel=channel,
        file_name=file_name,
        site=site,
    )


def lab_import_csv(
    *,
    trial: Trial,
    user: AbstractBaseUser,
    content: bytes,
    channel: str,
    file_name: str = "",
    site: Site | None = None,
) -> LabImport:
    """Import a LIS CSV export (UTF-8 or GB18030), refused whole as FHIR is."""
    return _import(
        fmt=LabImport.Format.CSV,
        trial=trial,
        user=user,
        content=content,
        channel=channel,
        file_name=file_name,
        site=site,
    )


def _import(
    *,
    fmt: str,
    trial: Trial,
    user: AbstractBaseUser,
    content: bytes,
    channel: str,
    file_name: str = "",
    site: Site | None = None,
) -> LabImport:
    message = lab_message_read(content, fmt=fmt)
    now = timezone.now()
    values, problems = read_results(message.results, tz=site_zone(), now=now)
    return lab_values_store(
        trial=trial,
        user=user,
        content=content,
        fmt=fmt,
        encoding=message.encoding,
        values=values,
        problems=problems,
        channel=channel,
        file_name=file_name,
        site=site,
        imported_at=now,
    )


@dataclass(frozen=True, slots=True)
class LabMessage:
    """A message read as results (not yet checked against the registry)."""

    fmt: str
    encoding: str
    results: list[Result]


def lab_message_read(content: bytes, *, fmt: str | None = None) -> LabMessage:
    """The message's results; ``LabFileError`` when it is too large, not in its
    encoding, not a FHIR bundle or not our CSV export."""
    _check_size(content)
    fmt = fmt or message_format(content)
    if fmt == LabImport.Format.FHIR:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = content.count(b"\n", 0, exc.start) + 1
            raise LabFileError(
                [LabProblem(f"line {line}", "", "encoding", {"line": line})]
            ) from None
        return LabMessage(fmt, "utf-8", fhir.read_bundle(text))
    text, encoding = lis.decode(content)
    return LabMessage(fmt, encoding, lis.read_csv(text))


def _check_size(content: bytes) -> None:
    if len(content) > MAX_MESSAGE_BYTES:
        raise LabFileError(
            [LabProblem("", "", "too_large", {"limit": MAX_MESSAGE_BYTES})]
        )


def _check_member(user, trial: Trial, site: Site | None) -> None:
    if site is not None and site.trial_id != trial.pk:
        raise PermissionDenied("site of another trial")
    if not scope_for(user).can(SCREEN, trial.pk, site.pk if site else None):
        raise PermissionDenied("not a member who may screen in this trial or site")


def _sites(trial: Trial, values: list[ReadValue], user, site, problems):
    """The site of each candidate: where they were screened, else the import's."""
    numbers = sorted({v.screening_number for v in values})
    screened = {}
    for number, site_id in (
        EligibilityDecision.objects.system()
        .filter(trial=trial, screening_number__in=numbers)
        .order_by("screening_number", "sequence")
        .values_list("screening_number", "site_id")
    ):
        screened[number] = site_id  # the latest record's site
    scope = scope_for(user)
    default = None
    sites: dict[str, int | None] = {}
    for value in values:
        number = value.screening_number
        if number in sites:
            continue
        if number in screened:
            site_id = screened[number]
            if not scope.can(SCREEN, trial.pk, site_id):
                problems.append(
                    LabProblem(
                        value.where,
                        "patient",
                        "patient_other_site",
                        {"patient": number},
                    )
                )
                continue
            sites[number] = site_id
        elif trial.status == Trial.Status.CLOSED:
            problems.append(
                LabProblem(
                    value.where, "patient", "patient_unknown", {"patient": number}
                )
            )
        else:
            if default is None:
                default = (
                    site
                    if site is not None
                    else screening_site_for(user=user, trial=trial)
                )
                _check_member(user, trial, default)
            sites[number] = default.pk if default else None
    return sites


def _check_not_imported(trial: Trial, digest: str) -> None:
    earlier = LabImport.objects.filter(trial=trial, sha256=digest).first()
    if earlier is not None:
        raise LabFileError(
            [
                LabProblem(
                    "",
                    "",
                    "already_imported",
                    {"when": timezone.localtime(earlier.imported_at, site_zone())},
                )
            ]
        )


def lab_import_job_submit(
    *,
    trial: Trial,
    user: AbstractBaseUser,
    content: bytes,
    file_name: str = "",
    site: Site | None = None,
    backend: str | None = None,
) -> BackgroundJob:
    """Queue a large message's import as a job (screening/labs/tasks.py).

    The message is read here, so a file that is not a bundle or our export,
    or was imported already, is refused at once; it is kept with its SHA-256,
    and the job checks every result and stores them with
    ``lab_values_store``, all or nothing, as an import made while the page
    waits.
    """
    _check_member(user, trial, site)
    message = lab_message_read(content)
    digest = hashlib.sha256(content).hexdigest()
    _check_not_imported(trial, digest)
    job = BackgroundJob(
        kind=BackgroundJob.Kind.LAB_IMPORT,
        trial=trial,
        site=site,
        user=user,
        total=len(message.results),
        file_name=file_name[:200],
        file_format=message.fmt,
        content=content,
        file_sha256=digest,
        params={"encoding": message.encoding, "channel": LabImport.Channel.PAGE},
    )
    return job_submit(job, backend=backend)


def lab_values_store(
    *,
    trial: Trial,
    user: AbstractBaseUser,
    content: bytes,
    fmt: str,
    encoding: str,
    values: list[ReadValue],
    problems: list[LabProblem],
    channel: str,
    file_name: str,
    site: Site | None,
    imported_at: datetime,
) -> LabImport:
    """Store a read message's values and seal the import, all or nothing.

    ``problems`` are those found reading it; with the candidates' sites
    checked here (who may import where, a closed trial) and the message's
    SHA-256 (once per trial), any problem refuses it whole (``LabFileError``).
    """
    _check_member(user, trial, site)
    problems = list(problems)
    now = imported_at
    sites = _sites(trial, values, user, site, problems)
    if problems:
        raise LabFileError(problems)
    digest = hashlib.sha256(content).hexdigest()
    _check_not_imported(trial, digest)
    record = LabImport(
        trial=trial,
        imported_by=user,
        imported_at=now,
        file_format=fmt,
        channel=channel,
        file_name=file_name[:200],
        sha256=digest,
        encoding=encoding,
        content=content,
        value_count=len(values),
    )
    record.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            record.save(force_insert=True)
            LabValue.unscoped.bulk_create(
                LabValue(
                    lab_import=record,
                    position=v.position,
                    trial=trial,
                    site_id=sites[v.screening_number],
                    screening_number=v.screening_number,
                    input_key=v.input.key,
                    test=v.test,
                    value_text=v.value_text,
                    unit_text=v.unit_text,
                    reference_high=v.reference_high,
                    collected_at=v.collected_at,
                    entry=v.entry,
                    normalised=v.normalised,
                )
                for v in values
            )
            # Sealed with its values, in their transaction.
            seal_written(record)
    except IntegrityError:
        # The same message, imported at the same moment by someone else.
        raise LabFileError(
            [LabProblem("", "", "already_imported", {"when": now})]
        ) from None
    return record


def lab_value_approve(*, value: LabValue, user: AbstractBaseUser) -> LabReview:
    """Approve a waiting value: it may now pre-fill the candidate's screening form."""
    return _review(value, user, LabReview.Verdict.APPROVED, "")


def lab_value_reject(
    *, value: LabValue, user: AbstractBaseUser, reason: str
) -> LabReview:
    """Reject a waiting value, with the reason; it never pre-fills a form."""
    if not reason.strip():
        raise ValidationError(
            {
                "reason": ValidationError(
                    _("Give the reason for rejecting."), code="required"
                )
            }
        )
    return _review(value, user, LabReview.Verdict.REJECTED, reason.strip())


def _review(value: LabValue, user, verdict: str, reason: str) -> LabReview:
    if not scope_for(user).can(SCREEN, value.trial_id, value.site_id):
        raise PermissionDenied("not a member who may screen at this value's site")
    review = LabReview(
        value=value,
        verdict=verdict,
        reason=reason,
        reviewed_by=user,
        reviewed_at=timezone.now(),
    )
    review.full_clean(exclude=["value"], validate_unique=False)
    try:
        with transaction.atomic():
            review.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(
            _("This value was already reviewed."), code="already_reviewed"
        ) from None
    return review


# -- the sources of a recorded decision's lab values ---------------------------


def _decimal(text) -> Decimal | None:
    try:
        return Decimal(str(text)) if text not in (None, "") else None
    except InvalidOperation:
        return None


def _minute(text) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _comparable(normalised) -> tuple | None:
    """A normalised lab value as (value, unit, comparator, uln, minute)."""
    if normalised is None:
        return None
    if not isinstance(normalised, dict):
        return (_decimal(normalised), "", "", None, None)
    if "status" in normalised:
        return None
    return (
        _decimal(normalised.get("value")),
        normalised.get("unit", ""),
        normalised.get("comparator", ""),
        _decimal(normalised.get("uln")),
        # The form's time field keeps minutes: a lab's seconds are not a change.
        _minute(normalised.get("time")),
    )


def provenance(value: LabValue) -> dict:
    """Where an approved value came from, as the decision keeps it."""
    lab = value.lab_import
    review = value.review
    return {
        "value_id": value.pk,
        "import_id": lab.pk,
        "format": lab.file_format,
        "message_sha256": lab.sha256,
        "file_name": lab.file_name,
        "position": value.position,
        "test": value.test,
        "value": value.value_text,
        "unit": value.unit_text,
        "reference_high": value.reference_high,
        "collected_at": value.collected_at.astimezone(UTC).isoformat(),
        "imported_by": lab.imported_by.get_username(),
        "imported_at": lab.imported_at.astimezone(UTC).isoformat(),
        "approved_by_id": review.reviewed_by_id,
        "approved_by": review.reviewed_by.get_username(),
        "approved_at": review.reviewed_at.astimezone(UTC).isoformat(),
    }


def lab_source_content(source: LabSource) -> dict:
    """What a source's hash covers: the decision's hash and the provenance."""
    return {
        "decision_id": source.decision_id,
        "decision_hash": source.decision_hash,
        "input": source.input_key,
        "source": source.source,
        "value_id": source.value_id,
        "content": source.content,
    }


def lab_values_offered(
    *, trial_id: int, screening_number: str
) -> dict[str, list[LabValue]]:
    """The approved lab values waiting for a screening number, by input key,
    newest first: what the screening form offered. Read before the decision's
    chain lock (``lab_sources_record`` then only compares and inserts).
    """
    waiting = list(
        LabValue.objects.system()
        .filter(
            trial_id=trial_id,
            screening_number=screening_number,
            review__verdict=LabReview.Verdict.APPROVED,
        )
        .values_list("pk", flat=True)
    )
    if not waiting:
        # Most candidates: one small query, not the joins provenance needs.
        return {}
    approved = (
        LabValue.objects.system()
        .filter(pk__in=waiting, review__verdict=LabReview.Verdict.APPROVED)
        .select_related("lab_import__imported_by", "review__reviewed_by")
        .order_by("input_key", "-collected_at", "-id")
    )
    offered: dict[str, list[LabValue]] = {}
    for value in approved:
        offered.setdefault(value.input_key, []).append(value)
    return offered


def lab_sources_record(
    *, decision: EligibilityDecision, offered: dict[str, list[LabValue]]
) -> list[LabSource]:
    """For each lab input of a new decision with approved values offered for it
    (``lab_values_offered``): LAB (and which value) when the recorded value is
    an approved one, TYPED when the coordinator recorded another. Called in the
    decision's transaction.
    """
    sources = []
    for key, values in offered.items():
        recorded = _comparable(decision.normalised.get(key))
        if recorded is None:
            continue
        match = next((v for v in values if _comparable(v.normalised) == recorded), None)
        if match is not None:
            source = LabSource(
                decision=decision,
                input_key=key,
                source=LabSource.Source.LAB,
                value=match,
                content=provenance(match),
            )
        else:
            source = LabSource(
                decision=decision,
                input_key=key,
                source=LabSource.Source.TYPED,
                value=None,
                content={"not_used": [v.pk for v in values]},
            )
        source.decision_hash = decision.content_hash
        source.content = json.loads(audit.canonical_json(source.content))
        source.content_hash = audit.sha256(lab_source_content(source))
        sources.append(source)
    for source in sources:
        # One by one: each is sealed in the ledger as it is saved.
        source.save(force_insert=True)
    return sources
