"""Append-only records, the hash chain, verify_audit and sign-off."""

import os
import sqlite3
import subprocess
import sys
import threading
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from accounts import roles
from screening import audit
from screening.common import db_triggers
from screening.decisions.services import (
    ScreeningNumberTaken,
    decision_record,
    signature_record,
)
from screening.domain.contract import CandidateError
from screening.models import CriterionOutcome, EligibilityDecision, Signature
from tests.factories import UserFactory, eligible_candidate


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE screening_eligibilitydecision SET outcome = 'ELIGIBLE'",
        "DELETE FROM screening_eligibilitydecision",
        "UPDATE screening_criterionoutcome SET reason = 'x'",
        "DELETE FROM screening_criterionoutcome",
        "UPDATE screening_signature SET reason = 'x'",
        "DELETE FROM screening_signature",
    ],
)
def test_database_refuses_update_and_delete(record, investigator, password, statement):
    decision = record(eligible_candidate(inr="3.5", pta_percent="10"))
    signature_record(
        decision=decision,
        signer=investigator,
        password=password,
        meaning=Signature.Meaning.CONFIRM,
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)
    decision.refresh_from_db()
    assert decision.outcome == EligibilityDecision.Result.INELIGIBLE
    assert CriterionOutcome.objects.filter(decision=decision).count() == 14


def test_orm_update_and_delete_are_refused(record):
    decision = record()
    with pytest.raises(DatabaseError), transaction.atomic():
        EligibilityDecision.unscoped.filter(pk=decision.pk).update(initials="XX")
    with pytest.raises(DatabaseError), transaction.atomic():
        CriterionOutcome.objects.filter(decision=decision).delete()
    assert EligibilityDecision.unscoped.get(pk=decision.pk).initials == "ZW"


def test_chain_links_each_decision_to_the_previous(record):
    first = record(eligible_candidate(screening_number="01-001"))
    second = record(eligible_candidate(screening_number="01-002"))
    assert first.sequence == 1 and first.previous_hash == audit.GENESIS_HASH
    assert second.sequence == 2 and second.previous_hash == first.content_hash
    stored = EligibilityDecision.unscoped.get(pk=second.pk)
    assert audit.sha256(
        audit.decision_content(stored, list(stored.outcomes.all()))
    ) == (stored.content_hash)


@pytest.mark.parametrize(
    ("sequence", "previous_hash"),
    [(1, audit.GENESIS_HASH), (2, "a" * 64), (1_000_000, "0123456789abcdef" * 4)],
)
def test_content_serialised_before_the_lock_hashes_as_the_whole_content(
    record, sequence, previous_hash
):
    """``decision_hasher`` puts the chain position into content serialised
    before the lock; its hash is the hash of the whole content, whatever the
    text around the slots (full-width, quotes, a look-alike of a placeholder)."""
    original = record(eligible_candidate(screening_number="01-009"))
    stored = record(
        eligible_candidate(screening_number="01-009"),
        supersedes=original,
        supersede_reason='"S0123" "sequence":1 "previous_hash": 全角１２３ 王芳',
    )
    stored = EligibilityDecision.unscoped.get(pk=stored.pk)
    outcomes = list(stored.outcomes.all())
    hashed = audit.decision_hasher(stored, outcomes)(sequence, previous_hash)
    stored.sequence, stored.previous_hash = sequence, previous_hash
    assert hashed == audit.sha256(audit.decision_content(stored, outcomes))
    # The hasher's own content is unchanged by the call: it can retry.
    assert audit.decision_hasher(stored, outcomes)(sequence, previous_hash) == hashed
    with pytest.raises(ValueError):
        audit.decision_hasher(stored, outcomes)("1", previous_hash)
    with pytest.raises(ValueError):
        audit.decision_hasher(stored, outcomes)(1, "short")


def test_verify_audit_passes_on_an_intact_chain(record, capsys):
    for number in ("01-001", "01-002", "01-003"):
        record(eligible_candidate(screening_number=number))
    call_command("verify_audit")
    assert "3 decisions" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("table", "assignment"),
    [
        ("screening_eligibilitydecision", "outcome = 'INELIGIBLE'"),
        ("screening_eligibilitydecision", "initials = 'QQ'"),
        ("screening_criterionoutcome", "reason = 'tampered'"),
        (
            "screening_eligibilitydecision",
            "previous_hash = '" + "1" * 64 + "'",
        ),
    ],
)
def test_verify_audit_detects_a_row_changed_behind_the_apps_back(
    record, table, assignment
):
    record(eligible_candidate(screening_number="01-001"))
    target = record(eligible_candidate(screening_number="01-002"))
    record(eligible_candidate(screening_number="01-003"))
    db_triggers.remove(connection)
    key = "id" if table == "screening_eligibilitydecision" else "decision_id"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignment} WHERE {key} = %s", [target.pk])  # noqa: S608
    db_triggers.install(connection)
    with pytest.raises(CommandError, match=f"decision id {target.pk}"):
        call_command("verify_audit")


def test_verify_audit_detects_a_tampered_signature(record, investigator, password):
    decision = record()
    signature_record(
        decision=decision,
        signer=investigator,
        password=password,
        meaning=Signature.Meaning.CONFIRM,
    )
    db_triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE screening_signature SET signer_full_name = 'Someone Else'"
        )
    db_triggers.install(connection)
    with pytest.raises(CommandError, match="signature"):
        call_command("verify_audit")


def test_screening_number_is_unique_for_first_screenings(record):
    record(eligible_candidate(screening_number="01-007"))
    with pytest.raises(ScreeningNumberTaken):
        record(eligible_candidate(screening_number="01-007"))
    assert EligibilityDecision.unscoped.count() == 1


def test_correction_supersedes_with_reason_and_keeps_the_original(record):
    original = record(eligible_candidate(inr="3.5", pta_percent="10"))
    with pytest.raises(ValidationError) as missing_reason:
        record(eligible_candidate(), supersedes=original, supersede_reason="  ")
    assert missing_reason.value.error_dict["supersede_reason"][0].code == "required"
    corrected = record(
        eligible_candidate(), supersedes=original, supersede_reason="INR mistyped"
    )
    assert corrected.supersedes == original
    assert corrected.outcome == EligibilityDecision.Result.ELIGIBLE
    original.refresh_from_db()
    assert original.outcome == EligibilityDecision.Result.INELIGIBLE
    with pytest.raises(ValidationError) as twice:
        record(eligible_candidate(), supersedes=original, supersede_reason="again")
    assert twice.value.code == "already_superseded"


def test_invalid_data_records_nothing(record):
    with pytest.raises(CandidateError) as error:
        record(eligible_candidate(inr="NaN"))
    assert "inr" in error.value.errors
    assert EligibilityDecision.unscoped.count() == 0


def test_decision_records_inputs_versions_user_and_time(record, coordinator, trial):
    decision = record(eligible_candidate(tbil={"value": "10.0", "unit": "mg/dL"}))
    assert decision.entered["tbil"] == {"value": "10.0", "unit": "mg/dL"}
    assert Decimal(decision.normalised["tbil"]["value"]) == Decimal("171")
    assert decision.computed["meld"] == decision.meld
    assert decision.recorded_by == coordinator
    assert decision.recorded_at.utcoffset().total_seconds() == 0
    versions = {
        entry["code"]: entry["history_id"] for entry in decision.criteria_as_evaluated
    }
    assert set(versions) == {f"I{i}" for i in range(1, 9)} | {
        f"E{i}" for i in range(1, 7)
    }
    assert all(versions.values())
    outcome = decision.outcomes.get(code="I3")
    assert outcome.criterion_history_id == versions["I3"]


class TestSignOff:
    def test_wrong_password_is_refused(self, record, investigator):
        decision = record()
        with pytest.raises(ValidationError) as error:
            signature_record(
                decision=decision,
                signer=investigator,
                password="not my password",
                meaning=Signature.Meaning.CONFIRM,
            )
        assert error.value.error_dict["password"][0].code == "bad_password"
        assert not Signature.objects.exists()

    def test_confirm_records_name_time_meaning_and_hash(
        self, record, investigator, password
    ):
        decision = record()
        signature = signature_record(
            decision=decision,
            signer=investigator,
            password=password,
            meaning=Signature.Meaning.CONFIRM,
        )
        assert signature.signer_full_name == "Wang Jun"
        assert signature.statement == "I confirm the eligibility assessment"
        assert signature.decision_hash == decision.content_hash

    def test_disagreement_needs_a_reason_and_keeps_both_outcomes(
        self, record, investigator, password
    ):
        decision = record()
        with pytest.raises(ValidationError):
            signature_record(
                decision=decision,
                signer=investigator,
                password=password,
                meaning=Signature.Meaning.DISAGREE,
                override_outcome="INELIGIBLE",
            )
        signature = signature_record(
            decision=decision,
            signer=investigator,
            password=password,
            meaning=Signature.Meaning.DISAGREE,
            reason="Stage is late on review",
            override_outcome="INELIGIBLE",
        )
        decision.refresh_from_db()
        assert decision.outcome == "ELIGIBLE"
        assert signature.override_outcome == "INELIGIBLE"

    def test_a_decision_is_signed_once(self, record, investigator, password):
        decision = record()
        kwargs = {
            "decision": decision,
            "signer": investigator,
            "password": password,
            "meaning": Signature.Meaning.CONFIRM,
        }
        signature_record(**kwargs)
        with pytest.raises(ValidationError) as again:
            signature_record(**kwargs)
        assert again.value.code == "already_signed"

    def test_sign_page_with_wrong_password_shows_error(
        self, client, record, investigator
    ):
        decision = record()
        client.force_login(investigator)
        response = client.post(
            f"/decisions/{decision.pk}/sign/",
            {"meaning": "CONFIRM", "password": "wrong"},
        )
        assert response.status_code == HTTPStatus.OK
        assert response.context["form"].errors["password"]
        assert not Signature.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
)
class TestConcurrency:
    def _submit_all(self, trial, users, datas):
        barrier = threading.Barrier(len(datas))
        results = []

        def submit(user, data):
            from django.db import connections

            try:
                barrier.wait()
                results.append(decision_record(trial=trial, data=data, user=user))
            except ValidationError as exc:
                results.append(exc)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=submit, args=(u, d))
            for u, d in zip(users, datas, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def test_concurrent_submissions_keep_one_unbroken_chain(
        self, transactional_audit_db, trial
    ):
        users = [
            UserFactory(username=f"c{i}", role=roles.COORDINATOR) for i in range(6)
        ]
        datas = [eligible_candidate(screening_number=f"02-{i:03d}") for i in range(6)]
        results = self._submit_all(trial, users, datas)
        assert all(isinstance(r, EligibilityDecision) for r in results)
        sequences = sorted(
            EligibilityDecision.unscoped.values_list("sequence", flat=True)
        )
        assert sequences == [1, 2, 3, 4, 5, 6]
        call_command("verify_audit")

    def test_same_screening_number_at_once_gives_one_record_one_error(
        self, transactional_audit_db, trial
    ):
        users = [
            UserFactory(username=f"d{i}", role=roles.COORDINATOR) for i in range(2)
        ]
        datas = [eligible_candidate(screening_number="03-001")] * 2
        results = self._submit_all(trial, users, datas)
        errors = [r for r in results if isinstance(r, ValidationError)]
        assert len(errors) == 1 and errors[0].code == "screening_number_taken"
        assert (
            EligibilityDecision.unscoped.filter(screening_number="03-001").count() == 1
        )


def test_a_trial_without_active_criteria_screens_nobody(coordinator, trial):
    from screening.decisions.services import decision_record
    from tests.factories import member_of_every_trial
    from trials.models import Site, Trial
    from trials.services import version_draft_create

    # A trial whose only version is a draft has no criteria in force.
    other = Trial.objects.create(
        slug="unsigned", registry_id="NCT00000009", title="t", sponsor="s", site="x"
    )
    Site.objects.create(trial=other, code="01", name="x")
    version_draft_create(trial=other, user=None, label="Draft")
    member_of_every_trial(coordinator, roles.COORDINATOR)
    with pytest.raises(ValidationError) as error:
        decision_record(trial=other, data=eligible_candidate(), user=coordinator)
    assert error.value.code == "no_criteria"
    assert not EligibilityDecision.unscoped.exists()


def test_a_version_without_active_criteria_cannot_be_signed(trial):
    from screening.versions.services import impact_report_record
    from tests.factories import UserFactory
    from trials.services import version_draft_create

    signer = UserFactory(username="signer", role=roles.TRIAL_ADMIN)
    draft = version_draft_create(trial=trial, user=signer, label="Empty")
    draft.criteria.update(active=False)
    with pytest.raises(ValidationError) as error:
        impact_report_record(version=draft, user=signer)
    assert error.value.code == "no_criteria"


def test_a_fresh_migration_leaves_every_audit_table_guarded(tmp_path):
    """SQLite rebuilds a table to change it, dropping its triggers: none is lost."""
    path = tmp_path / "fresh.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        timeout=300,
    )
    with sqlite3.connect(path) as fresh:
        names = {
            row[0]
            for row in fresh.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            )
        }
    for table in db_triggers.APPEND_ONLY_TABLES:
        assert f"{table}_append_only_update" in names, table
        assert f"{table}_append_only_delete" in names, table
