"""Writes of decisions and signatures: each one transaction, keyword-only and typed."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import reauth
from accounts.reauth import reauthenticate
from accounts.scope import SCREEN, SIGN, scope_for
from screening import audit
from screening.assessment import (
    active_criteria,
    assess,
    computed_values,
    site_zone,
)
from screening.criteria import CriteriaSet
from screening.domain import contract
from screening.ledger.models import SignatureRefusal
from screening.models import (
    CriteriaSnapshot,
    CriterionOutcome,
    EligibilityDecision,
    Signature,
)
from screening.reports import summary
from trials.models import Site, Trial

SIGN_STATEMENTS = {
    Signature.Meaning.CONFIRM: "I confirm the eligibility assessment",
    Signature.Meaning.DISAGREE: "I disagree with the eligibility assessment",
}


_CHAIN_ATTEMPTS = 5


class ScreeningNumberTaken(ValidationError):
    pass


def decision_record(
    *,
    trial: Trial,
    data: dict,
    user: AbstractBaseUser,
    supersedes: EligibilityDecision | None = None,
    supersede_reason: str = "",
    criteria: CriteriaSet | None = None,
    site: Site | None = None,
) -> EligibilityDecision:
    """Evaluate and record one eligibility decision, appended to the trial's chain.

    A first screening of a screening number must be new for the trial; a
    correction or re-screen supersedes the latest record of that number and needs
    a reason. Raises ``CandidateError`` for invalid data and ``ValidationError``
    for a taken number or a bad correction; nothing is saved then. The record
    is made at ``site`` (a correction keeps its original's site), which the
    user's membership must allow; ``PermissionDenied`` otherwise.
    """
    now = timezone.now()
    if trial.status == Trial.Status.CLOSED:
        raise ValidationError(
            _("This trial is closed to recruitment: no new screenings."),
            code="trial_closed",
        )
    if supersedes is not None:
        site = supersedes.site
    elif site is None:
        site = screening_site_for(user=user, trial=trial)
    if site is not None and site.trial_id != trial.pk:
        raise PermissionDenied("site of another trial")
    if not scope_for(user).can(SCREEN, trial.pk, site.pk if site else None):
        raise PermissionDenied("not a member who may screen in this trial or site")
    assessment = assess(
        data=data,
        criteria=criteria or active_criteria(trial=trial),
        today=timezone.localdate(now, site_zone()),
        for_record=True,
        now=now,
    )
    number = assessment.candidate.screening_number
    _check_supersedes(trial, number, supersedes, supersede_reason)
    # Everything that does not need the chain's head is built before its lock.
    decision, outcomes = _unlinked(
        trial=trial,
        data=data,
        user=user,
        assessment=assessment,
        supersedes=supersedes,
        supersede_reason=supersede_reason.strip(),
        now=now,
        site=site,
    )
    content_hash = audit.decision_hasher(decision, outcomes)
    from screening.labs.services import lab_sources_record, lab_values_offered

    offered = lab_values_offered(trial_id=trial.pk, screening_number=number)
    for _attempt in range(_CHAIN_ATTEMPTS):
        try:
            with transaction.atomic():
                recorded = _append(
                    decision=decision, outcomes=outcomes, content_hash=content_hash
                )
                # Where each lab value came from (the lab inbox, or typed),
                # hashed with the decision's hash, in the same transaction.
                lab_sources_record(decision=recorded, offered=offered)
                return recorded
        except IntegrityError:
            # The unique constraints decide: the number was taken (before or by a
            # concurrent submission), the correction was made, or the chain moved
            # on; the first two are the user's to resolve.
            decision.pk = None
            for outcome in outcomes:
                outcome.pk = None
            if supersedes is None and _number_taken(trial, number):
                raise ScreeningNumberTaken(
                    _(
                        "Screening number %(number)s is already recorded; "
                        "open its record to correct or re-screen it."
                    ),
                    code="screening_number_taken",
                    params={"number": number},
                ) from None
            if supersedes is not None and _already_superseded(supersedes):
                raise ValidationError(
                    _("This record has already been superseded."),
                    code="already_superseded",
                ) from None
    raise ValidationError(
        _("The audit chain is busy; please submit again."), code="chain_busy"
    )


def screening_sites(*, user: AbstractBaseUser, trial: Trial) -> list[Site]:
    """The sites of the trial where the user may record a screening."""
    sites = scope_for(user).sites(SCREEN, trial.pk)
    if user.is_superuser or None in sites:
        return list(trial.sites.order_by("code"))
    return list(trial.sites.filter(pk__in=sites).order_by("code"))


def screening_site_for(*, user: AbstractBaseUser, trial: Trial) -> Site | None:
    """The one site a new screening by this user is recorded at.

    ``ValidationError`` when the user may screen at several: they must choose.
    """
    sites = screening_sites(user=user, trial=trial)
    if len(sites) > 1:
        raise ValidationError(
            {"site": ValidationError(_("Choose the site."), code="site_required")}
        )
    return sites[0] if sites else None


def _number_taken(trial: Trial, number: str | None) -> bool:
    # Services check across the trial, whoever asks: numbers are per trial.
    return (
        EligibilityDecision.objects.system()
        .filter(trial=trial, screening_number=number, supersedes__isnull=True)
        .exists()
    )


def _already_superseded(decision: EligibilityDecision) -> bool:
    return EligibilityDecision.objects.system().filter(supersedes=decision).exists()


def _check_supersedes(trial, number, supersedes, reason) -> None:
    if number is None:
        raise ValidationError(
            {
                "screening_number": ValidationError(
                    _("The screening number is required."), code="required"
                )
            }
        )
    if supersedes is None:
        # A number already recorded is refused by the unique constraint at insert.
        return
    if supersedes.trial_id != trial.pk or supersedes.screening_number != number:
        raise ValidationError(
            _("A correction keeps the trial and the screening number."),
            code="correction_mismatch",
        )
    if not reason.strip():
        raise ValidationError(
            {
                "supersede_reason": ValidationError(
                    _("Give the reason for the correction."), code="required"
                )
            }
        )
    if _already_superseded(supersedes):
        raise ValidationError(
            _("This record has already been superseded; correct the latest one."),
            code="already_superseded",
        )


def stored_snapshot(*, trial: Trial, criteria: CriteriaSet) -> CriteriaSnapshot:
    """The stored row of the criteria a decision is evaluated against.

    Found by the SHA-256 of the criteria's canonical JSON, stored the first time
    (outside the decision's transaction, so that a refused submission does not
    take it back; an unused row is harmless). The row returned holds the
    content in hand: its JSON equals the stored one, byte for byte, by digest.
    """
    digest = hashlib.sha256(audit.canonical_json(criteria.snapshot)).hexdigest()
    rows = CriteriaSnapshot.objects.filter(trial_id=trial.pk, digest=digest)
    found = rows.values_list("pk", "stored_at").first()
    if found is None:
        with transaction.atomic():
            # A concurrent first submission may store it at the same time.
            CriteriaSnapshot.objects.bulk_create(
                [
                    CriteriaSnapshot(
                        trial=trial,
                        digest=digest,
                        content=criteria.snapshot,
                        stored_at=timezone.now(),
                    )
                ],
                ignore_conflicts=True,
            )
        found = rows.values_list("pk", "stored_at").get()
    snapshot = CriteriaSnapshot(
        pk=found[0],
        trial=trial,
        digest=digest,
        content=criteria.snapshot,
        stored_at=found[1],
    )
    snapshot._state.adding = False
    snapshot._state.db = rows.db
    return snapshot


def _unlinked(
    *,
    trial,
    data,
    user,
    assessment,
    supersedes,
    supersede_reason,
    now,
    site,
    snapshot: CriteriaSnapshot | None = None,
):
    """The decision and its outcome rows, complete but for their chain position.

    ``snapshot``: the criteria's stored row (``stored_snapshot``), when the
    caller has it already.
    """
    c, derived, evaluation = (
        assessment.candidate,
        assessment.derived,
        assessment.evaluation,
    )
    decision = EligibilityDecision(
        trial=trial,
        site=site,
        sequence=1,
        screening_number=c.screening_number,
        initials=c.initials or "",
        sex=c.sex or "",
        date_of_birth=c.date_of_birth,
        screening_date=c.screening_date,
        age_years=derived.age_years,
        meld=derived.meld,
        outcome=evaluation.decision.value,
        blocking_codes=list(evaluation.blocking),
        unknown_codes=list(evaluation.unknown),
        to_collect=list(evaluation.to_collect),
        entered=data,
        normalised=contract.normalised(c),
        computed=computed_values(derived),
        criteria_snapshot=None,
        snapshot=snapshot or stored_snapshot(trial=trial, criteria=assessment.criteria),
        criteria_version=assessment.criteria.version,
        supersedes=supersedes,
        supersede_reason=supersede_reason,
        recorded_by=user,
        recorded_at=now,
        app_version=settings.APP_VERSION,
        previous_hash=audit.GENESIS_HASH,
        content_hash="0" * 64,
    )
    outcomes = [
        CriterionOutcome(
            criterion=assessment.criteria.rows[result.code],
            criterion_history_id=assessment.criteria.history_ids[
                assessment.criteria.rows[result.code].pk
            ],
            position=position,
            code=result.code,
            kind=result.kind.value,
            outcome=result.outcome.value,
            blocking=result.blocking,
            reason=result.reason,
            details=[c.as_dict() for c in result.conditions],
            missing=list(result.missing),
        )
        for position, result in enumerate(evaluation.criteria, start=1)
    ]
    decision.full_clean(
        # The objects behind these keys are in hand (the site was checked against
        # the user's memberships): no SELECT to prove they exist.
        exclude=[
            "trial",
            "site",
            "snapshot",
            "criteria_version",
            "supersedes",
            "recorded_by",
        ],
        validate_unique=False,
        validate_constraints=False,
    )
    return decision, outcomes


def _append(*, decision, outcomes, content_hash):
    """Link ``decision`` to the end of its trial's chain and insert it.

    Only this runs under the trial's lock: read the head, hash (the content was
    serialised before, ``audit.decision_hasher``), insert.
    """
    # Lock the trial row: one writer at a time extends a trial's chain (PostgreSQL);
    # the unique (trial, sequence) constraint guards every database.
    Trial.objects.select_for_update().filter(pk=decision.trial_id).values("pk").first()
    last = (
        EligibilityDecision.objects.system()
        .filter(trial_id=decision.trial_id)
        .order_by("-sequence")
        .values("sequence", "content_hash")
        .first()
    )
    decision.sequence = (last["sequence"] + 1) if last else 1
    decision.previous_hash = last["content_hash"] if last else audit.GENESIS_HASH
    decision.content_hash = content_hash(decision.sequence, decision.previous_hash)
    decision.save(force_insert=True)
    for outcome in outcomes:
        outcome.decision = decision
    CriterionOutcome.objects.bulk_create(outcomes)
    # The funnel's summary moves with the record, in its transaction.
    summary.funnel_recorded(decision=decision, outcomes=outcomes)
    return decision


def signature_refusal(
    *, decision: EligibilityDecision, signer: AbstractBaseUser, attempt: bool = True
):
    """Raise ValidationError when ``signer`` may not sign ``decision``.

    An attempt to sign one's own record is recorded (``SignatureRefusal``);
    ``attempt=False`` only checks (opening the sign page is not an attempt, and
    a GET must not write to the audit trail).

    ``PermissionDenied`` when the signer's membership does not allow signing
    in the decision's trial and site.
    """
    if not scope_for(signer).can(SIGN, decision.trial_id, decision.site_id):
        raise PermissionDenied("not an investigator of this trial or site")
    if decision.recorded_by_id == signer.pk:
        if attempt:
            # Refused self-signings are part of the audit trail a monitor reviews.
            with transaction.atomic():
                SignatureRefusal.objects.create(
                    trial_id=decision.trial_id,
                    decision=decision,
                    user=signer,
                    refused_at=timezone.now(),
                )
        raise ValidationError(
            _("You recorded this screening: another investigator must sign it."),
            code="own_record",
        )
    if _already_superseded(decision):
        raise ValidationError(
            _("This record was superseded; sign the latest record instead."),
            code="superseded",
        )


def signature_record(
    *,
    decision: EligibilityDecision,
    signer: AbstractBaseUser,
    password: str,
    meaning: str,
    reason: str = "",
    override_outcome: str = "",
    request: HttpRequest | None = None,
) -> Signature:
    """Sign a decision after re-authentication; one signature per decision.

    The password goes through ``accounts.reauth.reauthenticate``, as a login
    does: a wrong one is a failed login (access event, django-axes lockout),
    never a private answer. Nobody signs a record they recorded, nor
    one that was superseded.
    """
    signature_refusal(decision=decision, signer=signer)
    reauthenticate(
        request,
        signer,
        password,
        trial_slug=decision.trial.slug,
        purpose=reauth.SIGNATURE,
    )
    full_name = signer.get_full_name().strip()
    if not full_name:
        raise ValidationError(
            _("Your account has no full name; an administrator must add it first."),
            code="no_full_name",
        )
    if meaning == Signature.Meaning.CONFIRM:
        reason, override_outcome = reason.strip(), ""
    elif not reason.strip():
        raise ValidationError(
            {
                "reason": ValidationError(
                    _("Give the reason for disagreeing."), code="required"
                )
            }
        )
    signature = Signature(
        decision=decision,
        signer=signer,
        signer_full_name=full_name,
        signed_at=timezone.now(),
        meaning=meaning,
        statement=SIGN_STATEMENTS[meaning],
        reason=reason.strip(),
        override_outcome=override_outcome,
        decision_hash=decision.content_hash,
    )
    signature.content_hash = audit.sha256(audit.signature_content(signature))
    signature.full_clean(exclude=["content_hash", "decision"])
    try:
        with transaction.atomic():
            summary.funnel_signed(signature=signature)
            signature.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(
            _("This decision is already signed."), code="already_signed"
        ) from None
    return signature
