"""What the ledger seals of each audited row, and the HMAC over an entry.

An entry's content is ``{"row": ..., "users": ...}``: ``row`` holds the row's
audited fields as the database returns them (verification recomputes it from the
current row), ``users`` the identity (id, user name, first and last name) of each
user the row names, as it was when the row was written.

The functions take the model classes they work on, so the data migration that
seals existing rows uses them with its historical models.
"""

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import models

from screening.audit import canonical_json, decision_content, sha256
from screening.ledger.models import LedgerEntry

Kind = LedgerEntry.Kind

GENESIS_MAC = "0" * 64
SITE_CHAIN = "site"
# Every historical model (django-simple-history) of these apps is sealed.
HISTORY_APPS = ("trials",)


def trial_chain(trial_id: int) -> str:
    return f"trial:{trial_id}"


def utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def entry_mac(
    key: bytes,
    *,
    chain: str,
    sequence: int,
    kind: str,
    object_table: str,
    object_pk: int,
    content: dict,
    previous_mac: str,
    key_id: str,
    recorded_at: datetime,
) -> str:
    message = canonical_json(
        {
            "chain": chain,
            "sequence": sequence,
            "kind": kind,
            "object": [object_table, object_pk],
            "content": content,
            "previous_mac": previous_mac,
            "key_id": key_id,
            "recorded_at": utc_iso(recorded_at),
        }
    )
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def stored_value(field: models.Field, value):
    """``value`` as the database gives it back, in JSON (a file's bytes as SHA-256)."""
    if value is None:
        return None
    if isinstance(field, models.BinaryField):
        return hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(field, models.JSONField):
        return value
    value = field.to_python(value)
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        if isinstance(field, models.DecimalField):
            value = value.quantize(Decimal(1).scaleb(-field.decimal_places))
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    return value


def row_fields(obj: models.Model, exclude: Iterable[str] = ()) -> dict:
    """Every concrete field of ``obj`` by column attribute, except ``exclude``."""
    skip = set(exclude)
    return {
        f.attname: stored_value(f, getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
        if f.attname not in skip and f.name not in skip
    }


def is_user_model(model) -> bool:
    return model._meta.label_lower == settings.AUTH_USER_MODEL.lower()


def identity(user) -> dict | None:
    """Who a user is: what a page shows of them and what a rename by SQL changes."""
    if user is None:
        return None
    return {
        "id": user.pk,
        "username": getattr(user, getattr(type(user), "USERNAME_FIELD", "username")),
        "first_name": getattr(user, "first_name", ""),
        "last_name": getattr(user, "last_name", ""),
    }


def user_fields(model) -> list[models.ForeignKey]:
    return [
        f
        for f in model._meta.concrete_fields
        if f.many_to_one and is_user_model(f.related_model)
    ]


def users_named(obj: models.Model) -> dict:
    """The identity of each user that ``obj`` names, by field name."""
    named = {}
    for f in user_fields(type(obj)):
        if getattr(obj, f.attname) is None:
            named[f.name] = None
        else:
            named[f.name] = identity(getattr(obj, f.name))
    return named


@dataclass(frozen=True)
class Audited:
    """One audited model: its kind, its chain, its time, what is sealed of a row."""

    kind: str
    model: type[models.Model]
    chain_of: Callable[[models.Model], str]
    time_field: str
    exclude: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def row(self, obj: models.Model) -> dict:
        return row_fields(obj, self.exclude)

    def content(self, obj: models.Model) -> dict:
        return {"row": self.row(obj), "users": users_named(obj)}

    def rows(self, pks: Iterable[int]) -> dict[int, tuple[models.Model, dict]]:
        """The rows of ``pks`` now in the database, with what they seal now."""
        queryset = self.model._base_manager.filter(pk__in=list(pks))
        if self.exclude:
            queryset = queryset.defer(*self.exclude)
        return {obj.pk: (obj, self.row(obj)) for obj in queryset}

    def all_pks(self):
        return self.model._base_manager.order_by("pk").values_list("pk", flat=True)


class AuditedDecision(Audited):
    """A decision seals its content hash, which covers every field and outcome.

    When written, the hash is the one the service computed; when verified, it is
    recomputed from the decision's and its outcomes' rows.
    """

    # The fields ``row`` reads.
    sealed_fields = ("trial", "sequence", "recorded_by", "content_hash")

    def row(self, obj):
        return {
            "trial_id": obj.trial_id,
            "sequence": obj.sequence,
            "recorded_by_id": obj.recorded_by_id,
            "content_hash": obj.content_hash,
        }

    def rows(self, pks, *, rehashed_trials: frozenset[int] = frozenset()):
        """The rows of ``pks``, their content hashed again.

        ``rehashed_trials``: trials whose every decision was just hashed again
        and found equal to its stored hash, in the same snapshot of the
        database (``verify_chains``): their stored hash is the recomputed one,
        and is read instead of hashing each decision a second time.
        """
        decisions = list(
            self.model._base_manager.filter(pk__in=list(pks)).only(*self.sealed_fields)
        )
        found = {
            d.pk: (d, self.row(d)) for d in decisions if d.trial_id in rehashed_trials
        }
        rest = [d.pk for d in decisions if d.pk not in found]
        if not rest:
            return found
        decisions = self.model._base_manager.filter(pk__in=rest)
        if any(f.name == "snapshot" for f in self.model._meta.concrete_fields):
            decisions = decisions.select_related("snapshot")  # hashed with each
        decisions = list(decisions)
        outcome_model = self.model._meta.get_field("outcomes").related_model
        outcomes = {d.pk: [] for d in decisions}
        for outcome in outcome_model._base_manager.filter(decision__in=decisions):
            outcomes[outcome.decision_id].append(outcome)
        for d in decisions:
            row = self.row(d)
            row["content_hash"] = sha256(decision_content(d, outcomes[d.pk]))
            found[d.pk] = (d, row)
        return found


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class AuditedUpload(Audited):
    """An upload seals its fields, its file's SHA-256 and how many result rows it has.

    The file's bytes and the result rows (patient values) are not copied into
    the ledger; their digest and count are. When verified, both are recomputed
    from the database, so an emptied file or a deleted result row is reported,
    unless a sealed purge (``PrescreenPurge``) accounts for it: a purged upload
    must hold an empty file and no result rows, and then verifies as sealed.
    """

    result_model: type[models.Model] | None = None
    purge_model: type[models.Model] | None = None

    def row(self, obj):
        row = super().row(obj)
        row["content_sha256"] = hashlib.sha256(bytes(obj.content)).hexdigest()
        # The upload is sealed when saved, before its result rows are written:
        # the service says how many it is about to write.
        pending = getattr(obj, "_ledger_result_rows", None)
        row["result_rows"] = (
            pending
            if pending is not None
            else self.result_model._base_manager.filter(upload_id=obj.pk).count()
        )
        return row

    def rows(self, pks):
        pks = list(pks)
        uploads = self.model._base_manager.filter(pk__in=pks).defer(*self.exclude)
        found = {obj.pk: (obj, row_fields(obj, self.exclude)) for obj in uploads}
        counts = dict(
            self.result_model._base_manager.filter(upload_id__in=list(found))
            .order_by()
            .values("upload_id")
            .annotate(n=models.Count("pk"))
            .values_list("upload_id", "n")
        )
        purges = {}
        if self.purge_model is not None:
            purges = {
                p.upload_id: p
                for p in self.purge_model._base_manager.filter(
                    upload_id__in=list(found)
                )
            }
        files = (
            self.model._base_manager.filter(pk__in=list(found))
            .order_by()
            .values_list("pk", "content")
        )
        for pk, content in files.iterator(chunk_size=20):
            obj, row = found[pk]
            row["content_sha256"] = hashlib.sha256(bytes(content)).hexdigest()
            row["result_rows"] = counts.get(pk, 0)
            purge = purges.get(pk)
            if (
                purge is not None
                and row["content_sha256"] == EMPTY_SHA256
                and row["result_rows"] == 0
            ):
                # Removed by the recorded purge: what it held is the tombstone's.
                row["content_sha256"] = purge.file_sha256
                row["result_rows"] = purge.row_count
        return found


class AuditedIdentity(Audited):
    """A user's identity, sealed when created and whenever it changes."""

    def row(self, obj):
        return identity(obj)

    def content(self, obj):
        return {"row": self.row(obj), "users": {}}


@dataclass(frozen=True)
class AuditedDigested(Audited):
    """Fields holding patient data or free text (``digested``) sealed as SHA-256.

    The ledger keeps no copy of them; a change still shows, as ``<field>_sha256``.
    """

    digested: tuple[str, ...] = ()

    def row(self, obj):
        row = super().row(obj)
        for name in self.digested:
            row[f"{name}_sha256"] = sha256({"value": row.pop(name)})
        return row


@dataclass(frozen=True)
class AuditedLabImport(Audited):
    """A lab message seals its fields, its bytes' SHA-256 and its values' digest.

    Neither the message nor its values (patient data) are copied into the
    ledger: the digest covers every field of every value in position order, and
    how many there are. An import is sealed once its values are written (by its
    service, in the same transaction); when verified, both are recomputed.
    """

    value_model: type[models.Model] | None = None

    def _values_row(self, values: list[models.Model]) -> dict:
        return {
            "values": len(values),
            "values_sha256": sha256(
                {"values": [row_fields(v, ("id", "lab_import")) for v in values]}
            ),
        }

    def _values_of(self, pks) -> dict[int, list[models.Model]]:
        found = {pk: [] for pk in pks}
        for value in self.value_model._base_manager.filter(
            lab_import_id__in=list(found)
        ).order_by("lab_import_id", "position", "pk"):
            found[value.lab_import_id].append(value)
        return found

    def row(self, obj):
        row = super().row(obj)
        row["content_sha256"] = hashlib.sha256(bytes(obj.content)).hexdigest()
        row.update(self._values_row(self._values_of([obj.pk])[obj.pk]))
        return row

    def rows(self, pks):
        imports = self.model._base_manager.filter(pk__in=list(pks)).defer(*self.exclude)
        found = {obj.pk: (obj, row_fields(obj, self.exclude)) for obj in imports}
        values = self._values_of(found)
        files = (
            self.model._base_manager.filter(pk__in=list(found))
            .order_by()
            .values_list("pk", "content")
        )
        for pk, content in files.iterator(chunk_size=20):
            obj, row = found[pk]
            row["content_sha256"] = hashlib.sha256(bytes(content)).hexdigest()
            row.update(self._values_row(values[pk]))
        return found


def _trial_id(obj: models.Model, trial_model, depth: int = 0) -> int | None:
    """The trial a row belongs to, following its foreign keys (history rows too)."""
    meta, trial = obj._meta, trial_model._meta
    if meta.label_lower == trial.label_lower:
        return obj.pk
    if meta.object_name == f"Historical{trial.object_name}":
        return obj.id
    relations = [
        f
        for f in meta.concrete_fields
        if f.many_to_one
        and not is_user_model(f.related_model)
        and getattr(obj, f.attname) is not None
    ]
    for f in relations:
        if f.related_model._meta.label_lower == trial.label_lower:
            return getattr(obj, f.attname)
    if depth >= 3:
        return None
    for f in relations:
        related = f.related_model._base_manager.filter(
            pk=getattr(obj, f.attname)
        ).first()
        if related is not None:
            found = _trial_id(related, trial_model, depth + 1)
            if found is not None:
                return found
    return None


def history_models(apps) -> list[type[models.Model]]:
    return [
        model
        for app in HISTORY_APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.object_name.startswith("Historical")
        and any(f.name == "history_id" for f in model._meta.concrete_fields)
    ]


def audited(apps) -> list[Audited]:
    """Every audited model of the ``apps`` registry (live, or a migration's)."""
    Trial = apps.get_model("trials", "Trial")
    Decision = apps.get_model("screening", "EligibilityDecision")
    Signature = apps.get_model("screening", "Signature")
    Export = apps.get_model("screening", "ScreeningLogExport")
    Upload = apps.get_model("screening", "PrescreenUpload")
    Result = apps.get_model("screening", "PrescreenResult")
    try:
        Purge = apps.get_model("screening", "PrescreenPurge")
    except LookupError:  # a migration's state before purges existed
        Purge = None
    try:
        Enrolment = apps.get_model("screening", "Enrolment")
    except LookupError:  # a migration's state before enrolments existed
        Enrolment = None
    try:
        LabImport = apps.get_model("labs", "LabImport")
        LabValue = apps.get_model("labs", "LabValue")
        LabReview = apps.get_model("labs", "LabReview")
        LabSource = apps.get_model("labs", "LabSource")
    except LookupError:  # a migration's state before the lab inbox
        LabImport = None
    AccessEvent = apps.get_model("accounts", "AccessEvent")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    try:
        Review = apps.get_model("ledger", "AuditReview")
        Refusal = apps.get_model("ledger", "SignatureRefusal")
    except LookupError:  # a migration's state before audit-trail reviews
        Review = Refusal = None

    def by_trial(obj):
        return trial_chain(obj.trial_id)

    def by_decision(obj):
        return trial_chain(obj.decision.trial_id)

    def by_upload(obj):
        return trial_chain(obj.upload.trial_id)

    def by_value(obj):
        return trial_chain(obj.value.trial_id)

    def by_history(obj):
        trial_id = _trial_id(obj, Trial)
        return trial_chain(trial_id) if trial_id is not None else SITE_CHAIN

    def site(obj):
        return SITE_CHAIN

    specs = [
        AuditedDecision(Kind.DECISION, Decision, by_trial, "recorded_at"),
        Audited(Kind.SIGNATURE, Signature, by_decision, "signed_at"),
        Audited(Kind.EXPORT, Export, by_trial, "exported_at"),
        # The file's bytes are named by their SHA-256; the ledger does not copy them.
        AuditedUpload(
            Kind.UPLOAD,
            Upload,
            by_trial,
            "uploaded_at",
            exclude=("content",),
            result_model=Result,
            purge_model=Purge,
        ),
        Audited(Kind.ACCESS, AccessEvent, site, "at"),
        AuditedIdentity(Kind.IDENTITY, User, site, "date_joined"),
    ]
    if Purge is not None:
        specs.append(Audited(Kind.PURGE, Purge, by_upload, "purged_at"))
    if Enrolment is not None:
        # Part of the candidate's record in the trial's chain, sealed under the
        # decision kind (the entry's table tells them apart): a kind of its own
        # would need the ledger's kind constraint changed by a migration.
        specs.append(Audited(Kind.DECISION, Enrolment, by_trial, "recorded_at"))
    if Review is not None:
        specs.append(Audited(Kind.REVIEW, Review, by_trial, "signed_at"))
        # An attempt at a signature, refused: sealed with the signatures.
        specs.append(Audited(Kind.SIGNATURE, Refusal, by_trial, "refused_at"))
    if LabImport is not None:
        # The lab inbox, in the trial's chain under existing kinds (the entry's
        # table tells them apart; a kind of its own would need the ledger's kind
        # constraint changed by a migration): a message received is an upload,
        # sealed with its values; a value's review and a decision's lab source
        # are part of the candidate's record.
        specs += [
            AuditedLabImport(
                Kind.UPLOAD,
                LabImport,
                by_trial,
                "imported_at",
                exclude=("content",),
                value_model=LabValue,
            ),
            AuditedDigested(
                Kind.DECISION, LabReview, by_value, "reviewed_at", digested=("reason",)
            ),
            # No time of its own: written in its decision's transaction.
            AuditedDigested(
                Kind.DECISION, LabSource, by_decision, "id", digested=("content",)
            ),
        ]
    specs += [
        Audited(Kind.HISTORY, model, by_history, "history_date")
        for model in history_models(apps)
    ]
    return specs
