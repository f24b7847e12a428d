"""The impact dry-run of a criteria version and its signed activation."""

from collections import Counter
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import reauth
from accounts.reauth import reauthenticate
from accounts.scope import ADMINISTER, scope_for
from screening.assessment import assess, site_zone
from screening.audit import sha256
from screening.criteria import criteria_load
from screening.domain.contract import CandidateError
from screening.models import EligibilityDecision
from trials.models import CriteriaVersion, ImpactReport, Trial, VersionActivation
from trials.services import version_active, version_start

ACTIVATION_STATEMENT = (
    "I approve criteria version %(number)s for screening from %(date)s"
)


def impact_evaluate(*, version: CriteriaVersion) -> dict:
    """Each candidate's latest decision, re-evaluated from its entered values.

    Under ``version`` and as of the moment it was recorded (its age, its
    screening date): only the criteria differ. The report lists every
    candidate whose decision would change, with the criteria whose outcome
    changed and why, and counts per decision under both.
    """
    trial = version.trial
    active = version_active(trial=trial)
    criteria = criteria_load(trial=trial, version=version)
    if not criteria.specs:
        raise ValidationError(
            _("This version has no active criteria."), code="no_criteria"
        )
    latest = (
        EligibilityDecision.objects.system()
        .filter(trial=trial, superseded_by__isnull=True)
        .prefetch_related("outcomes")
        .only("pk", "screening_number", "outcome", "entered", "recorded_at")
        .order_by("screening_number", "pk")
    )
    before, after = Counter(), Counter()
    flips = []
    evaluated = 0
    for decision in latest.iterator(chunk_size=500):
        evaluated += 1
        before[decision.outcome] += 1
        try:
            assessment = assess(
                data=decision.entered,
                criteria=criteria,
                today=timezone.localdate(decision.recorded_at, site_zone()),
                now=decision.recorded_at,
            )
        except CandidateError as exc:
            after["ERROR"] += 1
            flips.append(
                {
                    "screening_number": decision.screening_number,
                    "decision_id": decision.pk,
                    "from": decision.outcome,
                    "to": "ERROR",
                    "criteria": [],
                    "problems": [p.code for p in exc.problems],
                }
            )
            continue
        new = assessment.evaluation.decision.value
        after[new] += 1
        old_outcomes = {o.code: o.outcome for o in decision.outcomes.all()}
        changed = [
            {
                "code": result.code,
                "from": old_outcomes.get(result.code),
                "to": result.outcome.value,
                "reason": result.reason,
                "details": [c.as_dict() for c in result.conditions],
            }
            for result in assessment.evaluation.criteria
            if old_outcomes.get(result.code) != result.outcome.value
        ]
        changed += [
            {"code": code, "from": outcome, "to": None, "reason": "", "details": []}
            for code, outcome in old_outcomes.items()
            if code not in criteria.rows
        ]
        if new != decision.outcome:
            flips.append(
                {
                    "screening_number": decision.screening_number,
                    "decision_id": decision.pk,
                    "from": decision.outcome,
                    "to": new,
                    "criteria": changed,
                }
            )
    return {
        "trial": trial.slug,
        "from_version": active.number if active else None,
        "to_version": version.number,
        "evaluated": evaluated,
        "flips": flips,
        "counts": {
            "from": dict(sorted(before.items())),
            "to": dict(sorted(after.items())),
        },
    }


def impact_report_record(
    *, version: CriteriaVersion, user: AbstractBaseUser | None
) -> ImpactReport:
    """Run the dry-run and store it (append-only), with the hash a signature signs."""
    if version.state != CriteriaVersion.State.DRAFT or hasattr(version, "activation"):
        raise ValidationError(
            _("Only an unsigned draft has an impact to review."), code="not_draft"
        )
    content = impact_evaluate(version=version)
    active = version_active(trial=version.trial)
    return ImpactReport.objects.create(
        version=version,
        from_version=active,
        created_by=user,
        created_at=timezone.now(),
        evaluated=content["evaluated"],
        flip_count=len(content["flips"]),
        content=content,
        sha256=sha256(content),
    )


def impact_report_current(*, version: CriteriaVersion) -> ImpactReport | None:
    """The newest report of the version, if no decision was recorded since."""
    report = version.impact_reports.order_by("-created_at", "-id").first()
    if report is None:
        return None
    newer = (
        EligibilityDecision.objects.system()
        .filter(trial_id=version.trial_id, recorded_at__gt=report.created_at)
        .exists()
    )
    return None if newer else report


def version_activate(
    *,
    version: CriteriaVersion,
    user: AbstractBaseUser,
    password: str,
    report: ImpactReport,
    effective_from: datetime | None = None,
    request: HttpRequest | None = None,
) -> VersionActivation:
    """Sign the version into force, as the investigator's sign-off re-authenticates.

    The password goes through ``accounts.reauth.reauthenticate``: a wrong one
    is a failed login (access event, lockout). The signer must be a trial admin
    of the trial, the report the version's current one; effective now or at a
    later ``effective_from``. The previous active version is retired then.
    """
    trial: Trial = version.trial
    if not scope_for(user).can(ADMINISTER, trial.pk):
        raise PermissionDenied("not a trial admin of this trial")
    if version.state != CriteriaVersion.State.DRAFT or hasattr(version, "activation"):
        raise ValidationError(_("This version is already signed."), code="signed")
    current = impact_report_current(version=version)
    if current is None or current.pk != report.pk:
        raise ValidationError(
            _("Decisions were recorded since this report: run the dry-run again."),
            code="stale_report",
        )
    if not version.criteria.filter(active=True).exists():
        raise ValidationError(
            _("This version has no active criteria."), code="no_criteria"
        )
    reauthenticate(
        request,
        user,
        password,
        trial_slug=trial.slug,
        purpose=reauth.VERSION_ACTIVATION,
    )
    full_name = user.get_full_name().strip()
    if not full_name:
        raise ValidationError(
            _("Your account has no full name; an administrator must add it first."),
            code="no_full_name",
        )
    now = timezone.now()
    start = max(effective_from or now, now)
    local = timezone.localtime(start, site_zone())
    with transaction.atomic():
        Trial.objects.select_for_update().filter(pk=trial.pk).first()
        version.effective_from = start
        version._change_reason = "Signed for activation"
        version.save(update_fields=["effective_from"])
        activation = VersionActivation.objects.create(
            version=version,
            impact_report=report,
            impact_sha256=report.sha256,
            signer=user,
            signer_full_name=full_name,
            signed_at=now,
            effective_from=start,
            statement=ACTIVATION_STATEMENT
            % {"number": version.number, "date": local.strftime("%Y-%m-%d %H:%M %Z")},
            retired_version=report.from_version,
        )
    if start <= now:
        version_start(version=version)
    return activation
