"""403, 404 and the CSRF failure page: the site's layout, the page's language,
a way back, and nothing about the trial or record that was refused."""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "zh-hans"]


def words(message: str, language: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def get(client, url: str, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(url)


def assert_error_page(response, status, template, heading, language, trial):
    assert settings.DEBUG is False
    assert response.status_code == status
    names = [t.name for t in response.templates]
    assert template in names and "base.html" in names
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert words(heading, language) in page
    assert 'href="/"' in page and words("Back to the start page", language) in page
    # Nothing names the trial whose page was refused; its address is only in the
    # language buttons' "next", to show the same address in the other language.
    path = response.request["PATH_INFO"]
    page = page.replace(f'name="next" type="hidden" value="{path}"', "")
    for leak in (trial.slug, trial.registry_id, trial.title, trial.title_zh_hans):
        assert leak not in page, leak


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_page_the_role_does_not_allow_is_the_sites_403(
    client, trial, coordinator, language
):
    client.force_login(coordinator)
    response = get(client, f"/trials/{trial.slug}/sign-off/", language)
    assert_error_page(
        response,
        HTTPStatus.FORBIDDEN,
        "403.html",
        "You may not open this page",
        language,
        trial,
    )
    # The menu is the user's own, with no trial's links.
    assert 'class="navbar-brand"' in response.content.decode()
    assert "/worklist/" not in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_trial_one_is_not_a_member_of_is_the_sites_404(client, trial, language):
    outsider = UserFactory(username="outsider", role="Coordinator")
    outsider.memberships.all().delete()
    client.force_login(outsider)
    for url in (f"/trials/{trial.slug}/log/", "/no/such/page/", "/decisions/999999/"):
        response = get(client, url, language)
        assert_error_page(
            response,
            HTTPStatus.NOT_FOUND,
            "404.html",
            "Page not found",
            language,
            trial,
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_sent_without_its_csrf_token_is_the_sites_page(coordinator, language):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post("/accounts/logout/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "403_csrf.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert words("The form could not be sent", language) in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_server_error_page_stands_alone_in_the_pages_language(language):
    from django.template.loader import render_to_string

    with translation.override(language):
        page = render_to_string("500.html")
    assert f'<html lang="{language}">' in page
    assert words("Something went wrong on the server", language) in page
