"""The attested and categorical criteria, each decided on its own on every side.

The numeric criteria have their boundary tests (test_candidate.py, test_engine.py,
test_clinical.py); the answers a clinician gives (I2, I7, I8, E1, E2, E3, E5, E6)
are checked here one input at a time: the answer that meets the criterion, the
one that does not, and no answer, with the decision each gives. No database: the
candidate goes through the parser, the derived facts and the engine with the
protocol's criteria from trials/trial_data.py.
"""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from screening.domain.contract import parse_candidate
from screening.domain.engine import Decision, Outcome, evaluate
from screening.domain.facts import derive
from tests.factories import eligible_candidate
from tests.screening.domain.protocol import PROTOCOL

MET, NOT_MET, UNKNOWN = Outcome.MET, Outcome.NOT_MET, Outcome.UNKNOWN
SITE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 6, 1)

INCLUSION_ANSWERS = {
    "I7": "able_to_communicate_and_complete",
    "I8": "written_informed_consent",
}
EXCLUSION_ANSWERS = {
    "E1": ("severe_active_bleeding", "dic"),
    "E2": ("allergy_blood_products_or_study_drugs",),
    "E3": ("circulatory_failure",),
    "E5": ("severe_comorbidity", "diabetes"),
    "E6": ("investigator_excludes",),
}


def assess(data):
    parsed = parse_candidate(data, today=TODAY, tz=SITE)
    return evaluate(PROTOCOL, derive(parsed, tz=SITE).facts)


def outcome_of(evaluation, code):
    (result,) = [r for r in evaluation.criteria if r.code == code]
    return result.outcome


def cases():
    for code, item in INCLUSION_ANSWERS.items():
        yield pytest.param(code, {item: True}, MET, Decision.ELIGIBLE, id=f"{code}-yes")
        no = Decision.INELIGIBLE
        yield pytest.param(code, {item: False}, NOT_MET, no, id=f"{code}-no")
        blank = Decision.INCOMPLETE
        yield pytest.param(code, {item: None}, UNKNOWN, blank, id=f"{code}-blank")
    for code, items in EXCLUSION_ANSWERS.items():
        for item in items:
            yes, no = f"{code}-{item}-yes", f"{code}-{item}-no"
            blank = f"{code}-{item}-blank"
            yield pytest.param(code, {item: True}, MET, Decision.INELIGIBLE, id=yes)
            yield pytest.param(code, {item: False}, NOT_MET, Decision.ELIGIBLE, id=no)
            blank_decision = Decision.INCOMPLETE
            yield pytest.param(code, {item: None}, UNKNOWN, blank_decision, id=blank)
    # I2: the early and intermediate stages are in, late and "not liver failure" out.
    for stage, outcome, decision in [
        ("early", MET, Decision.ELIGIBLE),
        ("intermediate", MET, Decision.ELIGIBLE),
        ("late", NOT_MET, Decision.INELIGIBLE),
        ("none", NOT_MET, Decision.INELIGIBLE),
        (None, UNKNOWN, Decision.INCOMPLETE),
    ]:
        answer = {"liver_failure_stage": stage}
        yield pytest.param("I2", answer, outcome, decision, id=f"I2-{stage}")


@pytest.mark.criterion(from_param="code")
@pytest.mark.parametrize(("code", "answer", "outcome", "decision"), list(cases()))
def test_each_answer_decides_its_criterion_alone(code, answer, outcome, decision):
    evaluation = assess(eligible_candidate(**answer))
    assert outcome_of(evaluation, code) is outcome
    assert evaluation.decision is decision
    blocks = decision is Decision.INELIGIBLE
    assert evaluation.blocking == ((code,) if blocks else ())
    assert evaluation.unknown == ((code,) if outcome is UNKNOWN else ())
    # No other criterion moved.
    for other in PROTOCOL:
        if other.code != code:
            expected = MET if other.kind.value == "INCLUSION" else NOT_MET
            assert outcome_of(evaluation, other.code) is expected, other.code


@pytest.mark.criterion(from_param="code")
@pytest.mark.parametrize(
    "code", [c for c, items in EXCLUSION_ANSWERS.items() if items[1:]]
)
def test_an_exclusion_of_two_answers_is_met_by_either_with_the_other_blank(code):
    items = EXCLUSION_ANSWERS[code]
    for item in items:
        others = {other: None for other in items if other != item}
        evaluation = assess(eligible_candidate(**{item: True}, **others))
        assert outcome_of(evaluation, code) is MET, item
        assert evaluation.blocking == (code,)
        assert evaluation.decision is Decision.INELIGIBLE
