"""The access log shows failed re-authentications and API token events in the
page's language; the stored rows keep their fixed English words."""

from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import reauth
from accounts.models import AccessEvent
from accounts.views import detail_label
from screening.api.tokens import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(trial, coordinator):
    with pytest.raises(ValidationError):
        reauth.reauthenticate(
            None,
            coordinator,
            "wrong",
            trial_slug=trial.slug,
            purpose=reauth.VERSION_ACTIVATION,
        )
    token = api_token_create(user=coordinator, name="lab-bridge")[0]
    api_token_revoke(user=coordinator, token_id=token.pk)
    return AccessEvent.objects.filter(
        detail__in=[
            f"re-authentication {trial.slug}: version activation",
            "api token created: lab-bridge",
            "api token revoked: lab-bridge",
        ]
    )


def _shown(client, language):
    page = client.get(reverse("access_log"), HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == HTTPStatus.OK
    return {
        e.detail: (e.detail_label, e.detail_code) for e in page.context["page"]
    }, page.content.decode()


@pytest.mark.parametrize(
    ("language", "reauth_label", "created", "revoked"),
    [
        (
            "en",
            "Re-authentication while activating a criteria version, trial:",
            "API token created:",
            "API token revoked:",
        ),
        (
            "zh-hans",
            "重新验证身份（启用标准版本），试验：",
            "已创建 API 令牌：",
            "已撤销 API 令牌：",
        ),
    ],
)
def test_reauthentication_and_token_events_in_the_pages_language(
    client, trial, monitor, events, language, reauth_label, created, revoked
):
    assert events.count() == 3  # stored as recorded, in fixed words
    client.force_login(monitor)
    shown, body = _shown(client, language)
    assert shown[f"re-authentication {trial.slug}: version activation"] == (
        reauth_label,
        trial.slug,
    )
    assert shown["api token created: lab-bridge"] == (created, "lab-bridge")
    assert shown["api token revoked: lab-bridge"] == (revoked, "lab-bridge")
    assert reauth_label in body and f'<code lang="en">{trial.slug}</code>' in body
    assert "re-authentication " not in body and "api token" not in body


def test_a_detail_that_only_looks_alike_is_shown_as_it_is():
    assert detail_label("re-authentication x: something else") == (
        "re-authentication x: something else",
        "",
    )
    assert detail_label("role Monitor: api token created: x")[1] == ""
