"""Factories and canonical candidates for the tests."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.services import roles_sync

TEST_PASSWORD = "correct horse battery staple 42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            if not Group.objects.filter(name=extracted).exists():
                # A transactional test's cleanup empties the roles the
                # migration created.
                roles_sync()
            self.groups.add(Group.objects.get(name=extracted))
            member_of_every_trial(self, extracted)
        if create:
            self.save()


def member_of_every_trial(user, role: str) -> None:
    """The role held in every trial that exists, for all its sites."""
    from accounts.models import Membership
    from trials.models import Trial

    for trial in Trial.objects.all():
        Membership.objects.get_or_create(user=user, trial=trial, site=None, role=role)


def eligible_candidate(**overrides) -> dict:
    """A candidate in the input contract who meets every criterion of NCT06904755."""
    data = {
        "screening_number": "01-001",
        "initials": "ZW",
        "sex": "M",
        "date_of_birth": "1980-05-17",
        "screening_date": "2026-06-01",
        "liver_failure_stage": "early",
        "tbil": {"value": "180", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"},
        "tbil_series": [
            {"time": "2026-05-31T08:00+08:00", "value": "158.6", "unit": "umol/L"}
        ],
        "pta_percent": "35",
        "inr": "1.8",
        "creatinine": {"value": "90", "unit": "umol/L"},
        "dialysis_twice_past_week": False,
        "sodium_mmol_l": "136",
        "albumin": {"value": "32", "unit": "g/L"},
        "he_grade": 1,
        "il6": {"value": "25", "unit": "pg/mL"},
        "tnf_alpha": {"value": "12", "unit": "pg/mL"},
        "crp": {"value": "18", "unit": "mg/L"},
        "pct": {"value": "0.3", "unit": "ng/mL"},
        "able_to_communicate_and_complete": True,
        "written_informed_consent": True,
        "consent_form_version": "V2.0 2025-03-01",
        "severe_active_bleeding": False,
        "dic": False,
        "allergy_blood_products_or_study_drugs": False,
        "circulatory_failure": False,
        "severe_comorbidity": False,
        "diabetes": False,
        "investigator_excludes": False,
    }
    data.update(overrides)
    # Signed on the screening day (whatever day a test screens on), unless the
    # test gives its own consent date.
    data.setdefault("consent_date", data.get("screening_date") or "2026-06-01")
    return data


def screening_form_post(number: str) -> dict:
    """A valid screening form POST for an eligible candidate, as a browser sends it."""
    from screening.decisions.forms import post_data_from_contract

    return post_data_from_contract(eligible_candidate(screening_number=number))


def amend(trial, change, *, label="Test amendment"):
    """Put an amended criteria version in force, as a trial admin signs it.

    ``change(draft)`` edits the draft (a copy of the active version); the
    impact dry-run is run and the activation signed with the test password.
    Returns the new active version.
    """
    from accounts import roles
    from screening.versions.services import impact_report_record, version_activate
    from trials.services import version_draft_create

    signer = UserFactory(
        username="amending-admin",
        first_name="Amending",
        last_name="Admin",
        role=roles.TRIAL_ADMIN,
    )
    member_of_every_trial(signer, roles.TRIAL_ADMIN)
    draft = version_draft_create(trial=trial, user=signer, label=label)
    change(draft)
    report = impact_report_record(version=draft, user=signer)
    version_activate(version=draft, user=signer, password=TEST_PASSWORD, report=report)
    draft.refresh_from_db()
    return draft
