"""Privacy: no patient values in logs, no identifiers beyond the number in URLs."""

import logging
from http import HTTPStatus

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from screening.models import EligibilityDecision
from tests.factories import eligible_candidate
from tests.screening.form_data import SCREEN_URL, screening_post

SLUG = "nct06904755"

# Distinctive values, so that a match in a log line cannot be a coincidence.
PATIENT = {
    "initials": "QZXW",
    "date_of_birth": "1953-07-29",
    "tbil_value": "177.77",
    "series-0-value": "151.31",
    "inr": "1.87",
    "pta_percent": "34.5",
    "creatinine_value": "88.11",
    "sodium_mmol_l": "135.5",
    "albumin_value": "31.7",
    "il6_value": "23.93",
    "crp_value": "17.71",
}


def logged_text(caplog) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1].args))
    return "\n".join(parts)


def assert_no_patient_values(caplog, values):
    text = logged_text(caplog)
    for name, value in values.items():
        assert value not in text, f"{name} appears in the logs"


@pytest.fixture
def coordinator_client(client, trial, coordinator):
    client.force_login(coordinator)
    return client


def test_a_recorded_screening_logs_no_patient_values(coordinator_client, caplog):
    caplog.set_level(logging.DEBUG)
    response = coordinator_client.post(
        SCREEN_URL, screening_post(eligible_candidate(), **PATIENT)
    )
    assert response.status_code == HTTPStatus.FOUND
    decision = EligibilityDecision.unscoped.get()
    assert decision.initials == PATIENT["initials"]
    page = coordinator_client.get(response.url)
    assert page.status_code == HTTPStatus.OK
    assert PATIENT["initials"] in page.text
    assert_no_patient_values(caplog, PATIENT)


def test_a_refused_screening_logs_no_patient_values(coordinator_client, caplog):
    caplog.set_level(logging.DEBUG)
    response = coordinator_client.post(
        SCREEN_URL,
        screening_post(eligible_candidate(), **{**PATIENT, "inr": "99.5"}),
    )
    assert response.status_code == HTTPStatus.OK
    assert not EligibilityDecision.unscoped.exists()
    assert_no_patient_values(caplog, {**PATIENT, "inr": "99.5"})


def test_a_bulk_upload_logs_no_patient_values(coordinator_client, caplog):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from screening.prescreen.files import csv_template

    caplog.set_level(logging.DEBUG)
    content = (
        csv_template()
        .replace("ZW", PATIENT["initials"])
        .replace("1980-05-17", PATIENT["date_of_birth"])
    )
    response = coordinator_client.post(
        reverse("screening:prescreen", args=[SLUG]),
        {"file": SimpleUploadedFile("lab.csv", content.encode(), "text/csv")},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert_no_patient_values(
        caplog,
        {"initials": PATIENT["initials"], "date_of_birth": PATIENT["date_of_birth"]},
    )


def test_failed_logins_log_no_password(client, coordinator, caplog, settings):
    caplog.set_level(logging.DEBUG)
    secret = "Secret-Guess-91c2e7"
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(reverse("login"), {"username": "coordinator", "password": secret})
    assert secret not in logged_text(caplog)


def test_urls_name_records_by_id_never_number_or_initials(record, trial):
    decision = record(eligible_candidate(initials="QZXW"))
    urls = [
        decision.get_absolute_url(),
        reverse("screening:decision", args=[decision.pk]),
        reverse("screening:correct", args=[decision.pk]),
        reverse("screening:sign", args=[decision.pk]),
        reverse("screening:candidate", args=[decision.pk]),
    ]
    assert urls[0] == f"/decisions/{decision.pk}/"
    assert urls[-1] == f"/decisions/{decision.pk}/candidate/"
    assert decision.screening_number not in urls[-1]
    for url in urls:
        assert "QZXW" not in url
        assert "1980" not in url


def _route_parameters(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _route_parameters(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), set(entry.pattern.converters)


def test_no_route_takes_a_direct_identifier():
    identifying = {"initials", "name", "first_name", "last_name", "date_of_birth"}
    for route, parameters in _route_parameters(get_resolver()):
        assert not parameters & identifying, route


def test_the_screening_form_posts_values_in_the_body_not_the_url(coordinator_client):
    response = coordinator_client.post(
        SCREEN_URL, screening_post(eligible_candidate(), **PATIENT)
    )
    assert response.status_code == HTTPStatus.FOUND
    for value in PATIENT.values():
        assert value not in response.url
    page = coordinator_client.get(SCREEN_URL)
    assert 'method="post"' in page.text
