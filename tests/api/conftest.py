"""Tokens for users in each role, and a client that sends them."""

import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts import roles
from accounts.models import Membership
from screening.api.tokens import api_token_create
from tests.factories import UserFactory
from trials.models import Site, Trial


class ApiClient:
    """Django's test client with a bearer token and JSON bodies."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, body=None, *, raw=None, query=""):
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            path + (f"?{query}" if query else ""),
            data,
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def api_client():
    return ApiClient


def _token(user) -> str:
    return api_token_create(user=user, name="test")[1]


@pytest.fixture
def other_trial(trial):
    other = Trial.objects.create(
        slug="other-trial",
        title="Another liver trial",
        registry_id="NCT00000000",
        sponsor="Someone else",
        site="Elsewhere",
    )
    Site.objects.create(trial=other, code="01", name="Elsewhere")
    return other


@pytest.fixture
def outsider(other_trial):
    """A coordinator of another trial only."""
    user = UserFactory(username="outsider")
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    Membership.objects.create(user=user, trial=other_trial, role=roles.COORDINATOR)
    return user


@pytest.fixture
def tokens(trial, coordinator, investigator, monitor, trial_admin, outsider):
    return {
        "coordinator": _token(coordinator),
        "investigator": _token(investigator),
        "monitor": _token(monitor),
        "trial_admin": _token(trial_admin),
        "outsider": _token(outsider),
    }


@pytest.fixture
def as_role(tokens):
    def _client(role: str) -> ApiClient:
        return ApiClient(tokens[role])

    return _client
