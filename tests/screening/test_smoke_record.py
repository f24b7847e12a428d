from screening.models import EligibilityDecision


def test_eligible_candidate_is_recorded_eligible(record):
    decision = record()
    assert decision.outcome == EligibilityDecision.Result.ELIGIBLE
    assert decision.outcomes.count() == 14
    assert decision.meld is not None
