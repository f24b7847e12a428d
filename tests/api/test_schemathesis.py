"""The API fuzzed against its own OpenAPI schema on a live test server.

Schemathesis reads /api/v1/openapi.json from the running server, generates
requests that fit the schema (with a coordinator's token, against the loaded
trial and one recorded decision), and requests that break it where a parameter
can be broken, and checks every response: no server error, a documented status
and content type, a body that fits the documented schema. Bounded:
``MAX_EXAMPLES`` per operation and mode, derandomized (the same cases each run).
"""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from screening.api.api import api
from screening.api.tokens import api_token_create
from tests.factories import eligible_candidate
from tests.labs.conftest import fixture_bytes

MAX_EXAMPLES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The operations as the API declares them; the test reads each one's schema
# from the live server.
_PATHS = api.get_openapi_schema(path_prefix="/api/v1/")["paths"]
OPERATIONS = [(m.upper(), path) for path, methods in _PATHS.items() for m in methods]
# A body of the contract and a string slug admit any value (the parser judges
# them), so only integer and query parameters can be sent out of their schema.
NEGATABLE = {
    (m.upper(), path)
    for path, methods in _PATHS.items()
    for m, operation in methods.items()
    if any(
        p["in"] == "query" or p["schema"].get("type") == "integer"
        for p in operation.get("parameters", ())
    )
}
CASES = [
    pytest.param(method, path, mode, id=f"{mode.value} {method} {path}")
    for method, path in OPERATIONS
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or (method, path) in NEGATABLE
]


def valid_bodies(path: str) -> list[tuple[object, str]]:
    """Bodies an operation accepts, each with its media type."""
    if path.endswith("/labs"):
        # The lab fixtures: a FHIR bundle as JSON, a LIS export as text/csv and
        # the GB18030 one as a multipart file.
        return [
            (json.loads(fixture_bytes("bundle.json")), "application/json"),
            (fixture_bytes("lis-utf8.csv").decode("utf-8"), "text/csv"),
            ({"file": fixture_bytes("lis-gb18030.csv")}, "multipart/form-data"),
        ]
    return [(eligible_candidate(screening_number="09-002"), "application/json")]


@pytest.fixture
def live_schema(transactional_audit_db, live_server, trial, coordinator, record):
    decision = record(eligible_candidate(screening_number="09-001"))
    token = api_token_create(user=coordinator, name="schemathesis")[1]
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    schema.config.update(base_url=live_server.url)
    return {
        "schema": schema,
        "headers": {"Authorization": f"Bearer {token}"},
        "path": {"slug": trial.slug, "id": decision.pk},
    }


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_the_api_keeps_its_contract(
    method, path, mode, live_schema, settings_unthrottled
):
    operation = live_schema["schema"][path][method]
    # Positive cases reach the trial and the decision; negative ones may also
    # break the path (a slug or id that is no route must still be a problem).
    fixed = {
        name: value
        for name, value in live_schema["path"].items()
        if "{" + name + "}" in path and mode is GenerationMode.POSITIVE
    }
    if mode is GenerationMode.POSITIVE and method == "POST":
        # Valid bodies too: recorded or imported (201) the first time, taken
        # (409) after.
        for body, media_type in valid_bodies(path):
            statuses = [
                operation.Case(
                    path_parameters=fixed,
                    headers=live_schema["headers"],
                    body=body,
                    media_type=media_type,
                )
                .call_and_validate(checks=CHECKS)
                .status_code
                for _attempt in range(2)
            ]
            assert statuses == (
                [200, 200] if path.endswith("/evaluate") else [201, 409]
            ), media_type
    strategy = operation.as_strategy(
        mode, path_parameters=fixed, headers=live_schema["headers"]
    )

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(checks=CHECKS)

    check()


@pytest.fixture
def settings_unthrottled(settings):
    settings.API_TOKEN_RATE = "100000/min"
