"""Personal API tokens: hashed, shown once, scoped to the user, revocable, logged."""

import hashlib
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.test import Client

from accounts import roles
from accounts.models import AccessEvent, Membership
from screening.api.models import ApiToken
from screening.api.tokens import api_token_create
from screening.models import EligibilityDecision
from tests.factories import UserFactory, eligible_candidate
from trials.models import Site


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def _page_create(client, name):
    return client.post("/api/tokens/", {"name": name})


def _secret_in(response) -> str:
    html = response.content.decode()
    start = html.index('class="d-block user-select-all api-token" lang="en">')
    return html[start:].split(">", 1)[1].split("<", 1)[0]


def test_a_token_is_shown_once_and_stored_hashed(client, trial, coordinator):
    client.force_login(coordinator)
    created = _page_create(client, "LIS interface")
    assert created.status_code == HTTPStatus.OK
    secret = _secret_in(created)
    assert secret.startswith("msc_") and len(secret) >= 40
    token = ApiToken.objects.get(user=coordinator)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.digest}
    assert secret.startswith(token.prefix)
    # Never again: the list shows its first characters only.
    page = client.get("/api/tokens/").content.decode()
    assert secret not in page
    assert f"{token.prefix}…" in page
    event = AccessEvent.objects.get(detail="api token created: LIS interface")
    assert (event.action, event.user, event.actor) == (
        AccessEvent.Action.ACCOUNT_CHANGED,
        coordinator,
        coordinator,
    )


def test_a_revoked_token_is_refused_and_the_revocation_logged(
    client, trial, coordinator, api_client
):
    client.force_login(coordinator)
    secret = _secret_in(_page_create(client, "script"))
    api = api_client(secret)
    url = f"/api/v1/trials/{trial.slug}/criteria"
    assert api.get(url).status_code == HTTPStatus.OK
    token = ApiToken.objects.get(user=coordinator)
    assert token.last_used_at is not None
    response = client.post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == HTTPStatus.FOUND
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get(url).status_code == HTTPStatus.UNAUTHORIZED
    assert AccessEvent.objects.filter(
        action=AccessEvent.Action.ACCOUNT_CHANGED,
        user=coordinator,
        detail="api token revoked: script",
    ).exists()


def test_nobody_revokes_another_users_token(client, trial, coordinator, monitor):
    token, _secret = api_token_create(user=coordinator, name="mine")
    client.force_login(monitor)
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_active_name_is_taken_once_and_the_count_is_limited(
    client, trial, coordinator
):
    client.force_login(coordinator)
    _page_create(client, "same")
    again = _page_create(client, "same")
    assert again.context["form"].errors["name"]
    assert ApiToken.objects.filter(user=coordinator).count() == 1
    for n in range(9):
        _page_create(client, f"t{n}")
    refused = _page_create(client, "eleventh")
    assert refused.context["form"].non_field_errors()
    assert ApiToken.objects.filter(user=coordinator).count() == 10


def test_the_token_page_needs_a_login(client):
    response = client.get("/api/tokens/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


def test_a_token_acts_as_its_user_within_their_memberships(trial, api_client):
    """A coordinator of site 02 only: records at 02, sees nothing of site 01."""
    second = Site.objects.create(trial=trial, code="02", name="Second site")
    at_01 = UserFactory(username="coord-01", role=roles.COORDINATOR)
    at_02 = UserFactory(username="coord-02")
    Membership.objects.create(
        user=at_02, trial=trial, site=second, role=roles.COORDINATOR
    )
    first = api_client(api_token_create(user=at_01, name="a")[1])
    other = api_client(api_token_create(user=at_02, name="b")[1])
    base = f"/api/v1/trials/{trial.slug}"
    made = first.post(f"{base}/decisions", eligible_candidate(), query="site=01")
    assert made.status_code == HTTPStatus.CREATED
    assert other.get(f"/api/v1/decisions/{made.json()['id']}").status_code == 404
    assert other.get(f"{base}/decisions").json()["count"] == 0
    # Not at a site outside the membership, and not on behalf of anyone else.
    refused = other.post(
        f"{base}/decisions",
        eligible_candidate(screening_number="01-002"),
        query="site=01",
    )
    assert refused.status_code == HTTPStatus.FORBIDDEN
    own = other.post(f"{base}/decisions", eligible_candidate(screening_number="02-001"))
    assert own.status_code == HTTPStatus.CREATED
    assert own.json()["site"] == "02"
    assert own.json()["recorded_by"] == "coord-02"
    recorded = EligibilityDecision.objects.system().get(pk=own.json()["id"])
    assert recorded.recorded_by == at_02


def test_a_user_at_several_sites_names_the_site(trial, coordinator, api_client):
    Site.objects.create(trial=trial, code="02", name="Second site")
    api = api_client(api_token_create(user=coordinator, name="x")[1])
    base = f"/api/v1/trials/{trial.slug}/decisions"
    response = api.post(base, eligible_candidate())
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [e["path"] for e in response.json()["errors"]] == ["site"]
    assert api.post(base, eligible_candidate(), query="site=02").status_code == 201


def test_a_changed_membership_applies_to_the_next_request(
    trial, coordinator, api_client
):
    api = api_client(api_token_create(user=coordinator, name="x")[1])
    url = f"/api/v1/trials/{trial.slug}/criteria"
    assert api.get(url).status_code == HTTPStatus.OK
    Membership.objects.filter(user=coordinator).delete()
    assert api.get(url).status_code == HTTPStatus.NOT_FOUND


def test_an_inactive_users_token_is_refused(trial, coordinator, api_client):
    api = api_client(api_token_create(user=coordinator, name="x")[1])
    coordinator.is_active = False
    coordinator.save()
    response = api.get(f"/api/v1/trials/{trial.slug}/criteria")
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_requests_are_throttled_per_token(
    trial, coordinator, monitor, api_client, settings
):
    settings.API_TOKEN_RATE = "3/min"
    busy = api_client(api_token_create(user=coordinator, name="x")[1])
    calm = api_client(api_token_create(user=monitor, name="y")[1])
    url = f"/api/v1/trials/{trial.slug}/criteria"
    assert [busy.get(url).status_code for _ in range(3)] == [200] * 3
    throttled = busy.get(url)
    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert throttled["Content-Type"] == "application/problem+json"
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert calm.get(url).status_code == HTTPStatus.OK


def test_api_responses_are_not_stored_by_browsers_or_proxies(trial, as_role):
    response = as_role("monitor").get(f"/api/v1/trials/{trial.slug}/decisions")
    assert "no-store" in response["Cache-Control"]
    refused = Client().get(f"/api/v1/trials/{trial.slug}/decisions")
    assert "no-store" in refused["Cache-Control"]


def test_the_page_lists_active_tokens_first(trial, coordinator):
    from screening.api.tokens import api_token_revoke, api_tokens_of

    old, _secret = api_token_create(user=coordinator, name="old")
    api_token_create(user=coordinator, name="new")
    api_token_revoke(user=coordinator, token_id=old.pk)
    api_token_create(user=coordinator, name="newest")
    names = [t.name for t in api_tokens_of(user=coordinator)]
    assert names == ["newest", "new", "old"]
