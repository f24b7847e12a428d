"""Reads of decisions that the record pages need, related rows fetched up front.

Each read is scoped: a user's ``Scope`` (accounts/scope.py) limits it to the
trials and sites of their memberships.
"""

from django.db.models import Prefetch

from accounts.scope import VIEW, Scope
from screening.models import CriterionOutcome, EligibilityDecision
from trials.models import Trial


def visible(scope: Scope):
    return EligibilityDecision.objects.visible_to(scope, VIEW)


def decision_detail(*, scope: Scope, pk: int) -> EligibilityDecision:
    return (
        visible(scope)
        .select_related(
            "trial",
            "site",
            "criteria_version",
            "recorded_by__profile",
            "supersedes",
            "signature__signer__profile",
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
    # The record that supersedes a visible one is of the same trial and site.
    return (
        EligibilityDecision.objects.system()
        .filter(supersedes=decision)
        .only("pk", "screening_number", "sequence", "recorded_at")
        .first()
    )


def candidate_chain(
    *, scope: Scope, trial: Trial, screening_number: str
) -> list[EligibilityDecision]:
    """Every screening of a number in the trial that the user may see, oldest first."""
    return list(
        visible(scope)
        .filter(trial=trial, screening_number=screening_number)
        .select_related(
            "recorded_by__profile", "signature__signer__profile", "criteria_version"
        )
        .defer("entered", "normalised", "criteria_snapshot")
        .order_by("recorded_at", "id")
    )


def latest_in_chain(*, decision: EligibilityDecision) -> EligibilityDecision:
    """The record that nothing supersedes in this decision's chain.

    A chain is linear (one first screening per number, each record superseded
    at most once), so that is the number's only unsuperseded record; it is of
    the same trial and site as ``decision``.
    """
    return (
        EligibilityDecision.objects.system()
        .only("pk")
        .get(
            trial_id=decision.trial_id,
            screening_number=decision.screening_number,
            superseded_by__isnull=True,
        )
    )
