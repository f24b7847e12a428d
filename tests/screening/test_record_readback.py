"""What the coordinator reads back, and work that is not lost.

The record page shows every entered value with its unit and how it was read;
a form posted after the session expired comes back with what was typed; a
closed trial takes no new screening.
"""

from http import HTTPStatus

import pytest
from django.conf import settings

from screening.domain.inputs import INPUTS
from screening.models import EligibilityDecision
from tests.factories import TEST_PASSWORD, eligible_candidate
from tests.screening.form_data import SCREEN_URL, screening_post
from trials.models import Trial

pytestmark = pytest.mark.django_db


def expire_session(client):
    """What an idle timeout leaves: the browser, without its session."""
    del client.cookies[settings.SESSION_COOKIE_NAME]


def entered_row(page, key):
    (row,) = [r for r in page.context["entered_rows"] if r["key"] == key]
    return row


def test_the_record_shows_every_input_as_entered_and_as_read(
    client, coordinator, trial
):
    client.force_login(coordinator)
    data = screening_post(
        eligible_candidate(
            tbil={"value": "10.5", "unit": "mg/dL", "time": "2026-06-01T08:00"},
            pct={"value": "<0.05"},
            written_informed_consent="pending",
        ),
        creatinine_value="88。4",
    )
    response = client.post(SCREEN_URL, data)
    assert response.status_code == HTTPStatus.FOUND
    page = client.get(response["Location"])
    keys = [r["key"] for r in page.context["entered_rows"]]
    assert keys == list(INPUTS)
    creatinine = entered_row(page, "creatinine")
    assert creatinine["value"] == "88。4 μmol/L"
    assert creatinine["details"] == "read as 88.4 μmol/L"
    tbil = entered_row(page, "tbil")
    assert tbil["value"] == "10.5 mg/dL"
    assert "read as 179.55 μmol/L" in tbil["details"]
    assert "collected" in tbil["details"]
    assert entered_row(page, "pct")["value"] == "<0.05 ng/mL"
    assert entered_row(page, "written_informed_consent")["value"] == "Pending"
    assert entered_row(page, "initials")["value"] == "ZW"
    assert 'id="entered"' in page.text
    assert "<pre" not in page.text
    decision = EligibilityDecision.unscoped.get()
    assert decision.outcome == "INCOMPLETE"
    assert "written_informed_consent" in decision.to_collect


def test_a_form_posted_after_the_session_expired_comes_back_as_typed(
    client, coordinator, trial
):
    data = screening_post(eligible_candidate(), creatinine_value="88。4", inr="1.9")
    client.force_login(coordinator)
    client.get(SCREEN_URL)
    # The session has expired: the browser posts without a logged-in session.
    expire_session(client)
    response = client.post(SCREEN_URL, data)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")
    assert not EligibilityDecision.unscoped.exists()
    login = client.post(
        response["Location"],
        {"username": coordinator.username, "password": TEST_PASSWORD},
    )
    assert login.status_code == HTTPStatus.FOUND
    assert login["Location"] == SCREEN_URL
    page = client.get(SCREEN_URL)
    form = page.context["form"]
    assert form.data["creatinine_value"] == "88。4"
    assert form.data["inr"] == "1.9"
    assert form.data.getlist("series-0-value") == ["158.6"]
    assert "session had expired" in page.text
    assert not EligibilityDecision.unscoped.exists()
    # Once shown, the draft is gone; submitting it records the decision.
    assert client.get(SCREEN_URL).context["form"].data == {}
    assert client.post(SCREEN_URL, data).status_code == HTTPStatus.FOUND
    assert (
        EligibilityDecision.unscoped.get().normalised["creatinine"]["value"] == "88.4"
    )


def test_a_closed_trial_refuses_new_screenings(client, coordinator, trial):
    Trial.objects.filter(pk=trial.pk).update(status=Trial.Status.CLOSED)
    client.force_login(coordinator)
    response = client.post(SCREEN_URL, screening_post(eligible_candidate()))
    assert response.status_code == HTTPStatus.OK
    codes = [e.code for e in response.context["form"].non_field_errors().as_data()]
    assert codes == ["trial_closed"]
    assert not EligibilityDecision.unscoped.exists()


def test_a_draft_never_opens_for_another_user(client, coordinator, trial):
    from tests.factories import UserFactory

    other = UserFactory(username="coordinator2", role="Coordinator")
    client.force_login(coordinator)
    client.get(SCREEN_URL)  # the browser now knows whose work this is
    expire_session(client)
    data = screening_post(eligible_candidate(), creatinine_value="88。4")
    assert client.post(SCREEN_URL, data).status_code == HTTPStatus.FOUND
    client.post(
        "/accounts/login/",
        {"username": other.username, "password": TEST_PASSWORD},
    )
    page = client.get(SCREEN_URL)
    assert page.context["form"].data == {}
    assert "session had expired" not in page.text


def test_a_post_from_a_browser_nobody_used_keeps_no_draft(client, coordinator, trial):
    data = screening_post(eligible_candidate())
    response = client.post(SCREEN_URL, data)
    assert response["Location"].startswith("/accounts/login/")
    assert "screening_draft" not in client.session


def test_a_series_problem_lands_on_its_own_row_after_a_blank_one(
    client, coordinator, trial
):
    client.force_login(coordinator)
    data = screening_post(eligible_candidate(tbil_series=[]))
    data.update(
        {
            "series-TOTAL_FORMS": "2",
            "series-0-time": "",
            "series-0-value": "",
            "series-1-time": "2026-06-01T09:00",  # after the current TBil
            "series-1-value": "160",
            "series-1-unit": "umol/L",
        }
    )
    response = client.post(SCREEN_URL, data)
    assert response.status_code == HTTPStatus.OK
    rows = response.context["formset"].forms
    assert not rows[0].errors
    codes = [e.code for e in rows[1].errors.as_data()["time"]]
    assert codes == ["series_after_current"]
