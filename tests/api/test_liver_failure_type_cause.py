"""The API takes the type and cause of liver failure, and names a bad code's field."""

from http import HTTPStatus

import pytest
from django.core.cache import cache

from screening.domain.inputs import INPUTS
from screening.models import EligibilityDecision
from tests.factories import eligible_candidate

KEYS = ("liver_failure_type", "liver_failure_cause")


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def test_the_schema_documents_their_codes(client):
    schema = client.get("/api/v1/openapi.json").json()
    properties = schema["components"]["schemas"]["CandidateIn"]["properties"]
    for key in KEYS:
        shapes = properties[key]["anyOf"]
        assert shapes[0]["examples"] == list(INPUTS[key].option_values)
    assert "乙肝" in properties["liver_failure_cause"]["anyOf"][0]["description"]


def test_recorded_through_the_api_and_read_back(trial, as_role):
    client = as_role("coordinator")
    response = client.post(
        f"/api/v1/trials/{trial.slug}/decisions",
        eligible_candidate(
            liver_failure_type="亚急性肝衰竭", liver_failure_cause="DILI"
        ),
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    decision = EligibilityDecision.objects.system().get(pk=response.json()["id"])
    assert decision.normalised["liver_failure_type"] == "SALF"
    assert decision.normalised["liver_failure_cause"] == "DILI"
    read = client.get(response["Location"]).json()
    assert read["normalised"]["liver_failure_type"] == "SALF"


@pytest.mark.parametrize("key", KEYS)
def test_an_unknown_code_is_a_problem_naming_the_field(key, trial, as_role):
    client = as_role("coordinator")
    response = client.post(
        f"/api/v1/trials/{trial.slug}/evaluate", eligible_candidate(**{key: "XYZ"})
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    errors = [(e["path"], e["code"]) for e in response.json()["errors"]]
    assert errors == [(key, "choice_invalid")]
