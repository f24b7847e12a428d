"""The admin's trial filter names only the trials the user is a member of."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts import roles
from accounts.models import Membership
from tests.factories import UserFactory
from trials.models import Trial

pytestmark = pytest.mark.django_db

# Every changelist whose filters include the trial (app label, model name).
CHANGELISTS = [
    ("ledger", "auditreview"),
    ("ledger", "signaturerefusal"),
    ("screening", "eligibilitydecision"),
    ("labs", "labimport"),
    ("labs", "labvalue"),
    ("trials", "criteriaversion"),
    ("trials", "criterion"),
    ("trials", "condition"),
    ("accounts", "membership"),
]


def _trial(slug, registry_id, title):
    return Trial.objects.create(
        slug=slug, title=title, registry_id=registry_id, sponsor="S", site="S"
    )


@pytest.fixture
def trials(trial):
    """The loaded trial and a second one the user is in, and one he is not."""
    also = _trial("also-mine", "NCT00000042", "Also mine")
    hidden = _trial("not-mine", "NCT00000099", "Bravo hidden study")
    return trial, also, hidden


def _staff_member_of(*member_of, role=roles.MONITOR):
    user = UserFactory(username="staff-filter", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[f"view_{model}" for _app, model in CHANGELISTS]
        )
    )
    for trial in member_of:
        Membership.objects.create(user=user, trial=trial, role=role)
    return user


def _trial_choices(response) -> list[str]:
    (spec,) = [
        spec
        for spec in response.context["cl"].filter_specs
        if spec.field_path.endswith("trial")
    ]
    return sorted(name for _pk, name in spec.lookup_choices)


@pytest.mark.parametrize(("app", "model"), CHANGELISTS)
def test_a_member_sees_only_his_trials_in_the_filter(client, trials, app, model):
    mine, also, hidden = trials
    client.force_login(_staff_member_of(mine, also))
    response = client.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == HTTPStatus.OK
    assert _trial_choices(response) == sorted([str(mine), str(also)])
    assert hidden.registry_id.encode() not in response.content
    assert b"Bravo hidden study" not in response.content


@pytest.mark.parametrize(("app", "model"), CHANGELISTS)
def test_a_superuser_sees_every_trial_in_the_filter(
    client, superuser, trials, app, model
):
    client.force_login(superuser)
    response = client.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == HTTPStatus.OK
    assert _trial_choices(response) == sorted(str(t) for t in trials)


def test_a_trial_asked_for_still_filters_when_the_user_has_one(client, trials):
    mine, _also, hidden = trials
    client.force_login(_staff_member_of(mine, role=roles.TRIAL_ADMIN))
    changelist = reverse("admin:trials_criterion_changelist")
    listed = client.get(changelist)
    assert listed.context["cl"].result_count == 14
    for trial, count in ((mine, 14), (hidden, 0)):
        response = client.get(changelist, {"trial__id__exact": trial.pk})
        assert response.context["cl"].result_count == count
        assert _trial_choices(response) == [str(mine)]
