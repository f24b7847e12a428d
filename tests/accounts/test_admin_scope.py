"""Admin lists of memberships, signatures and log exports keep to the user's
trials: staff of one trial see nothing of another's (superusers: every trial)."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import Membership
from screening.decisions.services import signature_record
from screening.models import ScreeningLogExport, Signature
from tests.factories import TEST_PASSWORD, UserFactory
from trials.models import Site, Trial

pytestmark = pytest.mark.django_db


def _permissions(*codenames):
    return Permission.objects.filter(codename__in=codenames)


@pytest.fixture
def other():
    return Trial.objects.create(
        slug="other-trial", title="Other", registry_id="NCT2", sponsor="S", site="S"
    )


def test_a_trial_admin_manages_the_memberships_of_their_trial_only(
    client, trial, trial_admin, coordinator, superuser, other
):
    """The users are members of every trial there is when they are made: the
    other trial comes after them."""
    trial_admin.user_permissions.add(
        *_permissions("view_membership", "add_membership", "change_membership")
    )
    theirs = Membership.objects.create(
        user=coordinator, trial=other, role=roles.MONITOR
    )
    mine = Membership.objects.get(user=coordinator, trial=trial)
    other_site = Site.objects.create(trial=other, code="X1", name="Elsewhere")
    client.force_login(trial_admin)
    page = client.get(reverse("admin:accounts_membership_changelist"))
    assert page.status_code == HTTPStatus.OK
    shown = set(page.context["cl"].queryset)
    assert mine in shown and theirs not in shown
    assert {m.trial_id for m in shown} == {trial.pk}
    change = reverse("admin:accounts_membership_change", args=[theirs.pk])
    assert client.get(change).status_code == HTTPStatus.FOUND  # "does not exist"
    add = client.get(reverse("admin:accounts_membership_add"))
    form = add.context["adminform"].form
    assert list(form.fields["trial"].queryset) == [trial]
    assert other_site not in form.fields["site"].queryset
    # Posting the other trial anyway is refused next to the field.
    refused = client.post(
        reverse("admin:accounts_membership_add"),
        {"user": coordinator.pk, "trial": other.pk, "role": roles.INVESTIGATOR},
    )
    assert refused.status_code == HTTPStatus.OK
    assert "trial" in refused.context["adminform"].form.errors
    assert not Membership.objects.filter(
        user=coordinator, trial=other, role=roles.INVESTIGATOR
    ).exists()
    client.force_login(superuser)
    page = client.get(reverse("admin:accounts_membership_changelist"))
    assert {mine, theirs} <= set(page.context["cl"].queryset)


def test_signatures_and_log_exports_of_another_trial_stay_hidden(
    client, trial, record, investigator, monitor, superuser, other
):
    decision = record()
    signature = signature_record(
        decision=decision,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.CONFIRM,
    )
    now = timezone.now()
    exported = ScreeningLogExport.objects.create(
        trial=trial, user=monitor, exported_at=now, export_format="csv"
    )
    staff = UserFactory(username="staff-elsewhere", is_staff=True)
    staff.user_permissions.add(
        *_permissions("view_signature", "view_screeninglogexport")
    )
    Membership.objects.create(user=staff, trial=other, role=roles.MONITOR)
    client.force_login(staff)
    signatures = client.get(reverse("admin:screening_signature_changelist"))
    assert signatures.status_code == HTTPStatus.OK
    assert list(signatures.context["cl"].queryset) == []
    exports = client.get(reverse("admin:screening_screeninglogexport_changelist"))
    assert list(exports.context["cl"].queryset) == []
    # A member of the trial sees them; a superuser sees every trial's.
    Membership.objects.create(user=staff, trial=trial, role=roles.MONITOR)
    signatures = client.get(reverse("admin:screening_signature_changelist"))
    assert list(signatures.context["cl"].queryset) == [signature]
    exports = client.get(reverse("admin:screening_screeninglogexport_changelist"))
    assert list(exports.context["cl"].queryset) == [exported]
    client.force_login(superuser)
    exports = client.get(reverse("admin:screening_screeninglogexport_changelist"))
    assert list(exports.context["cl"].queryset) == [exported]
