"""make run's demo data: users, screenings and sign-offs made through the services."""

import io

import pytest
from django.core.management import call_command

from screening.models import EligibilityDecision, Signature

pytestmark = pytest.mark.django_db


def test_demo_data_records_and_signs_through_the_services(trial, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a demo passphrase for tests 7")
    out = io.StringIO()
    call_command("demo_data", "--screenings", "12", "--if-empty", stdout=out)
    assert EligibilityDecision.unscoped.count() == 12
    signatures = list(Signature.objects.select_related("decision"))
    assert signatures
    for signature in signatures:
        assert signature.decision.recorded_by_id != signature.signer_id
    # A second run changes nothing.
    call_command("demo_data", "--screenings", "12", "--if-empty", stdout=out)
    assert EligibilityDecision.unscoped.count() == 12
