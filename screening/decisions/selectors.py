"""Reads of decisions that the record pages need, related rows fetched up front."""

from django.db.models import Prefetch

from screening.models import CriterionOutcome, EligibilityDecision
from trials.models import Trial


def decision_detail(*, pk: int) -> EligibilityDecision:
    return (
        EligibilityDecision.objects.select_related(
            "trial", "recorded_by", "supersedes", "signature", "signature__signer"
        )
        .prefetch_related(
            Prefetch(
                "outcomes",
                queryset=CriterionOutcome.objects.select_related("criterion").order_by(
                    "position"
                ),
            )
        )
        .get(pk=pk)
    )


def decision_superseded_by(*, decision: EligibilityDecision):
    return (
        EligibilityDecision.objects.filter(supersedes=decision)
        .only("pk", "screening_number", "sequence", "recorded_at")
        .first()
    )


def candidate_chain(
    *, trial: Trial, screening_number: str
) -> list[EligibilityDecision]:
    """Every screening of a number in the trial, oldest first."""
    return list(
        EligibilityDecision.objects.filter(
            trial=trial, screening_number=screening_number
        )
        .select_related("recorded_by", "signature")
        .defer("entered", "normalised", "criteria_snapshot")
        .order_by("recorded_at", "id")
    )


def latest_in_chain(*, decision: EligibilityDecision) -> EligibilityDecision:
    """The record that nothing supersedes in this decision's chain.

    A chain is linear (one first screening per number, each record superseded
    at most once), so that is the number's only unsuperseded record.
    """
    return EligibilityDecision.objects.only("pk").get(
        trial_id=decision.trial_id,
        screening_number=decision.screening_number,
        superseded_by__isnull=True,
    )
