"""Seal each audited row as it is written, in the same transaction.

Decisions, signatures, exports, uploads, purges of uploads, enrolments,
access events, audit-trail reviews, refused self-signings, reviews of lab
values and decisions' lab sources when created; a lab import by its service
once its values are written (``seal_written``);
every historical row of the trials app (criteria history, and any history
model added later) when simple_history creates it; a user's identity when
the user is created and whenever their user name or name changes.
"""

import json
from functools import cache

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from simple_history.signals import post_create_historical_record

from screening.audit import canonical_json
from screening.ledger.content import Audited, audited
from screening.ledger.models import LedgerEntry
from screening.ledger.services import ledger_seal

IDENTITY_FIELDS = {"username", "first_name", "last_name"}
SEALED_ON_CREATE = (
    "screening.EligibilityDecision",
    "screening.Signature",
    "screening.ScreeningLogExport",
    "screening.PrescreenUpload",
    "screening.PrescreenPurge",
    "screening.Enrolment",
    "accounts.AccessEvent",
    "ledger.AuditReview",
    "ledger.SignatureRefusal",
    "labs.LabReview",
    "labs.LabSource",
)


@cache
def live_specs() -> dict[type, Audited]:
    return {spec.model: spec for spec in audited(apps)}


def seal_written(obj) -> None:
    """Seal a row that its service wrote with others it covers (a lab import)."""
    ledger_seal(spec=live_specs()[type(obj)], obj=obj)


def _created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        ledger_seal(spec=live_specs()[sender], obj=instance)


def _history_created(sender, history_instance, **kwargs):
    spec = live_specs().get(sender)
    if spec is not None:
        ledger_seal(spec=spec, obj=history_instance)


def _user_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if update_fields is not None and not IDENTITY_FIELDS & set(update_fields):
        return
    spec = live_specs()[sender]
    if not created:
        latest = (
            LedgerEntry.objects.filter(
                kind=LedgerEntry.Kind.IDENTITY,
                object_table=spec.table,
                object_pk=instance.pk,
            )
            .order_by("-sequence")
            .values_list("content", flat=True)
            .first()
        )
        if latest == json.loads(canonical_json(spec.content(instance))):
            return
    ledger_seal(spec=spec, obj=instance)


for label in SEALED_ON_CREATE:
    post_save.connect(
        _created, sender=apps.get_model(label), dispatch_uid=f"ledger:{label}"
    )
post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="ledger:user")
post_create_historical_record.connect(_history_created, dispatch_uid="ledger:history")
