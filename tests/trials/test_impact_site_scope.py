"""An amendment's impact report names candidates of every site: a member
limited to one site is refused it, as they are other sites' records."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles
from accounts.models import Membership
from screening.versions.services import impact_report_record
from tests.factories import UserFactory, eligible_candidate
from trials.models import Site
from trials.services import version_draft_create

pytestmark = pytest.mark.django_db


def _member(username, trial, role, site=None):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    Membership.objects.filter(user=user).delete()
    Membership.objects.create(user=user, trial=trial, site=site, role=role)
    return user


@pytest.fixture
def report(trial, record):
    decision = record(data=eligible_candidate(diabetes=True))
    assert decision.outcome == "INELIGIBLE"
    admin = _member("ta", trial, roles.TRIAL_ADMIN)
    draft = version_draft_create(trial=trial, user=admin, label="d")
    for code in decision.blocking_codes:
        criterion = draft.criteria.get(code=code)
        criterion.active = False
        criterion._change_reason = "test"
        criterion.save()
    impact_report_record(version=draft, user=admin)
    return decision, draft


@pytest.mark.parametrize(
    "route", ["screening:version_impact", "screening:version_activate"]
)
def test_a_site_limited_member_is_refused_the_impact(client, trial, report, route):
    decision, draft = report
    second = Site.objects.create(trial=trial, code="02", name="Second")
    role = roles.MONITOR if route == "screening:version_impact" else roles.TRIAL_ADMIN
    client.force_login(_member("site02", trial, role, site=second))
    page = client.get(reverse(route, args=[trial.slug, draft.number]))
    assert page.status_code == HTTPStatus.FORBIDDEN
    assert decision.screening_number not in page.content.decode()


def test_a_member_of_every_site_reads_the_impact(client, trial, report):
    decision, draft = report
    client.force_login(_member("all-sites", trial, roles.MONITOR))
    page = client.get(
        reverse("screening:version_impact", args=[trial.slug, draft.number])
    )
    assert page.status_code == HTTPStatus.OK
    assert decision.screening_number in page.content.decode()
