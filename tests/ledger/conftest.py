"""A trial with something of every audited kind, and tools to tamper with it."""

import io
import json
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from screening.common import db_triggers
from screening.decisions.services import signature_record
from screening.models import EligibilityDecision, Signature
from screening.prescreen.services import prescreen_upload_record
from screening.reports.services import screening_log_export_record
from tests.factories import eligible_candidate
from trials.models import Condition
from trials.services import version_draft_create


@dataclass(repr=False)
class AuditedTrial:
    trial: object
    decisions: list
    signatures: list
    export: object
    upload: object
    condition: object


@pytest.fixture
def audited_trial(trial, record, coordinator, investigator, password):
    """Three decisions (two signed), an export, an upload and a criterion edit."""
    decisions = [
        record(eligible_candidate(screening_number="01-001")),
        record(
            eligible_candidate(screening_number="01-002", inr="3.5", pta_percent="10")
        ),
        record(eligible_candidate(screening_number="01-003")),
    ]
    signatures = [
        signature_record(
            decision=decision,
            signer=investigator,
            password=password,
            meaning=Signature.Meaning.CONFIRM,
        )
        for decision in decisions[:2]
    ]
    export = screening_log_export_record(
        trial=trial, user=coordinator, export_format="csv", filters={"q": "01"}
    )
    candidates = [eligible_candidate(screening_number="P-001")]
    upload = prescreen_upload_record(
        trial=trial,
        user=coordinator,
        file_name="candidates.json",
        file_format="json",
        content=json.dumps(candidates).encode(),
        records=candidates,
    )
    # Only a draft's criteria change: the amendment's history is sealed.
    draft = version_draft_create(trial=trial, user=None, label="Amendment 2")
    condition = Condition.objects.get(
        criterion__version=draft, criterion__code="I6", variable="crp_mg_l"
    )
    condition.value_low = Decimal(6)
    condition._change_reason = "Protocol amendment 2"
    condition.save()
    return AuditedTrial(trial, decisions, signatures, export, upload, condition)


def verify(anchors=None) -> str:
    """What verify_audit prints; its CommandError when it finds a problem."""
    out = io.StringIO()
    arguments = ["--anchors", str(anchors)] if anchors is not None else []
    call_command("verify_audit", *arguments, stdout=out)
    return out.getvalue()


def anchor(path) -> None:
    call_command("audit_anchor", "--file", str(path), stdout=io.StringIO())


@contextmanager
def triggers_off():
    """As someone with database access who bypasses the append-only triggers."""
    db_triggers.remove(connection)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        db_triggers.install(connection)


def table(model) -> str:
    return model._meta.db_table


def decisions_of(trial) -> list:
    return list(
        EligibilityDecision._base_manager.filter(trial=trial).order_by("sequence")
    )
