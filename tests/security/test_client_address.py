"""Behind the proxy, lockout and the access log use the client's own address."""

import subprocess
import sys
from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings

from accounts.client import client_address
from accounts.models import AccessEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db
NGINX = "127.0.0.1"
WRONG = "not the password at all 1"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "198.51.100.7", "10.0.0.9"),  # no proxy trusted: the peer
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # a forged entry is ignored
        (2, "6.6.6.6, 198.51.100.7, 10.1.1.1", "198.51.100.7"),
        (2, "198.51.100.7", "10.0.0.9"),  # fewer hops than proxies: the peer
        (1, "not-an-address", "10.0.0.9"),
        (1, "", "10.0.0.9"),
    ],
)
def test_the_client_is_the_address_the_outermost_trusted_proxy_saw(
    count, forwarded, expected
):
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.9"
    )
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert client_address(request) == expected


def test_production_trusts_exactly_one_proxy_by_default():
    code = (
        "import os\n"
        "os.environ.update(DJANGO_SECRET_KEY='x' * 60, DJANGO_ALLOWED_HOSTS='a',"
        " DATABASE_URL='postgres://u@127.0.0.1:5432/d', AUDIT_HMAC_KEY='k' * 48)\n"
        "os.environ.pop('TRUSTED_PROXY_COUNT', None)\n"
        "from config.settings import production as p\n"
        "print(p.TRUSTED_PROXY_COUNT, p.AXES_CLIENT_IP_CALLABLE)\n"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert out == ["1", "accounts.client.client_address"]


def login(client, address, password):
    return client.post(
        "/accounts/login/",
        {"username": "coordinator", "password": password},
        REMOTE_ADDR=NGINX,
        HTTP_X_FORWARDED_FOR=address,
    )


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_lockout_and_the_access_log_use_the_workstation_behind_the_proxy(
    client, coordinator
):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, "198.51.100.7", WRONG)
    assert login(client, "198.51.100.7", TEST_PASSWORD).status_code == (
        HTTPStatus.TOO_MANY_REQUESTS
    )
    # Another workstation behind the same proxy is not locked out.
    assert login(client, "198.51.100.8", TEST_PASSWORD).status_code == HTTPStatus.FOUND
    failed = AccessEvent.objects.filter(action=AccessEvent.Action.LOGIN_FAILED)
    assert set(failed.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    ok = AccessEvent.objects.get(action=AccessEvent.Action.LOGIN)
    assert ok.ip_address == "198.51.100.8"
