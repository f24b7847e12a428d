"""Accounts: lockout, access events, logout, roles, sessions, passwords, deploy."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import AccessEvent
from tests.factories import TEST_PASSWORD, UserFactory

SLUG = "nct06904755"
WRONG_PASSWORD = "Wrong-Password-7f3a9c"


def login(client, username, password):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR="203.0.113.7",
    )


def logged_in(client) -> bool:
    return SESSION_KEY in client.session


class TestLockout:
    def test_locked_out_after_the_failure_limit_even_with_the_right_password(
        self, client, coordinator
    ):
        for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            response = login(client, "coordinator", WRONG_PASSWORD)
            assert response.status_code == HTTPStatus.OK
            assert not logged_in(client)
        response = login(client, "coordinator", WRONG_PASSWORD)
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS

        response = login(client, "coordinator", TEST_PASSWORD)
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert "registration/locked_out.html" in [t.name for t in response.templates]
        assert not logged_in(client)
        assert client.get(reverse("home")).status_code == HTTPStatus.FOUND

    def test_fewer_failures_than_the_limit_still_allow_login(self, client, coordinator):
        for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            login(client, "coordinator", WRONG_PASSWORD)
        response = login(client, "coordinator", TEST_PASSWORD)
        assert response.status_code == HTTPStatus.FOUND
        assert logged_in(client)

    def test_lockout_of_one_user_does_not_lock_another(self, client, coordinator):
        UserFactory(username="other", role=roles.COORDINATOR)
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            login(client, "coordinator", WRONG_PASSWORD)
        assert login(client, "other", TEST_PASSWORD).status_code == HTTPStatus.FOUND


class TestAccessEvents:
    def test_login_failure_and_logout_are_recorded_without_the_password(
        self, client, coordinator
    ):
        assert login(client, "coordinator", WRONG_PASSWORD).status_code == (
            HTTPStatus.OK
        )
        assert login(client, "coordinator", TEST_PASSWORD).status_code == (
            HTTPStatus.FOUND
        )
        client.post(reverse("logout"))
        setup = (AccessEvent.Action.ROLE_ADDED, AccessEvent.Action.ACCOUNT_CHANGED)
        events = list(AccessEvent.objects.exclude(action__in=setup).order_by("id"))
        assert [e.action for e in events] == [
            AccessEvent.Action.LOGIN_FAILED,
            AccessEvent.Action.LOGIN,
            AccessEvent.Action.LOGOUT,
        ]
        assert all(e.username == "coordinator" for e in events)
        assert events[0].user is None
        assert events[1].user == coordinator
        assert all(e.ip_address == "203.0.113.7" for e in events[:2])
        assert all(e.at is not None for e in events)
        for row in AccessEvent.objects.values():
            for value in row.values():
                assert TEST_PASSWORD not in str(value)
                assert WRONG_PASSWORD not in str(value)

    def test_failed_login_for_an_unknown_user_is_recorded(self, client, db):
        login(client, "nobody", WRONG_PASSWORD)
        event = AccessEvent.objects.get()
        assert event.action == AccessEvent.Action.LOGIN_FAILED
        assert event.username == "nobody"


class TestLogout:
    def test_logout_by_get_is_refused(self, client, coordinator):
        client.force_login(coordinator)
        response = client.get(reverse("logout"))
        assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
        assert logged_in(client)

    def test_logout_by_post(self, client, coordinator):
        client.force_login(coordinator)
        response = client.post(reverse("logout"))
        assert response.status_code == HTTPStatus.FOUND
        assert response.url == reverse(settings.LOGOUT_REDIRECT_URL)
        assert not logged_in(client)
        assert client.get(reverse("screening:log", args=[SLUG])).status_code == (
            HTTPStatus.FOUND
        )


class TestRoleChanges:
    def test_role_added_and_removed_are_recorded(self, coordinator):
        investigator_role = Group.objects.get(name=roles.INVESTIGATOR)
        coordinator_role = Group.objects.get(name=roles.COORDINATOR)
        start = AccessEvent.objects.count()
        coordinator.groups.add(investigator_role)
        coordinator.groups.remove(coordinator_role)
        events = list(AccessEvent.objects.order_by("id")[start:])
        assert [(e.action, e.detail, e.user) for e in events] == [
            (AccessEvent.Action.ROLE_ADDED, roles.INVESTIGATOR, coordinator),
            (AccessEvent.Action.ROLE_REMOVED, roles.COORDINATOR, coordinator),
        ]

    def test_clearing_roles_records_each_removal(self, coordinator):
        coordinator.groups.add(Group.objects.get(name=roles.MONITOR))
        start = AccessEvent.objects.count()
        coordinator.groups.clear()
        removed = AccessEvent.objects.order_by("id")[start:]
        assert sorted(e.detail for e in removed) == [roles.COORDINATOR, roles.MONITOR]
        assert {e.action for e in removed} == {AccessEvent.Action.ROLE_REMOVED}

    def test_adding_a_role_from_the_reverse_side_is_recorded(self, coordinator):
        # group.user_set.add(user) changes the same table as user.groups.add(group).
        start = AccessEvent.objects.count()
        Group.objects.get(name=roles.MONITOR).user_set.add(coordinator)
        assert list(
            AccessEvent.objects.order_by("id")[start:].values_list("action", "detail")
        ) == [(AccessEvent.Action.ROLE_ADDED, roles.MONITOR)]

    def test_monitor_sees_role_changes_and_a_coordinator_does_not(
        self, client, trial, coordinator, monitor
    ):
        coordinator.groups.add(Group.objects.get(name=roles.INVESTIGATOR))
        client.force_login(monitor)
        response = client.get(reverse("access_log"))
        assert response.status_code == HTTPStatus.OK
        shown = [(e.action, e.detail) for e in response.context["page"]]
        assert (AccessEvent.Action.ROLE_ADDED, roles.INVESTIGATOR) in shown

        client.force_login(coordinator)
        assert client.get(reverse("access_log")).status_code == HTTPStatus.FORBIDDEN


class TestNoRole:
    @pytest.fixture
    def roleless(self, client, trial, record):
        record()
        client.force_login(UserFactory(username="newcomer"))
        return client

    def test_home_says_there_is_no_role(self, roleless):
        response = roleless.get(reverse("home"))
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "accounts/no_role.html" in [t.name for t in response.templates]

    @pytest.mark.parametrize(
        "url",
        [
            f"/trials/{SLUG}/screen/",
            f"/trials/{SLUG}/log/",
            f"/trials/{SLUG}/log/export/",
            f"/trials/{SLUG}/funnel/",
            f"/trials/{SLUG}/prescreen/",
            "/accounts/access-log/",
        ],
    )
    def test_screening_pages_are_not_found(self, roleless, url):
        # Not a member of the trial: its pages do not exist for this user.
        expected = HTTPStatus.FORBIDDEN if "access-log" in url else HTTPStatus.NOT_FOUND
        assert roleless.get(url).status_code == expected

    def test_decision_page_is_not_found(self, roleless):
        from screening.models import EligibilityDecision

        decision = EligibilityDecision.unscoped.get()
        for name in ("decision", "correct", "sign", "candidate"):
            url = reverse(f"screening:{name}", args=[decision.pk])
            assert roleless.get(url).status_code == HTTPStatus.NOT_FOUND, name


class TestSessions:
    def test_sessions_expire_after_inactivity(self):
        assert 0 < settings.SESSION_COOKIE_AGE <= 60 * 60
        # Activity extends it, written at most once a minute.
        assert 0 < settings.SESSION_REFRESH_SECONDS <= 60

    def test_activity_within_the_refresh_interval_writes_no_session(
        self, client, trial, coordinator
    ):
        client.force_login(coordinator)
        url = reverse("screening:log", args=[SLUG])
        client.get(url)
        key = client.session.session_key
        written = Session.objects.get(session_key=key).expire_date
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == HTTPStatus.OK
        assert not [
            q for q in captured.captured_queries if "UPDATE" in q["sql"].upper()
        ]
        assert Session.objects.get(session_key=key).expire_date == written

    def test_activity_after_the_refresh_interval_extends_the_session(
        self, client, trial, coordinator
    ):
        client.force_login(coordinator)
        url = reverse("screening:log", args=[SLUG])
        client.get(url)
        session = client.session
        session["_touched"] -= settings.SESSION_REFRESH_SECONDS
        session.save()
        key = session.session_key
        Session.objects.filter(session_key=key).update(
            expire_date=timezone.now() + timedelta(seconds=30)
        )
        assert client.get(url).status_code == HTTPStatus.OK
        expires = Session.objects.get(session_key=key).expire_date
        assert expires > timezone.now() + timedelta(
            seconds=settings.SESSION_COOKIE_AGE - 60
        )

    def test_an_idle_session_has_ended(self, client, coordinator):
        client.force_login(coordinator)
        Session.objects.filter(session_key=client.session.session_key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )
        response = client.get(reverse("screening:log", args=[SLUG]))
        assert response.status_code == HTTPStatus.FOUND
        assert response.url.startswith(reverse("login"))


class TestPasswords:
    @pytest.mark.parametrize(
        ("password", "code"),
        [
            ("short1!", "password_too_short"),
            ("password1234", "password_too_common"),
            ("84736251908374", "password_entirely_numeric"),
            ("coordinator-x", "password_too_similar"),
        ],
    )
    def test_weak_password_is_rejected(self, coordinator, password, code):
        with pytest.raises(ValidationError) as caught:
            validate_password(password, user=coordinator)
        assert code in [e.code for e in caught.value.error_list]

    def test_strong_password_is_accepted(self, coordinator):
        validate_password(TEST_PASSWORD, user=coordinator)


def _check_deploy(env):
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _production_env():
    env = os.environ.copy()
    # The browser tests relax async safety in this process; production does not.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    env["DJANGO_ALLOWED_HOSTS"] = "screening.example.org"
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    env["DATABASE_URL"] = "postgres://screening@127.0.0.1:5432/screening"
    env["AUDIT_HMAC_KEY"] = secrets.token_urlsafe(48)
    return env


class TestProductionSettings:
    def test_check_deploy_passes_silently(self):
        result = _check_deploy(_production_env())
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "WARNINGS" not in output
        assert "ERRORS" not in output

    def test_missing_database_url_stops_the_start(self):
        env = _production_env()
        del env["DATABASE_URL"]
        result = _check_deploy(env)
        assert result.returncode != 0
        assert "DATABASE_URL" in result.stdout + result.stderr

    def test_missing_secret_key_stops_the_start(self):
        env = _production_env()
        del env["DJANGO_SECRET_KEY"]
        result = _check_deploy(env)
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY" in result.stdout + result.stderr


class TestAccountChanges:
    """Every change of an account or a role's permissions is an access event."""

    def details(self, username):
        return list(
            AccessEvent.objects.filter(
                action=AccessEvent.Action.ACCOUNT_CHANGED, username=username
            )
            .order_by("id")
            .values_list("detail", flat=True)
        )

    def test_flags_renames_and_deactivation_are_recorded(self, coordinator):
        before = len(self.details("coordinator"))
        coordinator.is_superuser = True
        coordinator.is_staff = True
        coordinator.save()
        coordinator.is_active = False
        coordinator.save()
        assert self.details("coordinator")[before:] == [
            "is_superuser: False -> True",
            "is_staff: False -> True",
            "is_active: True -> False",
        ]
        coordinator.username = "coordinator-2"
        coordinator.save()
        assert self.details("coordinator-2") == [
            "username: coordinator -> coordinator-2"
        ]

    def test_a_login_writes_no_account_change(self, client, coordinator):
        before = AccessEvent.objects.filter(
            action=AccessEvent.Action.ACCOUNT_CHANGED
        ).count()
        assert login(client, "coordinator", TEST_PASSWORD).status_code == (
            HTTPStatus.FOUND
        )
        assert (
            AccessEvent.objects.filter(
                action=AccessEvent.Action.ACCOUNT_CHANGED
            ).count()
            == before
        )

    def test_direct_and_role_permissions_are_recorded(self, coordinator):
        sign = Permission.objects.get(codename="sign_eligibilitydecision")
        coordinator.user_permissions.add(sign)
        coordinator.user_permissions.remove(sign)
        assert self.details("coordinator")[-2:] == [
            "permission added: screening.sign_eligibilitydecision",
            "permission removed: screening.sign_eligibilitydecision",
        ]
        group = Group.objects.get(name=roles.COORDINATOR)
        group.permissions.add(sign)
        assert self.details(roles.COORDINATOR) == [
            f"role {roles.COORDINATOR}: permission added: "
            "screening.sign_eligibilitydecision"
        ]
