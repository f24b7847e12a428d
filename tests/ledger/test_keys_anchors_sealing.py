"""The ledger's key (rotation, required in production), anchors, and sealing
the rows of a database that predates the ledger."""

import json
import os
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.test import override_settings

from screening.ledger.models import LedgerEntry, LedgerHead
from screening.ledger.sealing import seal_existing
from tests.factories import eligible_candidate
from tests.ledger.conftest import anchor, triggers_off, verify

NEW_KEY = "a-new-audit-key-for-the-rotation-test-0123456789"


def test_after_a_rotation_old_entries_verify_with_the_old_key(audited_trial, record):
    old_id, old_key = settings.AUDIT_HMAC_KEY_ID, settings.AUDIT_HMAC_KEY
    rotated = {
        "AUDIT_HMAC_KEY": NEW_KEY,
        "AUDIT_HMAC_KEY_ID": "k2",
        "AUDIT_HMAC_OLD_KEYS": f"{old_id}:{old_key}",
    }
    with override_settings(**rotated):
        record(eligible_candidate(screening_number="01-009"))
        assert "Audit ledger intact" in verify()
    key_ids = set(LedgerEntry.objects.values_list("key_id", flat=True))
    assert key_ids == {old_id, "k2"}
    # Without the old key, the first entry it signed cannot be verified.
    with override_settings(**{**rotated, "AUDIT_HMAC_OLD_KEYS": ""}):
        with pytest.raises(CommandError, match=f"key id '{old_id}', which is not"):
            verify()


def test_another_key_under_the_same_id_does_not_verify(audited_trial):
    with override_settings(AUDIT_HMAC_KEY=NEW_KEY):
        with pytest.raises(CommandError, match="HMAC does not match"):
            verify()


def test_the_key_is_never_stored_in_the_database(audited_trial):
    key = settings.AUDIT_HMAC_KEY
    for content, mac in LedgerEntry.objects.values_list("content", "mac"):
        assert key not in json.dumps(content) and key not in mac


def test_production_refuses_to_start_without_the_key():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "screening.example.org",
        "DATABASE_URL": "postgres://screening@127.0.0.1:5432/screening",
    }
    env.pop("AUDIT_HMAC_KEY", None)
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"AUDIT_HMAC_KEY": "short"}, "shorter than 32"),
        ({"AUDIT_HMAC_KEY": ""}, "must be set"),
        ({"AUDIT_HMAC_OLD_KEYS": "no-colon"}, "is not 'id:key'"),
    ],
)
def test_a_bad_key_configuration_fails_the_system_check(overrides, message):
    from screening.ledger.checks import ledger_keys

    with override_settings(**overrides):
        errors = ledger_keys(None)
    assert [e.id for e in errors] in (["ledger.E001"], ["ledger.E002"])
    assert message in errors[0].msg


def test_the_database_refuses_to_change_or_delete_an_entry(audited_trial):
    for statement in (
        "UPDATE ledger_ledgerentry SET mac = 'x'",
        "DELETE FROM ledger_ledgerentry",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert LedgerEntry.objects.filter(mac="x").count() == 0


def test_audit_anchor_appends_each_chains_head(audited_trial, record, tmp_path):
    path = tmp_path / "anchors.jsonl"
    with override_settings(AUDIT_ANCHOR_FILE=str(path)):
        call_command("audit_anchor", stdout=open(os.devnull, "w"))  # noqa: SIM115
    record(eligible_candidate(screening_number="01-010"))
    anchor(path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    chains = set(LedgerHead.objects.values_list("chain", flat=True))
    assert len(lines) == 2 * len(chains)
    assert {line["chain"] for line in lines} == chains
    trial_chain = f"trial:{audited_trial.trial.pk}"
    first, second = (line for line in lines if line["chain"] == trial_chain)
    assert second["sequence"] == first["sequence"] + 1
    head = LedgerHead.objects.get(chain=trial_chain)
    assert (second["sequence"], second["mac"]) == (head.sequence, head.mac)
    assert second["anchored_at"].endswith("+00:00")
    # Every anchored head, old and new, is still in its chain.
    assert f"{len(lines)} anchors" in verify(path)


@pytest.mark.parametrize("text", ["not json\n", '{"chain": "site"}\n'])
def test_an_unreadable_anchor_file_fails_verification(audited_trial, tmp_path, text):
    path = tmp_path / "anchors.jsonl"
    path.write_text(text)
    with pytest.raises(CommandError, match="line 1 is not an anchor"):
        verify(path)
    with pytest.raises(CommandError, match="cannot read the anchor file"):
        verify(tmp_path / "missing.jsonl")


def test_sealing_a_database_that_predates_the_ledger(audited_trial, tmp_path):
    """The data migration's sealing: every existing row, in chain order."""
    counts = dict(LedgerEntry.objects.values_list("chain").annotate(n=Count("id")))
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM ledger_ledgerentry")
        cursor.execute("DELETE FROM ledger_ledgerhead")
    with pytest.raises(CommandError, match="has no ledger entry"):
        verify()
    sealed = seal_existing(apps)
    assert sealed == sum(counts.values())
    assert (
        dict(LedgerEntry.objects.values_list("chain").annotate(n=Count("id"))) == counts
    )
    anchor(tmp_path / "anchors.jsonl")
    assert "Audit ledger intact" in verify(tmp_path / "anchors.jsonl")
    # A second run seals nothing more.
    assert seal_existing(apps) == 0
