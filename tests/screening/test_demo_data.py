"""make run's demo data: users, screenings and sign-offs made through the services."""

import io

import pytest
from django.contrib.auth import get_user_model
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


def test_demo_users_have_full_and_chinese_names_in_every_trial(trial, monkeypatch):
    from django.utils import translation

    from accounts.models import Membership
    from accounts.names import display_name
    from trials.files import SHIPPED
    from trials.models import Trial

    call_command("load_trial", "--file", str(SHIPPED["aclf-pmc6247955"]), verbosity=0)
    monkeypatch.setenv("DEMO_PASSWORD", "a demo passphrase for tests 7")
    call_command("demo_data", stdout=io.StringIO())
    names = {}
    for username in ("demo-coordinator", "demo-investigator", "demo-monitor"):
        user = get_user_model().objects.get(username=username)
        with translation.override("zh-hans"):
            chinese = display_name(user)
        names[username] = (display_name(user, "en"), chinese)
        trials = set(
            Membership.objects.filter(user=user).values_list("trial__slug", flat=True)
        )
        assert trials == set(Trial.objects.values_list("slug", flat=True))
        assert len(trials) == 2
    assert names == {
        "demo-coordinator": ("Fang Wang", "王芳"),
        "demo-investigator": ("Jianguo Li", "李建国"),
        "demo-monitor": ("Jing Chen", "陈静"),
    }
    admin = get_user_model().objects.get(username="demo-admin")
    assert display_name(admin, "zh-hans") == "张伟"
