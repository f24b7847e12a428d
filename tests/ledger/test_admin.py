"""The read-only admin of signed reviews and refused self-signings, per trial."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import Membership
from screening.decisions.services import signature_refusal
from screening.ledger.models import AuditReview, SignatureRefusal
from tests.factories import UserFactory
from trials.models import Trial

pytestmark = pytest.mark.django_db


def _review(trial, signer):
    today = timezone.localdate()
    return AuditReview.objects.create(
        trial=trial,
        period_start=today,
        period_end=today,
        content_hash="a" * 64,
        signer=signer,
        signer_full_name="Li Na",
        meaning=f"I reviewed the audit trail for {today} to {today}",
        signed_at=timezone.now(),
    )


@pytest.fixture
def staff_monitor(trial):
    """Staff with both view permissions, a monitor of ``trial`` only."""
    user = UserFactory(username="staffmonitor", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="ledger",
            codename__in=["view_auditreview", "view_signaturerefusal"],
        )
    )
    Membership.objects.create(user=user, trial=trial, role=roles.MONITOR)
    return user


def test_reviews_and_refusals_of_the_users_trials_only(
    client, trial, record, investigator, monitor, staff_monitor, superuser
):
    other = Trial.objects.create(
        slug="other-trial", title="Other", registry_id="NCT2", sponsor="S", site="S"
    )
    mine, theirs = _review(trial, monitor), _review(other, monitor)
    own_record = record(user=investigator)
    with pytest.raises(ValidationError):
        signature_refusal(decision=own_record, signer=investigator)
    refusal = SignatureRefusal.objects.get()
    client.force_login(staff_monitor)
    reviews = client.get(reverse("admin:ledger_auditreview_changelist"))
    assert reviews.status_code == HTTPStatus.OK
    assert list(reviews.context["cl"].queryset) == [mine]
    change = reverse("admin:ledger_auditreview_change", args=[theirs.pk])
    assert client.get(change).status_code == HTTPStatus.FOUND  # "does not exist"
    shown = client.get(reverse("admin:ledger_auditreview_change", args=[mine.pk]))
    assert shown.status_code == HTTPStatus.OK
    assert shown.context["has_change_permission"] is False
    refusals = client.get(reverse("admin:ledger_signaturerefusal_changelist"))
    assert list(refusals.context["cl"].queryset) == [refusal]
    # Read-only: no add or delete, for anyone.
    client.force_login(superuser)
    for name in ("auditreview", "signaturerefusal"):
        add = client.get(reverse(f"admin:ledger_{name}_add"))
        assert add.status_code == HTTPStatus.FORBIDDEN
    delete = reverse("admin:ledger_auditreview_delete", args=[mine.pk])
    assert client.post(delete, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    everything = client.get(reverse("admin:ledger_auditreview_changelist"))
    assert set(everything.context["cl"].queryset) == {mine, theirs}


def test_a_member_of_another_trial_sees_no_refusal(
    client, trial, record, investigator, staff_monitor
):
    own_record = record(user=investigator)
    with pytest.raises(ValidationError):
        signature_refusal(decision=own_record, signer=investigator)
    Membership.objects.filter(user=staff_monitor).delete()
    other = Trial.objects.create(
        slug="other-trial", title="Other", registry_id="NCT2", sponsor="S", site="S"
    )
    Membership.objects.create(user=staff_monitor, trial=other, role=roles.MONITOR)
    client.force_login(staff_monitor)
    page = client.get(reverse("admin:ledger_signaturerefusal_changelist"))
    assert list(page.context["cl"].queryset) == []
