"""Shared fixtures: the trial, users in each role, and audit-table handling."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from accounts import roles
from screening.common import db_triggers
from tests.factories import (
    TEST_PASSWORD,
    UserFactory,
    eligible_candidate,
    member_of_every_trial,
)
from trials import db_triggers as version_triggers

_triggers_removed = False


@pytest.fixture(autouse=True)
def _append_only_triggers_present(django_db_blocker):
    """Reinstall the audit triggers if a transactional test's cleanup removed them."""
    global _triggers_removed
    if _triggers_removed:
        with django_db_blocker.unblock():
            db_triggers.install(connection)
            version_triggers.install(connection)
        _triggers_removed = False


@pytest.fixture(autouse=True)
def _criteria_cache_empty():
    """Each test starts with no cached criteria (ids come back after a rollback)."""
    from screening import criteria

    criteria._CACHE.clear()


@pytest.fixture
def transactional_audit_db(transactional_db):
    """A transactional database whose append-only tables can be flushed afterwards.

    Django empties tables after a transactional test (DELETE on SQLite, TRUNCATE on
    PostgreSQL), which the audit triggers refuse; they are removed just for that
    cleanup and put back before the next test.
    """
    global _triggers_removed
    yield
    db_triggers.remove(connection)
    version_triggers.remove(connection)
    _triggers_removed = True


@pytest.fixture
def trial(db):
    from trials.services import trial_load_protocol

    loaded, _created = trial_load_protocol()
    # Users made before the trial hold their role in it too (tests/factories.py).
    for user in get_user_model().objects.prefetch_related("groups"):
        for group in user.groups.all():
            member_of_every_trial(user, group.name)
    return loaded


@pytest.fixture
def password():
    return TEST_PASSWORD


@pytest.fixture
def coordinator(db):
    return UserFactory(username="coordinator", role=roles.COORDINATOR)


@pytest.fixture
def investigator(db):
    return UserFactory(
        username="investigator",
        first_name="Wang",
        last_name="Jun",
        role=roles.INVESTIGATOR,
    )


@pytest.fixture
def monitor(db):
    return UserFactory(username="monitor", role=roles.MONITOR)


@pytest.fixture
def trial_admin(db):
    return UserFactory(username="trialadmin", role=roles.TRIAL_ADMIN, is_staff=True)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def candidate_data():
    return eligible_candidate()


@pytest.fixture
def record(trial, coordinator):
    """Record a decision through the service, as the form does."""
    from screening.decisions.services import decision_record

    def _record(data=None, user=None, **kwargs):
        return decision_record(
            trial=trial,
            data=data if data is not None else eligible_candidate(),
            user=user or coordinator,
            **kwargs,
        )

    return _record


# Traceability: the criterion marker and the validation report (tests/validation.py).
pytest_plugins = ["tests.validation"]


def pytest_configure(config):
    from tests.validation import MARKER_HELP

    config.addinivalue_line("markers", MARKER_HELP)
