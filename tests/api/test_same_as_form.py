"""A decision recorded through the API is the form's for the same values."""

from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.urls import reverse

from screening.decisions.forms import post_data_from_contract
from screening.domain.inputs import CONFIRM_KEY
from screening.models import EligibilityDecision
from tests.factories import eligible_candidate

CANDIDATES = {
    "eligible": {},
    "ineligible, censored and Chinese": {
        "il6": {"value": "<0.5", "unit": "pg/mL"},
        "pct": {"value": "2.5", "unit": "ng/mL", "uln": "0.5"},
        "diabetes": "是",
        "he_grade": "Ⅱ级",
    },
    "incomplete, pending": {
        "written_informed_consent": "pending",
        "inr": "pending",
        "albumin": {"status": "not_done"},
    },
    "unusual, confirmed, other units": {
        "creatinine": {"value": "10", "unit": "mg/dL"},
        "tbil": {"value": "10.5", "unit": "mg/dL", "time": "2026-06-01T08:00+08:00"},
        CONFIRM_KEY: ["creatinine"],
    },
}


def _same_fields(decision: EligibilityDecision) -> dict:
    normalised = dict(decision.normalised)
    normalised.pop("screening_number")
    return {
        "outcome": decision.outcome,
        "blocking_codes": decision.blocking_codes,
        "unknown_codes": decision.unknown_codes,
        "to_collect": decision.to_collect,
        "normalised": normalised,
        "computed": decision.computed,
        "outcomes": [
            (o.position, o.code, o.kind, o.outcome, o.blocking, o.reason, o.details)
            + (o.missing, o.criterion_id, o.criterion_history_id)
            for o in decision.outcomes.order_by("position")
        ],
        "site": decision.site_id,
        "recorded_by": decision.recorded_by_id,
    }


@pytest.mark.parametrize("changes", list(CANDIDATES.values()), ids=list(CANDIDATES))
def test_the_api_records_what_the_form_records(
    changes, client, trial, coordinator, as_role
):
    cache.clear()
    client.force_login(coordinator)
    form_data = post_data_from_contract(
        eligible_candidate(screening_number="06-001", **changes)
    )
    page = client.post(
        reverse("screening:screen", kwargs={"trial_slug": trial.slug}), form_data
    )
    assert page.status_code == HTTPStatus.FOUND, page.context["form"].errors
    by_form = EligibilityDecision.objects.system().get(screening_number="06-001")
    response = as_role("coordinator").post(
        f"/api/v1/trials/{trial.slug}/decisions",
        eligible_candidate(screening_number="06-002", **changes),
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    by_api = EligibilityDecision.objects.system().get(pk=response.json()["id"])
    assert _same_fields(by_api) == _same_fields(by_form)
    body = response.json()
    assert body["outcome"] == by_form.outcome
    assert {k: v for k, v in body["normalised"].items() if k != "screening_number"} == {
        k: v for k, v in by_form.normalised.items() if k != "screening_number"
    }
