"""The monitors' audit-trail review: each section, the signature, access, the ledger.

Events are seeded at chosen times (the rows' own time fields), so the period's
bounds and the working hours' bounds are tested to the second.
"""

import io
from datetime import date, datetime, timedelta
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from accounts import roles
from accounts.models import AccessEvent, Membership
from accounts.reauth import SIGNATURE, reauth_detail
from accounts.scope import scope_for
from screening.common import db_triggers
from screening.decisions.services import signature_record, signature_refusal
from screening.ledger.models import AuditReview, LedgerEntry, SignatureRefusal
from screening.models import EligibilityDecision, ScreeningLogExport, Signature
from screening.reports.audit_review import (
    WORKING_HOURS,
    audit_review_report,
    audit_review_sign,
)
from tests.factories import TEST_PASSWORD, UserFactory, eligible_candidate
from trials.models import Site, Trial

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A Monday to a Sunday.
START, END = date(2026, 6, 1), date(2026, 6, 7)


def at(day, hour, minute=0, second=0):
    return datetime(2026, 6, day, hour, minute, second, tzinfo=TZ)


def _set(model, pk, **fields):
    """Give an append-only row a chosen time (the triggers lifted for this)."""
    db_triggers.remove(connection)
    try:
        model._base_manager.filter(pk=pk).update(**fields)
    finally:
        db_triggers.install(connection)


def _report(trial, user, start=START, end=END):
    return audit_review_report(trial=trial, scope=scope_for(user), start=start, end=end)


def _section(report, key):
    return next(s for s in report.sections if s.key == key)


@pytest.fixture
def reviewer(monitor):
    monitor.first_name, monitor.last_name = "Li", "Na"
    monitor.save()
    return monitor


# --- Working hours ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "outside"),
    [
        (at(1, 7, 59, 59), True),
        (at(1, 8, 0, 0), False),
        (at(1, 19, 59, 59), False),
        (at(1, 20, 0, 0), True),
        (at(5, 12), False),  # Friday
        (at(6, 12), True),  # Saturday
        (at(7, 12), True),  # Sunday
    ],
)
def test_working_hours_in_the_sites_zone(moment, outside):
    assert WORKING_HOURS.outside(moment, TZ) is outside
    # The same instant in UTC is judged in the site's zone.
    assert WORKING_HOURS.outside(moment.astimezone(ZoneInfo("UTC")), TZ) is outside


# --- Each section -----------------------------------------------------------------


def test_decisions_corrections_and_out_of_hours_within_the_period(
    trial, record, coordinator, reviewer
):
    first = record()
    second = record(eligible_candidate(screening_number="01-002"))
    corrected = record(
        eligible_candidate(pta_percent="45"),
        supersedes=first,
        supersede_reason="PTA typed wrong",
    )
    before = record(eligible_candidate(screening_number="01-003"))
    after = record(eligible_candidate(screening_number="01-004"))
    _set(EligibilityDecision, first.pk, recorded_at=at(1, 10))
    _set(EligibilityDecision, second.pk, recorded_at=at(1, 20, 0, 0))  # out
    _set(EligibilityDecision, corrected.pk, recorded_at=at(7, 23, 59, 59))  # out
    _set(EligibilityDecision, before.pk, recorded_at=at(1, 0) - timedelta(seconds=1))
    _set(EligibilityDecision, after.pk, recorded_at=at(8, 0))
    report = _report(trial, reviewer)
    corrections = _section(report, "corrections")
    assert corrections.count == 1
    row = corrections.rows[0]
    assert row[2:4] == [first.sequence, corrected.sequence]
    assert row[-1] == "PTA typed wrong"
    per_version = _section(report, "per_version")
    assert per_version.count == 3
    outcomes = [d.outcome for d in (first, second, corrected)]
    assert per_version.rows == [
        [
            "v1",
            outcomes.count("ELIGIBLE"),
            outcomes.count("INELIGIBLE"),
            outcomes.count("INCOMPLETE"),
            3,
        ]
    ]
    out = _section(report, "out_of_hours")
    assert [(r[1], r[3]) for r in out.rows] == [
        ("decision", second.sequence),
        ("decision", corrected.sequence),
    ]


def test_overrides_and_refused_self_signing(trial, record, investigator, reviewer):
    mine = record(eligible_candidate(screening_number="01-002"), user=investigator)
    theirs = record()
    with pytest.raises(ValidationError) as refused:
        signature_refusal(decision=mine, signer=investigator)
    assert refused.value.code == "own_record"
    signature = signature_record(
        decision=theirs,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.DISAGREE,
        reason="Bleeding last week",
        override_outcome="INELIGIBLE",
    )
    refusal = SignatureRefusal.objects.get()
    assert refusal.decision == mine and refusal.user == investigator
    _set(Signature, signature.pk, signed_at=at(3, 21))
    _set(SignatureRefusal, refusal.pk, refused_at=at(7, 23, 59, 59))
    report = _report(trial, reviewer)
    overrides = _section(report, "overrides")
    assert overrides.count == 1
    assert overrides.rows[0][3:5] == ["ELIGIBLE", "INELIGIBLE"]
    assert _section(report, "self_signing").count == 1
    assert _section(report, "self_signing").rows[0][2] == mine.sequence
    # A signature at 21:00 is out of hours too.
    assert [r[1] for r in _section(report, "out_of_hours").rows] == ["signature"]
    # The day after the period: nothing.
    later = _report(trial, reviewer, date(2026, 6, 8), date(2026, 6, 8))
    assert _section(later, "overrides").count == 0
    assert _section(later, "self_signing").count == 0


def test_failed_reauthentications_exports_and_membership_changes(
    client, trial, record, investigator, reviewer
):
    decision = record()
    other = Trial.objects.create(
        slug="nct06904755-b", title="Other", registry_id="NCT1", sponsor="S", site="S"
    )
    Site.objects.create(trial=other, code="01", name="Elsewhere")
    client.force_login(investigator)
    response = client.post(
        reverse("screening:sign", args=[decision.pk]),
        {"meaning": "CONFIRM", "password": "wrong"},
    )
    assert response.status_code == HTTPStatus.OK
    failed = AccessEvent.objects.get(action=AccessEvent.Action.LOGIN_FAILED)
    assert failed.detail == reauth_detail(trial.slug, SIGNATURE)
    # A failed re-authentication in another trial, whose slug starts the same.
    other_failed = AccessEvent.objects.create(
        action=AccessEvent.Action.LOGIN_FAILED,
        username="someone",
        detail=reauth_detail(other.slug, SIGNATURE),
    )
    export = ScreeningLogExport.objects.create(
        trial=trial, user=reviewer, exported_at=at(2, 9), export_format="csv"
    )
    ScreeningLogExport.objects.create(
        trial=other, user=reviewer, exported_at=at(2, 9), export_format="csv"
    )
    ScreeningLogExport.objects.create(
        trial=trial, user=reviewer, exported_at=at(8, 0), export_format="xlsx"
    )
    newcomer = UserFactory(username="newcomer")
    Membership.objects.create(user=newcomer, trial=trial, role=roles.COORDINATOR)
    Membership.objects.create(user=newcomer, trial=other, role=roles.COORDINATOR)
    events = AccessEvent.objects.filter(
        action=AccessEvent.Action.MEMBERSHIP_ADDED, username="newcomer"
    )
    assert events.count() == 2
    for event in (failed, other_failed, *events):
        _set(AccessEvent, event.pk, at=at(4, 9))
    assert export.pk
    report = _report(trial, reviewer)
    reauth = _section(report, "reauth_failures")
    assert [(r[1], r[2]) for r in reauth.rows] == [("investigator", SIGNATURE)]
    exports = _section(report, "exports")
    assert [r[2] for r in exports.rows] == ["csv"]
    changes = _section(report, "access_changes")
    assert [(r[1], r[2], r[3]) for r in changes.rows] == [
        ("MEMBERSHIP_ADDED", "newcomer", f"membership Coordinator: {trial.slug}")
    ]


# --- The page ----------------------------------------------------------------------


def test_the_page_shows_sections_verification_and_rule_in_both_languages(
    client, trial, record, reviewer
):
    record()
    client.force_login(reviewer)
    url = reverse("screening:audit_review", args=[trial.slug])
    page = client.get(url)
    assert page.status_code == HTTPStatus.OK
    report = page.context["report"]
    assert report.verification.intact
    assert _section(report, "per_version").count == 1
    body = page.content.decode()
    assert 'id="verify-audit"' in body and "08:00" in body and "20:00" in body
    assert "Asia/Shanghai" in body
    with translation.override("zh-hans"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = page.content.decode()
    assert "稽查轨迹审阅" in body
    assert "非工作时间" in body


def test_a_reversed_period_is_refused_by_the_form(client, trial, reviewer):
    client.force_login(reviewer)
    url = reverse("screening:audit_review", args=[trial.slug])
    page = client.get(url, {"date_from": "2026-06-07", "date_to": "2026-06-01"})
    assert page.status_code == HTTPStatus.OK
    assert page.context["report"] is None
    codes = [e.code for e in page.context["period_form"].non_field_errors().as_data()]
    assert codes == ["period_reversed"]


@pytest.mark.parametrize(
    ("date_from", "date_to", "field", "code"),
    [
        ("9999-06-01", "9999-12-31", "date_to", "max_value"),
        ("0001-01-01", "0001-01-07", "date_from", "min_value"),
        ("1999-12-31", "2000-01-06", "date_from", "min_value"),
        ("2099-12-25", "2100-01-01", "date_to", "max_value"),
    ],
)
def test_a_period_at_the_ends_of_the_calendar_is_refused_by_its_field(
    client, trial, reviewer, date_from, date_to, field, code
):
    client.force_login(reviewer)
    url = reverse("screening:audit_review", args=[trial.slug])
    page = client.get(url, {"date_from": date_from, "date_to": date_to})
    assert page.status_code == HTTPStatus.OK
    assert page.context["report"] is None
    errors = page.context["period_form"].errors.as_data()
    assert [e.code for e in errors[field]] == [code]


def test_the_first_and_last_days_of_the_range_are_accepted(client, trial, reviewer):
    client.force_login(reviewer)
    url = reverse("screening:audit_review", args=[trial.slug])
    for date_from, date_to in (
        ("2000-01-01", "2000-01-07"),
        ("2099-12-25", "2099-12-31"),
    ):
        page = client.get(url, {"date_from": date_from, "date_to": date_to})
        assert page.status_code == HTTPStatus.OK
        assert page.context["report"] is not None


def test_a_monitor_of_another_trial_gets_404_and_a_coordinator_403(
    client, trial, coordinator
):
    other = Trial.objects.create(
        slug="other-trial", title="Other", registry_id="NCT2", sponsor="S", site="S"
    )
    outsider = UserFactory(username="outsider")
    Membership.objects.create(user=outsider, trial=other, role=roles.MONITOR)
    url = reverse("screening:audit_review", args=[trial.slug])
    client.force_login(outsider)
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert client.post(url, {"password": "x"}).status_code == HTTPStatus.NOT_FOUND
    client.force_login(coordinator)
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN
    assert client.post(url, {"password": "x"}).status_code == HTTPStatus.FORBIDDEN


# --- Signing --------------------------------------------------------------------------


def _sign_post(client, trial, report, password):
    return client.post(
        reverse("screening:audit_review", args=[trial.slug]),
        {
            "date_from": report.start.isoformat(),
            "date_to": report.end.isoformat(),
            "content_hash": report.content_hash,
            "password": password,
        },
    )


def test_signing_with_a_wrong_password_fails_and_is_logged(client, trial, reviewer):
    client.force_login(reviewer)
    today = timezone.localdate()
    report = _report(trial, reviewer, today, today)
    response = _sign_post(client, trial, report, "wrong")
    assert response.status_code == HTTPStatus.OK
    codes = [e.code for e in response.context["sign_form"].errors.as_data()["password"]]
    assert codes == ["bad_password"]
    assert not AuditReview.objects.exists()
    failed = AccessEvent.objects.get(action=AccessEvent.Action.LOGIN_FAILED)
    assert failed.username == reviewer.username
    assert failed.detail == f"re-authentication {trial.slug}: audit review"
    # The page now shows the failed attempt, and the hash it would sign covers it.
    shown = response.context["report"]
    assert _section(shown, "reauth_failures").count == 1
    assert response.context["sign_form"]["content_hash"].value() == (shown.content_hash)
    assert shown.content_hash != report.content_hash


def test_signing_records_an_append_only_sealed_review(client, trial, record, reviewer):
    record()
    client.force_login(reviewer)
    today = timezone.localdate()
    report = _report(trial, reviewer, today - timedelta(days=6), today)
    response = _sign_post(client, trial, report, TEST_PASSWORD)
    assert response.status_code == HTTPStatus.FOUND
    review = AuditReview.objects.get()
    assert review.trial == trial and review.signer == reviewer
    assert review.signer_full_name == "Li Na"
    assert review.content_hash == report.content_hash
    assert review.meaning == (
        f"I reviewed the audit trail for {report.start.isoformat()} to "
        f"{today.isoformat()}"
    )
    entry = LedgerEntry.objects.get(object_table="ledger_auditreview")
    assert entry.kind == LedgerEntry.Kind.REVIEW
    assert entry.chain == f"trial:{trial.pk}"
    page = client.get(response["Location"])
    assert list(page.context["reviews"]) == [review]
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()
    # The database refuses a change.
    with pytest.raises(Exception, match="append-only"):
        AuditReview.objects.filter(pk=review.pk).update(content_hash="0" * 64)


def test_a_report_changed_since_it_was_read_is_not_signed(trial, record, reviewer):
    today = timezone.localdate()
    report = _report(trial, reviewer, today, today)
    record()
    with pytest.raises(ValidationError) as refused:
        audit_review_sign(
            trial=trial,
            user=reviewer,
            password=TEST_PASSWORD,
            start=today,
            end=today,
            content_hash=report.content_hash,
        )
    assert refused.value.code == "report_changed"
    assert not AuditReview.objects.exists()


def test_a_tampered_review_is_detected(trial, reviewer):
    today = timezone.localdate()
    report = _report(trial, reviewer, today, today)
    review = audit_review_sign(
        trial=trial,
        user=reviewer,
        password=TEST_PASSWORD,
        start=today,
        end=today,
        content_hash=report.content_hash,
    )
    _set(AuditReview, review.pk, meaning="I reviewed nothing")
    with pytest.raises(CommandError, match="ledger_auditreview"):
        call_command("verify_audit", stdout=io.StringIO())


def test_a_tampered_refusal_is_detected(trial, record, investigator):
    mine = record(user=investigator)
    with pytest.raises(ValidationError):
        signature_refusal(decision=mine, signer=investigator)
    refusal = SignatureRefusal.objects.get()
    _set(SignatureRefusal, refusal.pk, refused_at=at(1, 12))
    with pytest.raises(CommandError, match="ledger_signaturerefusal"):
        call_command("verify_audit", stdout=io.StringIO())


# --- Verification of the trial's own chains -------------------------------------------


def _other_trial_export(monitor):
    other = Trial.objects.create(
        slug="other-trial", title="Other", registry_id="NCT2", sponsor="S", site="S"
    )
    return other, ScreeningLogExport.objects.create(
        trial=other, user=monitor, exported_at=timezone.now(), export_format="csv"
    )


def test_per_chain_verification_checks_one_chain_only(trial, record, reviewer):
    from screening.audit import verify_chains
    from screening.ledger.content import trial_chain
    from screening.ledger.verification import verify_ledger, verify_ledger_chain

    decision = record()
    other, export = _other_trial_export(reviewer)
    _set(ScreeningLogExport, export.pk, export_format="xlsx")
    assert verify_ledger().problem is not None
    mine = verify_ledger_chain(trial_chain(trial.pk))
    assert mine.problem is None and mine.chains == 1 and mine.entries >= 1
    theirs = verify_ledger_chain(trial_chain(other.pk))
    assert theirs.problem.chain == trial_chain(other.pk)
    assert theirs.problem.object_pk == export.pk
    assert verify_ledger_chain("trial:0").chains == 0
    # The decisions' hash chain, per trial.
    _set(EligibilityDecision, decision.pk, initials="XX")
    assert verify_chains(trial_id=other.pk)[2] is None
    problem = verify_chains(trial_id=trial.pk)[2]
    assert problem.decision_id == decision.pk
    assert problem.problem == "content does not match its hash"


def test_the_review_verifies_its_trials_chains_and_names_no_other_trial(
    client, trial, record, reviewer
):
    record()
    other, export = _other_trial_export(reviewer)
    _set(ScreeningLogExport, export.pk, export_format="xlsx")
    client.force_login(reviewer)
    url = reverse("screening:audit_review", args=[trial.slug])
    page = client.get(url)
    verification = page.context["report"].verification
    assert verification.intact and verification.problem == ""
    assert verification.chains == 1
    body = page.content.decode()
    assert f"trial:{other.pk}" not in body
    assert "alert-danger" not in body
    # A problem in this trial's chain is shown, naming this trial's chain only.
    mine = ScreeningLogExport.objects.create(
        trial=trial, user=reviewer, exported_at=timezone.now(), export_format="csv"
    )
    _set(ScreeningLogExport, mine.pk, export_format="xlsx")
    verification = client.get(url).context["report"].verification
    assert not verification.intact
    assert f"chain trial:{trial.pk}," in verification.problem
    assert f"id {mine.pk}:" in verification.problem
    assert f"trial:{other.pk}" not in verification.problem
