"""Consent (date and form version) and the enrolment of an eligible, signed candidate.

A record whose written informed consent is "yes" names the consent's date and
the form's version, at every door; the date is not after the screening nor
before birth. An enrolment (date, randomisation number) is made only from the
current, signed record whose decision that counts is ELIGIBLE, by a coordinator
or investigator of the trial; it is append-only and sealed in the audit ledger.
"""

import io
import json
from datetime import timedelta
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts import roles
from accounts.models import Membership
from screening.api.tokens import api_token_create
from screening.decisions.enrolment import enrolment_record
from screening.decisions.forms import post_data_from_contract
from screening.decisions.services import signature_record
from screening.domain.contract import CandidateError, parse_candidate
from screening.domain.inputs import INPUTS, InputKind, Section
from screening.ledger.models import LedgerEntry
from screening.models import EligibilityDecision, Enrolment, Signature
from tests.factories import TEST_PASSWORD, UserFactory, eligible_candidate
from tests.screening.form_data import SCREEN_URL
from trials.models import Site, Trial

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Asia/Shanghai")
NO_CONSENT_DETAILS = {"consent_date": None, "consent_form_version": None}


@pytest.fixture(autouse=True)
def _no_language_left_behind():
    yield
    # A page asked for in Chinese leaves the thread's language behind.
    translation.deactivate()


def problems(data, **kwargs) -> dict[str, list[str]]:
    kwargs.setdefault("today", timezone.localdate())
    try:
        parse_candidate(data, tz=ZONE, **kwargs)
    except CandidateError as exc:
        return {k: [p["code"] for p in v] for k, v in exc.problems.items()}
    return {}


# --- The registry ---------------------------------------------------------------


def test_the_consent_inputs_are_declared_once_with_words_and_headers():
    date_input, version = INPUTS["consent_date"], INPUTS["consent_form_version"]
    assert date_input.kind is InputKind.DATE
    assert version.kind is InputKind.TEXT
    # Shown on every trial's form (the criteria read only the checklist answer).
    assert date_input.section is version.section is Section.IDENTIFICATION
    assert (date_input.zh_header, version.zh_header) == (
        "知情同意日期",
        "知情同意书版本号",
    )
    assert date_input.help and version.help and version.example == "V2.0 2025-03-01"
    assert not date_input.required and not version.required


# --- The rule, in the parser ----------------------------------------------------


def test_a_signed_consent_needs_its_date_and_version_for_a_record():
    data = eligible_candidate(**NO_CONSENT_DETAILS)
    assert problems(data, for_record=True) == {
        "consent_date": ["consent_detail_required"],
        "consent_form_version": ["consent_detail_required"],
    }
    # Pre-screening takes them as not given.
    assert problems(data) == {}


@pytest.mark.parametrize("answer", ["pending", False, "否", "待定"])
def test_a_consent_pending_or_refused_needs_neither(answer):
    data = eligible_candidate(written_informed_consent=answer, **NO_CONSENT_DETAILS)
    assert problems(data, for_record=True) == {}


def test_the_consent_on_the_screening_day_is_accepted():
    data = eligible_candidate(screening_date="2026-06-01", consent_date="2026/6/1")
    candidate = parse_candidate(
        data, today=timezone.localdate(), tz=ZONE, for_record=True
    )
    assert candidate.consent_date.isoformat() == "2026-06-01"
    assert candidate.consent_form_version == "V2.0 2025-03-01"


def test_a_consent_after_the_screening_date_is_refused():
    data = eligible_candidate(screening_date="2026-06-01", consent_date="2026-06-02")
    assert problems(data) == {"consent_date": ["consent_date_after_screening"]}


def test_a_consent_before_birth_is_refused_and_on_the_birthday_accepted():
    before = eligible_candidate(date_of_birth="1980-05-17", consent_date="1980-05-16")
    assert problems(before) == {"consent_date": ["consent_date_before_birth"]}
    on = eligible_candidate(date_of_birth="1980-05-17", consent_date="1980-05-17")
    assert problems(on, for_record=True) == {}


def test_the_version_is_printable_text_of_at_most_64_characters():
    assert problems(eligible_candidate(consent_form_version="ＶＤ２.０")) == {}
    for bad in ("x" * 65, "V2.0\x00", 2.0):
        found = problems(eligible_candidate(consent_form_version=bad))
        assert list(found) == ["consent_form_version"], bad


def test_no_eligible_record_lacks_the_consent_details(record):
    with pytest.raises(CandidateError) as error:
        record(eligible_candidate(consent_form_version=None))
    assert set(error.value.problems) == {"consent_form_version"}
    decision = record(eligible_candidate())
    assert decision.outcome == "ELIGIBLE"
    assert decision.normalised["consent_date"] == "2026-06-01"
    assert decision.normalised["consent_form_version"] == "V2.0 2025-03-01"


def test_pending_is_not_no_for_the_consent(record):
    decision = record(
        eligible_candidate(written_informed_consent="pending", **NO_CONSENT_DETAILS)
    )
    assert decision.outcome == "INCOMPLETE"
    assert "written_informed_consent" in decision.to_collect


# --- At each door ---------------------------------------------------------------


def test_the_form_names_the_missing_consent_date_next_to_its_field(
    client, trial, coordinator
):
    client.force_login(coordinator)
    post = post_data_from_contract(eligible_candidate(consent_date=None))
    response = client.post(SCREEN_URL, post)
    assert response.status_code == HTTPStatus.OK
    form = response.context["form"]
    assert [e.code for e in form.errors.as_data()["consent_date"]] == [
        "consent_detail_required"
    ]
    assert "consent_form_version" not in form.errors
    assert "required when the written informed consent is signed" in (
        response.content.decode()
    )
    assert not EligibilityDecision.objects.system().exists()


def test_the_form_records_the_consent_date_and_version(client, trial, coordinator):
    client.force_login(coordinator)
    post = post_data_from_contract(eligible_candidate())
    assert post["consent_date"] == "2026-06-01"
    assert post["consent_form_version"] == "V2.0 2025-03-01"
    response = client.post(SCREEN_URL, post)
    assert response.status_code == HTTPStatus.FOUND
    decision = EligibilityDecision.objects.system().get()
    assert decision.outcome == "ELIGIBLE"
    page = client.get(decision.get_absolute_url()).content.decode()
    assert 'data-input="consent_form_version"' in page
    assert "V2.0 2025-03-01" in page


def test_the_form_says_it_in_chinese(client, trial, coordinator):
    client.force_login(coordinator)
    post = post_data_from_contract(eligible_candidate(consent_date="2026-06-02"))
    response = client.post(SCREEN_URL, post, headers={"accept-language": "zh-hans"})
    html = response.content.decode()
    assert "知情同意日期晚于筛选日期" in html
    assert "书面知情同意日期" in html


def _api(user):
    token = api_token_create(user=user, name=f"consent {user.api_tokens.count()}")[1]
    return {"Authorization": f"Bearer {token}"}


def test_the_json_api_names_the_missing_consent_fields(client, trial, coordinator):
    url = reverse("api:decisions", kwargs={"slug": trial.slug})
    response = client.post(
        url,
        json.dumps(eligible_candidate(**NO_CONSENT_DETAILS)),
        content_type="application/json",
        headers=_api(coordinator),
    )
    assert response.status_code == 422
    paths = {(e["path"], e["code"]) for e in response.json()["errors"]}
    assert paths == {
        ("consent_date", "consent_detail_required"),
        ("consent_form_version", "consent_detail_required"),
    }
    response = client.post(
        url,
        json.dumps(eligible_candidate()),
        content_type="application/json",
        headers=_api(coordinator),
    )
    assert response.status_code == HTTPStatus.CREATED, response.json()
    assert response.json()["outcome"] == "ELIGIBLE"


def test_the_json_api_refuses_a_consent_after_screening(client, trial, coordinator):
    response = client.post(
        reverse("api:decisions", kwargs={"slug": trial.slug}),
        json.dumps(eligible_candidate(consent_date="2026-06-02")),
        content_type="application/json",
        headers=_api(coordinator),
    )
    assert response.status_code == 422
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [
        ("consent_date", "consent_date_after_screening")
    ]


# --- Enrolment --------------------------------------------------------------------


def _sign(decision, investigator, **kwargs):
    kwargs.setdefault("meaning", Signature.Meaning.CONFIRM)
    return signature_record(
        decision=decision, signer=investigator, password=TEST_PASSWORD, **kwargs
    )


@pytest.fixture
def signed(record, investigator):
    decision = record(eligible_candidate(screening_number="30-001"))
    _sign(decision, investigator)
    return EligibilityDecision.objects.system().get(pk=decision.pk)


def _enrol(decision, user, number="R-001", day="2026-06-02"):
    return enrolment_record(
        decision=decision, user=user, enrolled_on=day, randomisation_number=number
    )


def test_a_coordinator_enrols_a_signed_eligible_candidate(signed, coordinator):
    enrolment = _enrol(signed, coordinator)
    assert (enrolment.trial_id, enrolment.site_id) == (
        signed.trial_id,
        signed.site_id,
    )
    assert enrolment.screening_number == "30-001"
    assert enrolment.enrolled_on.isoformat() == "2026-06-02"
    assert enrolment.recorded_at.utcoffset() == timedelta(0)
    assert Enrolment.objects.system().get().decision_id == signed.pk


def test_an_investigator_enrols_too(signed, investigator):
    assert _enrol(signed, investigator).recorded_by == investigator


def test_an_unsigned_record_cannot_be_enrolled(record, coordinator):
    decision = record(eligible_candidate(screening_number="30-002"))
    with pytest.raises(ValidationError) as error:
        _enrol(decision, coordinator)
    assert error.value.code == "not_signed"


def test_an_ineligible_record_cannot_be_enrolled(record, coordinator, investigator):
    decision = record(eligible_candidate(screening_number="30-003", diabetes=True))
    assert decision.outcome == "INELIGIBLE"
    _sign(decision, investigator)
    with pytest.raises(ValidationError) as error:
        _enrol(decision, coordinator)
    assert error.value.code == "not_eligible"


def test_the_investigators_decision_counts(record, coordinator, investigator):
    overruled = record(eligible_candidate(screening_number="30-004"))
    _sign(
        overruled,
        investigator,
        meaning=Signature.Meaning.DISAGREE,
        reason="Recent variceal bleed",
        override_outcome="INELIGIBLE",
    )
    with pytest.raises(ValidationError) as error:
        _enrol(overruled, coordinator)
    assert error.value.code == "not_eligible"
    made_eligible = record(
        eligible_candidate(screening_number="30-005", inr="1.2", pta_percent="60")
    )
    assert made_eligible.outcome == "INELIGIBLE"
    _sign(
        made_eligible,
        investigator,
        meaning=Signature.Meaning.DISAGREE,
        reason="INR repeated at 1.6",
        override_outcome="ELIGIBLE",
    )
    assert _enrol(made_eligible, coordinator, number="R-005").pk


def test_eligible_by_override_without_consent_cannot_be_enrolled(
    record, coordinator, investigator
):
    decision = record(
        eligible_candidate(
            screening_number="30-006",
            written_informed_consent="pending",
            **NO_CONSENT_DETAILS,
        )
    )
    _sign(
        decision,
        investigator,
        meaning=Signature.Meaning.DISAGREE,
        reason="Consent being signed now",
        override_outcome="ELIGIBLE",
    )
    with pytest.raises(ValidationError) as error:
        _enrol(decision, coordinator)
    assert error.value.code == "no_consent"


def test_a_superseded_record_cannot_be_enrolled(signed, record, coordinator):
    record(
        eligible_candidate(screening_number="30-001", initials="ZX"),
        supersedes=signed,
        supersede_reason="Initials corrected",
    )
    with pytest.raises(ValidationError) as error:
        _enrol(signed, coordinator)
    assert error.value.code == "superseded"


def test_a_monitor_or_another_trials_member_cannot_enrol(signed, monitor):
    with pytest.raises(PermissionDenied):
        _enrol(signed, monitor)
    other = Trial.objects.create(
        slug="other-trial",
        title="Another liver trial",
        registry_id="NCT00000000",
        sponsor="Someone else",
        site="Elsewhere",
    )
    Site.objects.create(trial=other, code="01", name="Elsewhere")
    outsider = UserFactory(username="outsider")
    outsider.groups.add(Group.objects.get(name=roles.COORDINATOR))
    Membership.objects.create(user=outsider, trial=other, role=roles.COORDINATOR)
    with pytest.raises(PermissionDenied):
        _enrol(signed, outsider)
    assert not Enrolment.objects.system().exists()


def test_a_randomisation_number_is_given_once_per_trial(
    signed, record, coordinator, investigator
):
    _enrol(signed, coordinator, number="R-001")
    second = record(eligible_candidate(screening_number="30-007"))
    _sign(second, investigator)
    for taken in ("R-001", "r-001", "Ｒ-001"):
        with pytest.raises(ValidationError) as error:
            _enrol(second, coordinator, number=taken)
        assert error.value.error_dict["randomisation_number"][0].code == "taken"
    assert _enrol(second, coordinator, number="R-002").pk


def test_a_candidate_is_enrolled_once(signed, coordinator):
    _enrol(signed, coordinator)
    with pytest.raises(ValidationError) as error:
        _enrol(signed, coordinator, number="R-009")
    assert error.value.code == "already_enrolled"


@pytest.mark.parametrize(
    ("day", "code"),
    [
        ("2026-05-31", "before_screening"),
        ("2100-01-01", "future"),
        ("tomorrow", "date_invalid"),
    ],
)
def test_the_enrolment_date_is_checked(signed, coordinator, day, code):
    with pytest.raises(ValidationError) as error:
        _enrol(signed, coordinator, day=day)
    assert error.value.error_dict["enrolled_on"][0].code == code


@pytest.mark.parametrize("number", ["", "   ", "R 001", "R-001 ✓", "x" * 33])
def test_the_randomisation_number_is_checked(signed, coordinator, number):
    with pytest.raises(ValidationError) as error:
        _enrol(signed, coordinator, number=number)
    assert "randomisation_number" in error.value.error_dict


# --- The record page ----------------------------------------------------------------


def enrol_url(decision) -> str:
    return reverse("screening:enrol", args=[decision.pk])


def test_the_record_page_offers_the_form_and_shows_the_enrolment(
    client, signed, coordinator
):
    client.force_login(coordinator)
    page = client.get(signed.get_absolute_url()).content.decode()
    assert 'id="enrol"' in page and enrol_url(signed) in page
    response = client.post(
        enrol_url(signed),
        {"enrolled_on": "2026-06-02", "randomisation_number": "R-001"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == signed.get_absolute_url()
    page = client.get(signed.get_absolute_url()).content.decode()
    assert 'id="enrolment"' in page and "R-001" in page
    assert 'id="enrol"' not in page


def test_the_record_page_shows_a_refusal_next_to_its_field(
    client, signed, record, investigator, coordinator
):
    _enrol(signed, coordinator, number="R-001")
    second = record(eligible_candidate(screening_number="30-008"))
    _sign(second, investigator)
    client.force_login(coordinator)
    response = client.post(
        enrol_url(second),
        {"enrolled_on": "2026-06-02", "randomisation_number": "R-001"},
    )
    assert response.status_code == HTTPStatus.OK
    form = response.context["enrolment_form"]
    assert [e.code for e in form.errors.as_data()["randomisation_number"]] == ["taken"]
    assert "R-001 is already given in this trial" in response.content.decode()
    assert Enrolment.objects.system().count() == 1


def test_no_form_for_an_unsigned_record_and_its_post_is_refused(
    client, record, coordinator
):
    decision = record(eligible_candidate(screening_number="30-009"))
    client.force_login(coordinator)
    assert 'id="enrol"' not in client.get(decision.get_absolute_url()).content.decode()
    response = client.post(
        enrol_url(decision),
        {"enrolled_on": "2026-06-02", "randomisation_number": "R-001"},
    )
    assert response.status_code == HTTPStatus.OK
    assert [
        e.code for e in response.context["enrolment_form"].non_field_errors().as_data()
    ] == ["not_signed"]
    assert not Enrolment.objects.system().exists()


def test_a_monitor_gets_403_and_a_non_member_404(client, signed, monitor):
    data = {"enrolled_on": "2026-06-02", "randomisation_number": "R-001"}
    client.force_login(monitor)
    assert client.post(enrol_url(signed), data).status_code == HTTPStatus.FORBIDDEN
    client.force_login(UserFactory(username="nobody"))
    assert client.post(enrol_url(signed), data).status_code == HTTPStatus.NOT_FOUND
    assert client.get(enrol_url(signed)).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_record_page_in_chinese(client, signed, coordinator):
    _enrol(signed, coordinator)
    client.force_login(coordinator)
    page = client.get(
        signed.get_absolute_url(), headers={"accept-language": "zh-hans"}
    ).content.decode()
    assert "入组" in page and "随机号" in page


# --- Append-only and sealed -----------------------------------------------------------


def _refused(sql, params) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        return True
    return False


def test_the_database_refuses_to_change_or_delete_an_enrolment(signed, coordinator):
    enrolment = _enrol(signed, coordinator)
    for sql in (
        "UPDATE screening_enrolment SET randomisation_number = 'R-999' WHERE id = %s",
        "UPDATE screening_enrolment SET enrolled_on = '2026-06-03' WHERE id = %s",
        "DELETE FROM screening_enrolment WHERE id = %s",
    ):
        assert _refused(sql, [enrolment.pk]), sql
    with pytest.raises(DatabaseError), transaction.atomic():
        Enrolment.objects.system().filter(pk=enrolment.pk).update(
            randomisation_number="R-998"
        )
    stored = Enrolment.objects.system().get()
    assert stored.randomisation_number == "R-001"


def verify() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_an_enrolment_is_sealed_and_verify_audit_holds(signed, coordinator):
    assert "intact" in verify()
    enrolment = _enrol(signed, coordinator)
    entry = LedgerEntry.objects.get(
        object_table="screening_enrolment", object_pk=enrolment.pk
    )
    assert entry.chain == f"trial:{signed.trial_id}"
    assert entry.content["row"]["randomisation_number"] == "R-001"
    assert entry.content["users"]["recorded_by"]["id"] == coordinator.pk
    assert "intact" in verify()


def test_a_changed_enrolment_is_reported(signed, coordinator):
    from screening.common import db_triggers

    enrolment = _enrol(signed, coordinator)
    db_triggers.remove(connection, db_triggers.ENROLMENT_TABLES)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE screening_enrolment SET randomisation_number = 'R-777' "
                "WHERE id = %s",
                [enrolment.pk],
            )
    finally:
        db_triggers.install(connection, db_triggers.ENROLMENT_TABLES)
    with pytest.raises(CommandError, match="randomisation_number"):
        verify()
