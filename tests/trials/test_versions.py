"""Criteria versions: drafts copied from the active one, immutability in the
database, the impact dry-run, and the signed activation."""

from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts import roles
from accounts.models import AccessEvent
from screening.assessment import active_criteria
from screening.models import EligibilityDecision
from screening.versions.services import (
    impact_evaluate,
    impact_report_record,
    version_activate,
)
from tests.factories import TEST_PASSWORD, UserFactory, eligible_candidate
from trials.models import Condition, CriteriaVersion, Criterion, ImpactReport
from trials.services import version_active, version_draft_create


@pytest.fixture
def admin_of_trial(trial):
    return UserFactory(
        username="amender",
        first_name="Li",
        last_name="Na",
        role=roles.TRIAL_ADMIN,
        is_staff=True,
    )


@pytest.fixture
def draft(trial, admin_of_trial):
    return version_draft_create(
        trial=trial, user=admin_of_trial, label="Protocol v2.0 (amendment 1)"
    )


def _crp(version) -> Condition:
    return Condition.objects.get(
        criterion__version=version, criterion__code="I6", variable="crp_mg_l"
    )


def test_the_loaded_trial_has_one_active_version(trial):
    (version,) = trial.versions.all()
    assert (version.number, version.state) == (1, CriteriaVersion.State.ACTIVE)
    assert version.criteria.count() == 14
    assert active_criteria(trial=trial).version == version


def test_a_draft_is_a_copy_of_the_active_version(trial, draft):
    active = version_active(trial=trial)
    assert draft.number == 2 and draft.state == CriteriaVersion.State.DRAFT
    assert draft.based_on == active

    def rows(version):
        return [
            (
                c.code,
                c.kind,
                c.text,
                [
                    (d.variable, d.operator, d.value_low)
                    for d in c.conditions.order_by("position")
                ],
            )
            for c in version.criteria.order_by("position")
        ]

    assert rows(draft) == rows(active)
    assert not set(draft.criteria.values_list("pk", flat=True)) & set(
        active.criteria.values_list("pk", flat=True)
    )


def test_a_draft_can_be_edited_and_keeps_the_reason(draft):
    crp = _crp(draft)
    crp.value_low = Decimal("5")
    crp._change_reason = "Amendment 1: CRP threshold"
    crp.full_clean()
    crp.save()
    assert crp.history.first().history_change_reason == "Amendment 1: CRP threshold"


@pytest.mark.parametrize("model", ["criterion", "condition", "version"])
def test_the_database_refuses_to_change_an_active_version(trial, model):
    active = version_active(trial=trial)
    statements = {
        "criterion": (
            "UPDATE trials_criterion SET text = 'changed' WHERE version_id = %s",
            [active.pk],
        ),
        "condition": (
            "UPDATE trials_condition SET value_low = 5 WHERE criterion_id IN "
            "(SELECT id FROM trials_criterion WHERE version_id = %s)",
            [active.pk],
        ),
        "version": (
            "UPDATE trials_criteriaversion SET label = 'changed' WHERE id = %s",
            [active.pk],
        ),
    }
    sql, params = statements[model]
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_the_orm_cannot_bulk_update_or_delete_an_active_version(trial):
    active = version_active(trial=trial)
    with pytest.raises(DatabaseError), transaction.atomic():
        Condition.objects.filter(criterion__version=active).update(
            value_low=Decimal("40")
        )
    with pytest.raises(DatabaseError), transaction.atomic():
        Criterion.objects.filter(version=active, code="E6").delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Criterion.objects.create(
            trial=trial,
            version=active,
            code="I99",
            kind="INCLUSION",
            position=99,
            text="added",
        )
    assert active.criteria.count() == 14


def test_one_active_version_per_trial_by_constraint(trial, draft):
    with pytest.raises(DatabaseError), transaction.atomic():
        CriteriaVersion.objects.filter(pk=draft.pk).update(state="ACTIVE")


# --- The dry-run ------------------------------------------------------------------


def _seed(record):
    """Candidates around CRP 5 and 10 mg/L, with or without other elevated markers.

    I6 needs any one of IL-6 > 7 pg/mL, TNF-alpha > 8.1 pg/mL, CRP > 10 mg/L or
    PCT > 0.05 ng/mL elevated.
    """
    quiet = {
        "il6": {"value": "5", "unit": "pg/mL"},
        "tnf_alpha": {"value": "6", "unit": "pg/mL"},
        "pct": {"value": "0.04", "unit": "ng/mL"},
    }
    cases = {
        "10-001": ("5", quiet),  # not > 5: stays
        "10-002": ("5.1", quiet),  # flips
        "10-003": ("10", quiet),  # flips
        "10-004": ("10.1", quiet),  # already elevated: stays
        "10-005": ("8", {**quiet, "il6": {"value": "25", "unit": "pg/mL"}}),
        "10-006": ("4", quiet),  # stays
    }
    for number, (crp, markers) in cases.items():
        record(
            eligible_candidate(
                screening_number=number, crp={"value": crp, "unit": "mg/L"}, **markers
            )
        )


def test_lowering_crp_to_5_flips_exactly_crp_in_5_to_10(record, trial, draft):
    _seed(record)
    crp = _crp(draft)
    crp.value_low = Decimal("5")
    crp._change_reason = "Amendment 1"
    crp.save()
    report = impact_evaluate(version=draft)
    assert report["trial"] == trial.slug
    assert (report["from_version"], report["to_version"]) == (1, 2)
    assert report["evaluated"] == 6
    flipped = {f["screening_number"]: f for f in report["flips"]}
    assert sorted(flipped) == ["10-002", "10-003"]
    for flip in flipped.values():
        assert (flip["from"], flip["to"]) == ("INELIGIBLE", "ELIGIBLE")
        assert [c["code"] for c in flip["criteria"]] == ["I6"]
        assert ("NOT_MET", "MET") == (
            flip["criteria"][0]["from"],
            flip["criteria"][0]["to"],
        )
    assert report["counts"] == {
        "from": {"ELIGIBLE": 2, "INELIGIBLE": 4},
        "to": {"ELIGIBLE": 4, "INELIGIBLE": 2},
    }


def test_the_command_prints_the_report_as_json(record, trial, draft, capsys):
    import json

    _seed(record)
    call_command("criteria_impact", trial=trial.slug, version=draft.number)
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) >= {
        "trial",
        "from_version",
        "to_version",
        "evaluated",
        "flips",
        "counts",
    }
    assert printed["flips"] == []
    assert ImpactReport.objects.filter(version=draft).count() == 1


# --- Activation --------------------------------------------------------------------


def test_activation_signs_the_report_and_retires_the_previous(
    record, trial, draft, admin_of_trial, coordinator
):
    _seed(record)
    crp = _crp(draft)
    crp.value_low = Decimal("5")
    crp.save()
    report = impact_report_record(version=draft, user=admin_of_trial)
    activation = version_activate(
        version=draft, user=admin_of_trial, password=TEST_PASSWORD, report=report
    )
    draft.refresh_from_db()
    assert draft.state == CriteriaVersion.State.ACTIVE
    assert activation.impact_sha256 == report.sha256
    assert activation.statement.startswith("I approve criteria version 2 for screening")
    assert trial.versions.get(number=1).state == CriteriaVersion.State.RETIRED
    # From now on screenings use v2; earlier records keep v1.
    new = record(
        eligible_candidate(
            screening_number="10-010",
            crp={"value": "6", "unit": "mg/L"},
            il6={"value": "5", "unit": "pg/mL"},
            tnf_alpha={"value": "6", "unit": "pg/mL"},
            pct={"value": "0.04", "unit": "ng/mL"},
        )
    )
    assert new.criteria_version == draft and new.outcome == "ELIGIBLE"
    old = EligibilityDecision.unscoped.get(screening_number="10-002")
    assert old.criteria_version.number == 1 and old.outcome == "INELIGIBLE"
    call_command("verify_audit")


def test_a_wrong_password_is_a_failed_login(trial, draft, admin_of_trial):
    report = impact_report_record(version=draft, user=admin_of_trial)
    with pytest.raises(ValidationError):
        version_activate(
            version=draft, user=admin_of_trial, password="wrong", report=report
        )
    assert AccessEvent.objects.filter(
        action=AccessEvent.Action.LOGIN_FAILED, username="amender"
    ).exists()
    draft.refresh_from_db()
    assert draft.state == CriteriaVersion.State.DRAFT


def test_only_a_trial_admin_of_the_trial_activates(trial, draft, investigator):
    report = impact_report_record(version=draft, user=None)
    with pytest.raises(PermissionDenied):
        version_activate(
            version=draft, user=investigator, password=TEST_PASSWORD, report=report
        )


def test_a_stale_report_cannot_be_signed(record, trial, draft, admin_of_trial):
    report = impact_report_record(version=draft, user=admin_of_trial)
    record(eligible_candidate(screening_number="10-020"))
    with pytest.raises(ValidationError) as refused:
        version_activate(
            version=draft, user=admin_of_trial, password=TEST_PASSWORD, report=report
        )
    assert refused.value.code == "stale_report"


def test_a_later_effective_date_starts_then(trial, draft, admin_of_trial):
    from datetime import timedelta

    from django.utils import timezone

    report = impact_report_record(version=draft, user=admin_of_trial)
    later = timezone.now() + timedelta(days=2)
    version_activate(
        version=draft,
        user=admin_of_trial,
        password=TEST_PASSWORD,
        report=report,
        effective_from=later,
    )
    assert version_active(trial=trial).number == 1
    # Signed: the draft is frozen too.
    with pytest.raises(DatabaseError), transaction.atomic():
        Condition.objects.filter(criterion__version=draft).update(value_low=1)


def test_the_pages_for_a_monitor_and_a_trial_admin(
    client, record, trial, draft, admin_of_trial, monitor
):
    _seed(record)
    client.force_login(admin_of_trial)
    page = client.get(reverse("screening:versions", args=[trial.slug]))
    assert page.status_code == HTTPStatus.OK
    impact = reverse("screening:version_impact", args=[trial.slug, draft.number])
    assert client.post(impact).status_code == HTTPStatus.FOUND
    activate = reverse("screening:version_activate", args=[trial.slug, draft.number])
    response = client.post(
        activate, {"confirm": "on", "password": TEST_PASSWORD, "effective_from": ""}
    )
    assert response.status_code == HTTPStatus.FOUND, response.content[:500]
    assert version_active(trial=trial) == draft
    client.force_login(monitor)
    assert client.get(impact).status_code == HTTPStatus.OK
    assert client.post(impact).status_code == HTTPStatus.FORBIDDEN
    assert client.get(activate).status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    "column, value",
    [
        ("label", "'changed'"),
        ("label_zh_hans", "'改过的名称'"),
        ("default_lookback_hours", "48"),
        ("near_miss_margin_percent", "5"),
        ("screening_window_hours", "6"),
        ("number", "9"),
    ],
)
def test_a_signed_version_keeps_its_fields_when_it_is_retired(
    trial, draft, admin_of_trial, column, value
):
    """The only change to a signed version is its state; nothing rides along."""
    active = version_active(trial=trial)
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE trials_criteriaversion SET state = 'RETIRED', "  # noqa: S608
                f"{column} = {value} WHERE id = %s",
                [active.pk],
            )
