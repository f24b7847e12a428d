"""Pages do a fixed number of queries, whatever the number of rows or criteria."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from screening.decisions.forms import post_data_from_contract
from screening.decisions.services import signature_record
from screening.models import Signature
from tests.factories import amend, eligible_candidate, screening_form_post


def queries_for(client, url, method="get", data=None):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    return len(captured.captured_queries)


def add_screenings(record, first, count, investigator=None, password=None):
    decisions = []
    for i in range(first, first + count):
        decisions.append(record(eligible_candidate(screening_number=f"05-{i:03d}")))
    if investigator:
        for decision in decisions[::2]:
            signature_record(
                decision=decision,
                signer=investigator,
                password=password,
                meaning=Signature.Meaning.CONFIRM,
            )
    return decisions


@pytest.mark.parametrize(
    "query",
    ["", "?outcome=ELIGIBLE", "?blocking=E4&signed=unsigned", "?sort=-meld&q=05"],
)
def test_log_page_queries_do_not_grow_with_rows(
    client, trial, coordinator, investigator, password, record, query
):
    client.force_login(coordinator)
    url = f"/trials/{trial.slug}/log/{query}"
    add_screenings(record, 1, 2, investigator, password)
    few = queries_for(client, url)
    add_screenings(record, 3, 30, investigator, password)
    many = queries_for(client, url)
    assert few == many
    # 12, and the user's trial memberships (their scope).
    assert many <= 13


def test_decision_page_queries_do_not_grow_with_criteria(
    client, trial, coordinator, record
):
    client.force_login(coordinator)
    first = record(eligible_candidate(screening_number="06-001"))
    few = queries_for(client, f"/decisions/{first.pk}/")

    def five_more(draft):
        for n in range(5):
            draft.criteria.create(
                trial=trial,
                code=f"I{10 + n}",
                kind="INCLUSION",
                position=20 + n,
                text=f"extra {n}",
            ).conditions.create(variable="crp_mg_l", operator="GT", value_low=1)

    amend(trial, five_more)
    second = record(eligible_candidate(screening_number="06-002"))
    assert second.outcomes.count() == 19
    many = queries_for(client, f"/decisions/{second.pk}/")
    assert few == many
    # 12, and the user's trial memberships (their scope).
    assert many <= 13


def test_submission_queries_do_not_grow_with_history(
    client, trial, coordinator, record
):
    client.force_login(coordinator)
    url = f"/trials/{trial.slug}/screen/"
    # The first submission in a process also loads the criteria (then cached).
    queries_for(client, url, "post", screening_form_post("07-000"))
    first = queries_for(client, url, "post", screening_form_post("07-001"))
    add_screenings(record, 100, 20)
    later = queries_for(client, url, "post", screening_form_post("07-002"))
    assert first == later
    # Session, user, trial, memberships, sites, criteria version, the criteria's
    # stored snapshot (one indexed SELECT by digest), the approved lab values
    # offered; under the lock: the trial row, the chain's head, the
    # insert, the ledger's head, entry and head update, the outcomes, the
    # funnel's count (one upsert; an ineligible candidate adds one for its
    # blocking criteria); two savepoint statements. No number pre-check (the
    # unique constraint decides), no foreign-key SELECTs, no session write.
    assert later <= 18
    blocked = post_data_from_contract(
        eligible_candidate(screening_number="07-003", inr="3.5", pta_percent="10")
    )
    assert queries_for(client, url, "post", blocked) == later + 1


def test_candidate_page_queries_do_not_grow_with_corrections(
    client, trial, coordinator, record
):
    client.force_login(coordinator)
    original = record(eligible_candidate(screening_number="08-001"))
    url = f"/decisions/{original.pk}/candidate/"
    few = queries_for(client, url)
    latest = original
    for n in range(5):
        latest = record(
            eligible_candidate(screening_number="08-001"),
            supersedes=latest,
            supersede_reason=f"correction {n}",
        )
    many = queries_for(client, url)
    assert few == many


@pytest.mark.criterion("I6")
def test_cached_criteria_follow_an_edit(trial, record):
    """The per-process criteria cache never serves thresholds that were changed."""
    from screening.criteria import criteria_current

    before = criteria_current(trial=trial)
    assert criteria_current(trial=trial) is before

    def lower_crp(draft):
        crp = draft.criteria.get(code="I6").conditions.get(variable="crp_mg_l")
        crp.value_low = 5
        crp._change_reason = "test"
        crp.save()

    # Only a signed amendment changes the criteria in force (11.7).
    amend(trial, lower_crp)
    after = criteria_current(trial=trial)
    assert after is not before
    i6 = next(spec for spec in after.specs if spec.code == "I6")
    assert {c.low for c in i6.conditions if c.variable == "crp_mg_l"} == {5}
