"""The access log, on its page and in the admin, keeps to the reader's trials:
a member's events about another trial stay with that trial's readers."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import roles
from accounts.models import AccessEvent, Membership
from accounts.reauth import SIGNATURE, reauthenticate
from tests.factories import UserFactory
from trials.models import Site, Trial

pytestmark = pytest.mark.django_db


@pytest.fixture
def other():
    other = Trial.objects.create(
        slug="other-trial", title="Other", registry_id="NCT2", sponsor="S", site="S"
    )
    Site.objects.create(trial=other, code="01", name="Elsewhere")
    return other


def _member(username, trial, **kwargs):
    """A monitor of ``trial`` only (made after the other trial exists)."""
    user = UserFactory(username=username, **kwargs)
    user.groups.add(Group.objects.get(name=roles.MONITOR))
    Membership.objects.filter(user=user).delete()
    Membership.objects.create(user=user, trial=trial, role=roles.MONITOR)
    return user


def _fail_reauth(user, trial):
    with pytest.raises(ValidationError):
        reauthenticate(None, user, "wrong", trial_slug=trial.slug, purpose=SIGNATURE)


def test_admin_staff_of_another_trial_see_none_of_this_trials_events(
    client, trial, coordinator, other
):
    _fail_reauth(coordinator, trial)
    staff = _member("staff-other", other, is_staff=True)
    client.force_login(staff)
    page = client.get(reverse("admin:accounts_accessevent_changelist"))
    assert page.status_code == HTTPStatus.OK
    shown = list(page.context["cl"].queryset)
    assert not [e for e in shown if trial.slug in e.detail]
    assert not [e for e in shown if e.username == coordinator.username]
    # Their own events are there.
    assert [e for e in shown if e.detail.endswith(other.slug)]


def test_admin_and_page_show_a_reader_the_same_events(client, trial, coordinator):
    _fail_reauth(coordinator, trial)
    staff = _member("staff-this", trial, is_staff=True)
    client.force_login(staff)
    admin = set(
        client.get(reverse("admin:accounts_accessevent_changelist"))
        .context["cl"]
        .queryset
    )
    page = set(client.get(reverse("access_log")).context["page"].paginator.object_list)
    assert admin == page
    assert [e for e in page if e.detail == f"re-authentication {trial.slug}: signature"]


def test_the_page_leaves_out_a_members_events_about_another_trial(
    client, trial, coordinator, other
):
    reader = _member("monitor-a", trial)
    Membership.objects.create(user=coordinator, trial=other, role=roles.INVESTIGATOR)
    _fail_reauth(coordinator, other)
    _fail_reauth(coordinator, trial)
    client.force_login(reader)
    page = client.get(reverse("access_log"))
    assert page.status_code == HTTPStatus.OK
    shown = list(page.context["page"])
    assert "other-trial" not in page.content.decode()
    assert not [e for e in shown if "other-trial" in e.detail]
    # The member's events in this trial, and those naming no trial, stay.
    assert [
        e for e in shown if e.detail == f"re-authentication {trial.slug}: signature"
    ]
    this = f"membership {roles.COORDINATOR}: {trial.slug}"
    there = f"membership {roles.INVESTIGATOR}: {other.slug}"
    assert AccessEvent.objects.filter(detail=there).exists()
    assert [e for e in shown if e.detail == this]


def test_a_superuser_sees_every_event(client, trial, coordinator, other, superuser):
    Membership.objects.create(user=coordinator, trial=other, role=roles.INVESTIGATOR)
    _fail_reauth(coordinator, other)
    client.force_login(superuser)
    shown = list(
        client.get(reverse("access_log")).context["page"].paginator.object_list
    )
    assert len(shown) == AccessEvent.objects.count()
    assert [e for e in shown if "other-trial" in e.detail]


def test_a_member_without_the_access_log_is_refused(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("access_log")).status_code == HTTPStatus.FORBIDDEN
