"""Where an investigator disagreed, their decision is the one that counts."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.scope import Scope
from screening.decisions.services import signature_record
from screening.models import Signature
from screening.reports.selectors import LogFilter, decision_log, screening_funnel
from tests.factories import TEST_PASSWORD, eligible_candidate

EVERYTHING = Scope(user_id=None, everything=True)


@pytest.fixture
def overruled(record, investigator):
    decision = record(eligible_candidate(screening_number="20-001"))
    signature_record(
        decision=decision,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.DISAGREE,
        reason="Recent variceal bleed not on the form",
        override_outcome="INELIGIBLE",
    )
    return decision


def _numbers(trial, outcome):
    rows = decision_log(
        scope=EVERYTHING, trial=trial, filters=LogFilter(outcome=outcome)
    )
    return [d.screening_number for d in rows]


def test_the_log_filters_on_the_investigators_decision(trial, record, overruled):
    record(eligible_candidate(screening_number="20-002"))
    assert overruled.outcome == "ELIGIBLE"
    assert _numbers(trial, "INELIGIBLE") == ["20-001"]
    assert _numbers(trial, "ELIGIBLE") == ["20-002"]


def test_the_funnel_counts_the_investigators_decision(trial, overruled):
    funnel = screening_funnel(
        scope=EVERYTHING, trial=trial, date_from=None, date_to=None
    )
    assert (funnel.eligible, funnel.ineligible) == (0, 1)


def test_an_override_to_eligible_is_excluded_by_nothing(trial, record, investigator):
    decision = record(
        eligible_candidate(screening_number="20-003", inr="1.2", pta_percent="60")
    )
    assert decision.outcome == "INELIGIBLE"
    signature_record(
        decision=decision,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.DISAGREE,
        reason="INR repeated at 1.6",
        override_outcome="ELIGIBLE",
    )
    funnel = screening_funnel(
        scope=EVERYTHING, trial=trial, date_from=None, date_to=None
    )
    assert (funnel.eligible, funnel.ineligible, funnel.reasons) == (1, 0, [])
    # The log's filter follows the investigator too, a confirmed record its own.
    confirmed = record(
        eligible_candidate(screening_number="20-004", inr="1.2", pta_percent="60")
    )
    signature_record(
        decision=confirmed,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.CONFIRM,
    )
    assert _numbers(trial, "ELIGIBLE") == ["20-003"]
    assert _numbers(trial, "INELIGIBLE") == ["20-004"]


def test_the_record_shows_the_investigators_decision_first(client, monitor, overruled):
    client.force_login(monitor)
    page = client.get(reverse("screening:decision", args=[overruled.pk]))
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    effective = html.index('id="effective-outcome"')
    engine = html.index('id="decision-outcome"')
    assert effective < engine
    assert 'data-outcome="INELIGIBLE"' in html[effective:engine]
    assert "Recent variceal bleed not on the form" in html
