"""The API's contract per endpoint and role, and its problem details."""

import json
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.urls import reverse

from screening.domain.inputs import CONFIRM_KEY, INPUTS
from screening.models import EligibilityDecision
from tests.factories import eligible_candidate
from trials.models import Trial

OK, CREATED = HTTPStatus.OK, HTTPStatus.CREATED
UNAUTHORIZED, FORBIDDEN, NOT_FOUND = (
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.FORBIDDEN,
    HTTPStatus.NOT_FOUND,
)
CONFLICT, UNPROCESSABLE = HTTPStatus.CONFLICT, HTTPStatus.UNPROCESSABLE_ENTITY
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def _decisions():
    return EligibilityDecision.objects.system()


def _codes(response) -> list[tuple[str, str]]:
    assert response["Content-Type"] == PROBLEM, response.content
    body = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    assert body["status"] == response.status_code
    return [(e["path"], e["code"]) for e in body["errors"]]


# --- Each endpoint, each role ------------------------------------------------------

ROLES = ["coordinator", "investigator", "monitor", "trial_admin", "outsider"]
EXPECTED = {
    #                 coordinator investigator monitor  trial admin  other trial
    "evaluate": (OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "record": (CREATED, CREATED, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "list": (OK, OK, OK, FORBIDDEN, NOT_FOUND),
    "read": (OK, OK, OK, NOT_FOUND, NOT_FOUND),
    "criteria": (OK, OK, OK, FORBIDDEN, NOT_FOUND),
}


def _call(client, endpoint, trial, decision):
    base = f"/api/v1/trials/{trial.slug}"
    if endpoint == "evaluate":
        return client.post(f"{base}/evaluate", eligible_candidate())
    if endpoint == "record":
        return client.post(
            f"{base}/decisions", eligible_candidate(screening_number="02-001")
        )
    if endpoint == "list":
        return client.get(f"{base}/decisions")
    if endpoint == "read":
        return client.get(f"/api/v1/decisions/{decision.pk}")
    return client.get(f"{base}/criteria")


@pytest.mark.parametrize("endpoint", list(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_each_endpoint_answers_each_role(endpoint, role, trial, record, as_role):
    decision = record()
    before = _decisions().count()
    response = _call(as_role(role), endpoint, trial, decision)
    want = EXPECTED[endpoint][ROLES.index(role)]
    assert response.status_code == want, response.content
    if want >= 400:
        _codes(response)
    recorded = _decisions().count() - before
    assert recorded == (1 if want == CREATED else 0)


@pytest.mark.parametrize("endpoint", list(EXPECTED))
@pytest.mark.parametrize(
    "authorization", [None, "Bearer msc_not-a-token", "Token abc", "Bearer "]
)
def test_without_a_valid_token_every_endpoint_is_401(
    endpoint, authorization, trial, record, api_client
):
    client = api_client()
    if authorization:
        client.headers = {"Authorization": authorization}
    response = _call(client, endpoint, trial, record())
    assert response.status_code == UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")
    _codes(response)


def test_a_session_does_not_authenticate_the_api(client, trial, coordinator):
    """A page's cookie cannot drive the API (no CSRF through it)."""
    client.force_login(coordinator)
    response = client.post(
        f"/api/v1/trials/{trial.slug}/decisions",
        eligible_candidate(),
        content_type="application/json",
    )
    assert response.status_code == UNAUTHORIZED
    assert not _decisions().exists()


def test_an_unknown_trial_or_path_is_a_404_problem(trial, as_role):
    client = as_role("coordinator")
    assert client.get("/api/v1/trials/no-such-trial/criteria").status_code == NOT_FOUND
    response = client.get("/api/v1/no/such/operation")
    assert response.status_code == NOT_FOUND
    _codes(response)
    assert client.get("/api/v1/decisions/999999").status_code == NOT_FOUND


# --- Recording ----------------------------------------------------------------------


def test_a_coordinator_records_and_reads_back_the_decision(trial, coordinator, as_role):
    client = as_role("coordinator")
    response = client.post(
        f"/api/v1/trials/{trial.slug}/decisions", eligible_candidate()
    )
    assert response.status_code == CREATED
    body = response.json()
    decision = _decisions().get(pk=body["id"])
    assert response["Location"] == reverse("api:decision", kwargs={"id": decision.pk})
    assert decision.recorded_by == coordinator
    assert decision.entered == eligible_candidate()
    assert body["outcome"] == decision.outcome == "ELIGIBLE"
    assert body["site"] == "01"
    assert body["recorded_by"] == "coordinator"
    assert [o["code"] for o in body["outcomes"]] == list(
        decision.outcomes.values_list("code", flat=True)
    )
    read = client.get(response["Location"]).json()
    assert read == body
    listed = client.get(f"/api/v1/trials/{trial.slug}/decisions").json()
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == decision.pk


def test_evaluating_records_nothing(trial, as_role):
    response = as_role("coordinator").post(
        f"/api/v1/trials/{trial.slug}/evaluate", eligible_candidate()
    )
    assert response.status_code == OK
    body = response.json()
    assert body["decision"] == "ELIGIBLE"
    assert len(body["criteria"]) == trial.criteria.filter(active=True).count()
    assert body["normalised"]["tbil"]["unit"] == "umol/L"
    assert not _decisions().exists()


def test_a_taken_screening_number_is_a_409(trial, record, as_role):
    record(eligible_candidate(screening_number="03-001"))
    response = as_role("coordinator").post(
        f"/api/v1/trials/{trial.slug}/decisions",
        eligible_candidate(screening_number="03-001"),
    )
    assert response.status_code == CONFLICT
    assert _codes(response) == [("", "screening_number_taken")]


def test_a_closed_trial_takes_no_screening(trial, as_role):
    Trial.objects.filter(pk=trial.pk).update(status=Trial.Status.CLOSED)
    response = as_role("coordinator").post(
        f"/api/v1/trials/{trial.slug}/decisions", eligible_candidate()
    )
    assert response.status_code == CONFLICT
    assert _codes(response) == [("", "trial_closed")]


def test_an_unknown_site_is_named(trial, as_role):
    response = as_role("coordinator").post(
        f"/api/v1/trials/{trial.slug}/decisions", eligible_candidate(), query="site=99"
    )
    assert response.status_code == UNPROCESSABLE
    assert _codes(response) == [("site", "site_unknown")]


# --- Problem details name the field path ------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"tbil": {"value": "88,4", "unit": "umol/L"}}, ("tbil.value", "number_comma")),
        ({"tbil": {"value": "180", "unit": "mmol/L"}}, ("tbil.unit", "unit_unknown")),
        ({"Diabetes": False}, ("Diabetes", "unknown_field")),
        (
            {"tbil_series": [{"time": "yesterday", "value": "150", "unit": "umol/L"}]},
            ("tbil_series[0].time", "datetime_invalid"),
        ),
        ({"screening_number": 101}, ("screening_number", "text_expected")),
        ({"sex": "X"}, ("sex", "choice_invalid")),
        (
            {"pct": {"value": "0.3", "unit": "ng/mL", "uln": "0"}},
            ("pct.uln", "uln_not_positive"),
        ),
        ({CONFIRM_KEY: ["no_such_input"]}, (CONFIRM_KEY, "confirm_invalid")),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_path(
    changes, expected, trial, as_role
):
    client = as_role("coordinator")
    for endpoint in ("evaluate", "decisions"):
        response = client.post(
            f"/api/v1/trials/{trial.slug}/{endpoint}", eligible_candidate(**changes)
        )
        assert response.status_code == UNPROCESSABLE, response.content
        assert expected in _codes(response)
    assert not _decisions().exists()


def _with_number(number_text: str) -> str:
    """The eligible candidate's body, its current TBil a bare JSON number."""
    tbil = {"value": "@", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"}
    body = json.dumps(eligible_candidate(tbil=tbil))
    return body.replace('"@"', number_text)


def test_a_json_number_a_float_would_round_is_refused_not_rounded(trial, as_role):
    """170.99999999999999999 is the float 171.0, which would meet TBil >= 171."""
    client = as_role("coordinator")
    for endpoint in ("evaluate", "decisions"):
        response = client.post(
            f"/api/v1/trials/{trial.slug}/{endpoint}",
            raw=_with_number("170.99999999999999999"),
        )
        assert response.status_code == UNPROCESSABLE, response.content
        assert _codes(response) == [("tbil.value", "number_inexact")]
    assert not _decisions().exists()


@pytest.mark.parametrize(
    ("written", "outcome", "blocking"),
    [("171.0", "ELIGIBLE", []), ("170.9", "INELIGIBLE", ["I3"])],
)
def test_a_json_number_is_evaluated_as_written(
    written, outcome, blocking, trial, as_role
):
    """At the TBil >= 171 umol/L boundary (the rise from 158.6 is under 17.1)."""
    response = as_role("coordinator").post(
        f"/api/v1/trials/{trial.slug}/decisions", raw=_with_number(written)
    )
    assert response.status_code == CREATED, response.content
    decision = _decisions().get(pk=response.json()["id"])
    assert decision.normalised["tbil"]["value"] == written
    assert decision.entered["tbil"]["value"] == float(written)
    assert (decision.outcome, decision.blocking_codes) == (outcome, blocking)


def test_values_are_judged_by_the_parser_not_coerced_by_the_schema(trial, as_role):
    """Full-width digits, a Chinese full stop and Chinese answers are read as meant."""
    data = eligible_candidate(
        pta_percent="３５",
        inr="1。8",
        sex="男",
        diabetes="否",
        he_grade="I级",
        il6={"value": "<5", "unit": "pg/mL"},
    )
    response = as_role("coordinator").post(
        f"/api/v1/trials/{trial.slug}/evaluate", data
    )
    assert response.status_code == OK, response.content
    normalised = response.json()["normalised"]
    assert normalised["pta_percent"] == "35"
    assert normalised["inr"] == "1.8"
    assert (normalised["sex"], normalised["diabetes"], normalised["he_grade"]) == (
        "M",
        False,
        1,
    )
    assert normalised["il6"]["comparator"] == "<"


def test_a_record_needs_what_the_form_needs(trial, as_role):
    client = as_role("coordinator")
    data = eligible_candidate(creatinine={"value": "884", "unit": "umol/L"})
    del data["screening_number"]
    evaluated = client.post(f"/api/v1/trials/{trial.slug}/evaluate", data)
    assert evaluated.status_code == OK
    assert evaluated.json()["unusual"] == ["creatinine.value"]
    refused = client.post(f"/api/v1/trials/{trial.slug}/decisions", data)
    assert refused.status_code == UNPROCESSABLE
    assert set(_codes(refused)) == {
        ("screening_number", "required"),
        ("creatinine.value", "unusual"),
    }
    data.update(screening_number="04-001", **{CONFIRM_KEY: ["creatinine"]})
    assert client.post(f"/api/v1/trials/{trial.slug}/decisions", data).status_code == (
        CREATED
    )


@pytest.mark.parametrize(
    ("raw", "status", "path"),
    [
        ("{not json", HTTPStatus.BAD_REQUEST, None),
        ("[1, 2]", UNPROCESSABLE, ""),
        ('"a string"', UNPROCESSABLE, ""),
    ],
)
def test_a_body_that_is_not_a_candidate_is_a_problem(raw, status, path, trial, as_role):
    response = as_role("coordinator").post(
        f"/api/v1/trials/{trial.slug}/evaluate", raw=raw
    )
    assert response.status_code == status
    codes = _codes(response)
    if path is not None:
        assert codes and codes[0][0] == path


def test_problem_titles_and_messages_follow_the_language(trial, tokens):
    from django.test import Client

    response = Client().post(
        f"/api/v1/trials/{trial.slug}/evaluate",
        json.dumps(eligible_candidate(tbil={"value": "88,4", "unit": "umol/L"})),
        content_type="application/json",
        headers={
            "Authorization": f"Bearer {tokens['coordinator']}",
            "Accept-Language": "zh-hans",
        },
    )
    body = response.json()
    assert body["title"] == "候选者的数据不符合约定格式。"
    assert body["errors"][0]["code"] == "number_comma"
    assert "88,4" in body["errors"][0]["message"]


def test_a_query_out_of_bounds_is_a_problem_naming_it(trial, as_role):
    response = as_role("monitor").get(f"/api/v1/trials/{trial.slug}/decisions", limit=0)
    assert response.status_code == UNPROCESSABLE
    assert [path for path, _code in _codes(response)] == ["limit"]


def test_the_list_is_paginated_newest_first(trial, record, as_role):
    made = [record(eligible_candidate(screening_number=f"05-00{n}")) for n in range(5)]
    client = as_role("monitor")
    first = client.get(f"/api/v1/trials/{trial.slug}/decisions", limit=2).json()
    rest = client.get(
        f"/api/v1/trials/{trial.slug}/decisions", limit=2, offset=2
    ).json()
    assert first["count"] == rest["count"] == 5
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert ids == [d.pk for d in reversed(made)][:4]
    one = client.get(
        f"/api/v1/trials/{trial.slug}/decisions", screening_number="05-003"
    ).json()
    assert [i["screening_number"] for i in one["items"]] == ["05-003"]


# --- The schema and its docs -----------------------------------------------------


def test_the_openapi_schema_is_3_1_and_its_candidate_comes_from_the_registry(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == OK
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["paths"]) == {
        "/api/v1/trials/{slug}/evaluate",
        "/api/v1/trials/{slug}/decisions",
        "/api/v1/decisions/{id}",
        "/api/v1/trials/{slug}/criteria",
        "/api/v1/trials/{slug}/labs",
    }
    components = schema["components"]["schemas"]
    assert list(components["CandidateIn"]["properties"]) == [*INPUTS, CONFIRM_KEY]
    assert list(components["NormalisedCandidate"]["properties"]) == [
        *INPUTS,
        CONFIRM_KEY,
    ]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    post = schema["paths"]["/api/v1/trials/{slug}/decisions"]["post"]
    assert set(post["responses"]["422"]["content"]) == {PROBLEM}


def test_the_docs_page_runs_under_the_csp_from_local_assets(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == OK
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    scripts = html.split("<script")[1:]
    assert scripts
    for script in scripts:
        opening = script.split(">", 1)[0]
        # Either a file of ours, or data (JSON), never code inline or from a CDN.
        assert 'src="/static/' in opening or 'type="application/json"' in opening
    assert "cdn" not in html.lower()
