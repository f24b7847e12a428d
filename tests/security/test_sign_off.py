"""Sign-off cannot be guessed, nor given to one's own or a superseded record.

The password at sign-off goes through authenticate() as a login does: wrong
passwords are failed logins in the access log and count toward the lockout.
"""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import AccessEvent
from screening.models import Signature
from tests.factories import TEST_PASSWORD, eligible_candidate

pytestmark = pytest.mark.django_db
WRONG = "not the password at all 1"


def sign(client, decision, password, **extra):
    return client.post(
        f"/decisions/{decision.pk}/sign/",
        {"meaning": "CONFIRM", "password": password, **extra},
        REMOTE_ADDR="203.0.113.9",
    )


def test_wrong_passwords_at_sign_off_lock_the_account_as_a_login(
    client, record, investigator
):
    decision = record()
    client.force_login(investigator)
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign(client, decision, WRONG)
        assert response.status_code == HTTPStatus.OK
        codes = [e.code for e in response.context["form"].errors.as_data()["password"]]
        assert codes == ["bad_password"]
    response = sign(client, decision, WRONG)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    # Locked: even the right password signs nothing now.
    response = sign(client, decision, TEST_PASSWORD)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not Signature.objects.exists()
    failed = AccessEvent.objects.filter(
        action=AccessEvent.Action.LOGIN_FAILED, username=investigator.username
    )
    assert failed.count() >= settings.AXES_FAILURE_LIMIT
    # And the next login from anywhere is refused too.
    client.logout()
    login = client.post(
        "/accounts/login/",
        {"username": investigator.username, "password": TEST_PASSWORD},
        REMOTE_ADDR="203.0.113.9",
    )
    assert login.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_the_right_password_signs(client, record, investigator):
    decision = record()
    client.force_login(investigator)
    response = sign(client, decision, TEST_PASSWORD)
    assert response.status_code == HTTPStatus.FOUND
    assert Signature.objects.get().decision == decision


def test_nobody_signs_a_screening_they_recorded(client, record, investigator):
    decision = record(user=investigator)
    client.force_login(investigator)
    page = client.get(f"/decisions/{decision.pk}/sign/")
    assert page.status_code == HTTPStatus.FOUND
    response = sign(client, decision, TEST_PASSWORD)
    assert response.status_code == HTTPStatus.FOUND
    assert not Signature.objects.exists()
    shown = client.get(response["Location"])
    assert "another investigator must sign it" in shown.text


def test_a_superseded_record_cannot_be_signed(client, record, investigator):
    first = record()
    record(
        data=eligible_candidate(inr="1.9"),
        supersedes=first,
        supersede_reason="INR re-measured",
    )
    client.force_login(investigator)
    response = sign(client, first, TEST_PASSWORD)
    assert response.status_code == HTTPStatus.FOUND
    assert not Signature.objects.exists()
    assert "superseded" in client.get(response["Location"]).text


def test_pages_after_login_are_never_stored(client, record, coordinator):
    decision = record()
    client.force_login(coordinator)
    for url in (decision.get_absolute_url(), "/trials/nct06904755/log/"):
        cache = client.get(url)["Cache-Control"]
        assert "no-store" in cache and "private" in cache


def test_every_user_changes_their_own_password_and_it_is_logged(client, coordinator):
    client.force_login(coordinator)
    weak = client.post(
        "/accounts/password/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "short",
            "new_password2": "short",
        },
    )
    assert weak.status_code == HTTPStatus.OK
    new = "a much longer passphrase 77"
    response = client.post(
        "/accounts/password/",
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == HTTPStatus.FOUND
    coordinator.refresh_from_db()
    assert coordinator.check_password(new)
    event = AccessEvent.objects.filter(
        action=AccessEvent.Action.ACCOUNT_CHANGED, detail="password"
    ).latest("id")
    assert (event.user, event.actor) == (coordinator, coordinator)


def test_opening_the_sign_page_of_ones_own_record_writes_nothing(
    client, trial, investigator
):
    """A GET only checks: a reload or a prefetched link is no attempt to sign."""
    from screening.decisions.services import decision_record
    from screening.ledger.models import SignatureRefusal
    from tests.factories import TEST_PASSWORD, eligible_candidate

    own = decision_record(
        trial=trial,
        data=eligible_candidate(screening_number="36-001"),
        user=investigator,
    )
    client.force_login(investigator)
    url = reverse("screening:sign", args=[own.pk])
    assert client.get(url).status_code == HTTPStatus.FOUND
    assert not SignatureRefusal.objects.exists()
    posted = client.post(url, {"meaning": "CONFIRM", "password": TEST_PASSWORD})
    assert posted.status_code == HTTPStatus.FOUND
    (refusal,) = SignatureRefusal.objects.all()
    assert (refusal.decision_id, refusal.user_id) == (own.pk, investigator.pk)
    assert not own.__class__.unscoped.filter(pk=own.pk, signature__isnull=False)


def test_the_sign_page_shows_the_criteria_and_values_being_signed(
    client, record, investigator
):
    decision = record(eligible_candidate(screening_number="37-001"))
    client.force_login(investigator)
    page = client.get(reverse("screening:sign", args=[decision.pk]))
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    signed = html[html.index('id="signed-content"') :]
    for code in decision.outcomes.values_list("code", flat=True):
        assert f'data-code="{code}"' in signed
    assert 'id="computed"' in signed and 'id="entered"' in signed
    assert 'data-input="screening_number"' in signed
    # No meaning is chosen for the signer.
    assert (
        "checked"
        not in html[: html.index('id="signed-content"')].split('name="meaning"')[1][
            :200
        ]
    )
