"""The lab inbox's admin: read-only, and scoped to the user's trials and sites."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts import roles
from accounts.models import Membership
from screening.labs.models import LabImport, LabReview, LabSource, LabValue
from tests.factories import UserFactory
from tests.labs.test_inbox import _client, _prefilled_post, _review_in_the_inbox
from tests.labs.test_inbox import _values as values_of

pytestmark = pytest.mark.django_db

MODELS = [LabImport, LabValue, LabReview, LabSource]


@pytest.fixture
def recorded(trial, coordinator, import_bundle):
    record = import_bundle()
    client = _client(coordinator)
    _review_in_the_inbox(client, values_of(record))
    url, _form, data = _prefilled_post(client, trial)
    assert client.post(url, data).status_code == HTTPStatus.FOUND
    return record


def _staff(trial, site=None):
    """A staff user allowed to view the four models, a monitor in ``trial``."""
    user = UserFactory(username=f"staff-{site.code if site else 'none'}")
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="labs", codename__startswith="view_"
        )
    )
    if site is not None:
        Membership.objects.create(user=user, trial=trial, site=site, role=roles.MONITOR)
    client = Client()
    client.force_login(user)
    return client


def _listed(client, model) -> int:
    url = reverse(f"admin:labs_{model._meta.model_name}_changelist")
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    return response.context["cl"].result_count


def test_each_lab_model_is_read_only(superuser, recorded):
    client = Client()
    client.force_login(superuser)
    for model in MODELS:
        name = model._meta.model_name
        obj = model._base_manager.first()
        assert _listed(client, model) == model._base_manager.count()
        change = client.get(reverse(f"admin:labs_{name}_change", args=[obj.pk]))
        assert change.status_code == HTTPStatus.OK
        assert b'name="_save"' not in change.content
        for action, args in (("add", []), ("delete", [obj.pk])):
            response = client.get(reverse(f"admin:labs_{name}_{action}", args=args))
            assert response.status_code == HTTPStatus.FORBIDDEN
    # The message as received (every candidate's results) is not shown.
    page = client.get(reverse("admin:labs_labimport_change", args=[recorded.pk]))
    assert b"Observation" not in page.content


def test_the_lab_admin_lists_only_the_users_sites(trial, recorded):
    site = LabValue.unscoped.first().site
    other = trial.sites.exclude(pk=site.pk).first() or trial.sites.create(
        code="99", name="Elsewhere"
    )
    member, elsewhere = _staff(trial, site), _staff(trial, other)
    assert [_listed(member, m) for m in MODELS] == [1, 4, 4, 3]
    assert [_listed(elsewhere, m) for m in MODELS] == [0, 0, 0, 0]
    assert [_listed(_staff(trial), m) for m in MODELS] == [0, 0, 0, 0]
    value = LabValue.unscoped.first()
    hidden = elsewhere.get(reverse("admin:labs_labvalue_change", args=[value.pk]))
    assert hidden.status_code == HTTPStatus.FOUND  # "does not exist"
