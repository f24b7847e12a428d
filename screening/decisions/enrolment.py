"""Enrolment of an eligible, signed candidate: one append-only record per candidate.

Only the current record of a candidate (nothing supersedes it) whose decision
that counts is ELIGIBLE (the investigator's where they disagreed and gave their
own, else the engine's) and which an investigator signed can be enrolled, by a
coordinator or investigator of its trial and site. The enrolment date is not
before the screening or the consent, nor in the future; the randomisation (or
subject) number is unique in the trial.
"""

import re
from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scope import SCREEN, scope_for
from screening.assessment import site_zone
from screening.domain.contract import fold_fullwidth, parse_date
from screening.models import EligibilityDecision, Enrolment, Signature
from trials.models import Trial

RANDOMISATION_NUMBER_MAX = 32
# Letters and digits, with the separators sponsors print ("R-0012", "01/003").
RANDOMISATION_NUMBER_RE = re.compile(
    r"^[0-9A-Za-z](?:[0-9A-Za-z._/-]{0,30}[0-9A-Za-z])?$"
)


def effective_outcome(decision: EligibilityDecision) -> str:
    """The decision that counts: the investigator's own where they disagreed."""
    signature = getattr(decision, "signature", None)
    if signature is not None and signature.override_outcome:
        return signature.override_outcome
    return decision.outcome


def _signature(decision: EligibilityDecision) -> Signature | None:
    try:
        return Signature.objects.get(decision_id=decision.pk)
    except Signature.DoesNotExist:
        return None


def enrolment_refusal(*, decision: EligibilityDecision, user: AbstractBaseUser):
    """Raise when ``decision`` cannot be enrolled by ``user`` (nothing is saved).

    ``PermissionDenied`` for a user who is not a coordinator or investigator of
    the decision's trial and site; ``ValidationError`` (with a code) for a
    record that is superseded, unsigned, not eligible, without a recorded
    consent, or whose candidate is already enrolled.
    """
    if not scope_for(user).can(SCREEN, decision.trial_id, decision.site_id):
        raise PermissionDenied("not a coordinator or investigator of this trial")
    if decision.trial.status == Trial.Status.CLOSED:
        raise ValidationError(
            _("This trial is closed to recruitment: no new enrolments."),
            code="trial_closed",
        )
    if EligibilityDecision.objects.system().filter(supersedes=decision).exists():
        raise ValidationError(
            _("This record was superseded: enrol from the latest record."),
            code="superseded",
        )
    if (
        Enrolment.objects.system()
        .filter(trial_id=decision.trial_id, screening_number=decision.screening_number)
        .exists()
    ):
        raise ValidationError(
            _("This candidate is already enrolled."), code="already_enrolled"
        )
    signature = _signature(decision)
    if signature is None:
        raise ValidationError(
            _("An investigator must sign this record before enrolment."),
            code="not_signed",
        )
    decision.signature = signature
    if effective_outcome(decision) != EligibilityDecision.Result.ELIGIBLE:
        raise ValidationError(
            _("Only an eligible candidate can be enrolled."), code="not_eligible"
        )
    normalised = decision.normalised if isinstance(decision.normalised, dict) else {}
    if not (
        normalised.get("written_informed_consent") is True
        and normalised.get("consent_date")
        and normalised.get("consent_form_version")
    ):
        # A record from before consent dates were recorded, or an investigator's
        # "eligible" over a consent not yet signed: correct the record first.
        raise ValidationError(
            _(
                "This record has no signed consent with its date and form "
                "version: correct the record first."
            ),
            code="no_consent",
        )


def _enrolled_on(value, decision: EligibilityDecision, today: date) -> date:
    if isinstance(value, str):
        try:
            value = parse_date(value)
        except ValueError:
            raise _field(
                "enrolled_on", _("Give the date as YYYY-MM-DD."), "date_invalid"
            ) from None
    if not isinstance(value, date):
        raise _field("enrolled_on", _("The enrolment date is required."), "required")
    if value > today:
        raise _field("enrolled_on", _("The enrolment date is in the future."), "future")
    consent = (decision.normalised or {}).get("consent_date")
    earliest = max(
        [decision.screening_date, *([parse_date(consent)] if consent else [])]
    )
    if value < earliest:
        raise _field(
            "enrolled_on",
            _("The enrolment date is before the screening or the consent."),
            "before_screening",
        )
    return value


def _randomisation_number(value) -> str:
    text = fold_fullwidth(value if isinstance(value, str) else "").strip()
    if not text:
        raise _field(
            "randomisation_number",
            _("The randomisation or subject number is required."),
            "required",
        )
    if len(text) > RANDOMISATION_NUMBER_MAX or not RANDOMISATION_NUMBER_RE.match(text):
        raise _field(
            "randomisation_number",
            _("Use letters, digits and - / . _ (at most %(max)s characters).")
            % {"max": RANDOMISATION_NUMBER_MAX},
            "format",
        )
    return text


def _field(name: str, message, code: str) -> ValidationError:
    return ValidationError({name: ValidationError(message, code=code)})


def _number_taken(trial_id: int, number: str) -> bool:
    return (
        Enrolment.objects.system()
        .filter(trial_id=trial_id, randomisation_number__iexact=number)
        .exists()
    )


def enrolment_record(
    *,
    decision: EligibilityDecision,
    user: AbstractBaseUser,
    enrolled_on: date | str,
    randomisation_number: str,
) -> Enrolment:
    """Enrol the candidate of ``decision``; one transaction, append-only.

    Raises ``PermissionDenied`` or ``ValidationError`` as ``enrolment_refusal``
    does, and ``ValidationError`` naming the field for a bad or taken
    randomisation number or enrolment date; nothing is saved then.
    """
    enrolment_refusal(decision=decision, user=user)
    now = timezone.now()
    day = _enrolled_on(enrolled_on, decision, timezone.localdate(now, site_zone()))
    number = _randomisation_number(randomisation_number)
    taken = _field(
        "randomisation_number",
        _("Randomisation number %(number)s is already given in this trial.")
        % {"number": number},
        "taken",
    )
    # Case does not make another number: "r-001" is "R-001".
    if _number_taken(decision.trial_id, number):
        raise taken
    enrolment = Enrolment(
        decision=decision,
        trial_id=decision.trial_id,
        site_id=decision.site_id,
        screening_number=decision.screening_number,
        enrolled_on=day,
        randomisation_number=number,
        recorded_by=user,
        recorded_at=now,
    )
    try:
        with transaction.atomic():
            enrolment.save(force_insert=True)
    except IntegrityError:
        # A concurrent enrolment took the number, or enrolled the candidate.
        if _number_taken(decision.trial_id, number):
            raise taken from None
        raise ValidationError(
            _("This candidate is already enrolled."), code="already_enrolled"
        ) from None
    return enrolment


def can_enrol(*, decision, signature, superseded_by, enrolment, scope) -> bool:
    """Whether the record page offers the enrolment form (the service decides)."""
    return (
        enrolment is None
        and superseded_by is None
        and signature is not None
        and (signature.override_outcome or decision.outcome)
        == EligibilityDecision.Result.ELIGIBLE
        and scope.can(SCREEN, decision.trial_id, decision.site_id)
    )


class EnrolmentForm(forms.Form):
    """The record page's enrolment form; ``enrolment_record`` judges the values."""

    enrolled_on = forms.CharField(
        label=_("Enrolment date"),
        max_length=64,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    randomisation_number = forms.CharField(
        label=_("Randomisation or subject number"),
        max_length=64,
        help_text=_("Unique in the trial, as the randomisation list gives it."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("enrolled_on", css_class="col-md"),
                Column("randomisation_number", css_class="col-md"),
            ),
            Submit("submit", _("Enrol")),
        )

    def add_refusal(self, error: ValidationError) -> None:
        """A service's refusal next to its field, or above the form."""
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, error)
