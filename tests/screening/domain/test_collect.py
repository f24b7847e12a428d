"""What an undecided criterion still needs, as it reads (no database)."""

from screening.domain.collect import to_collect

IL6 = {"outcome": "UNKNOWN", "missing": ["il6"], "relation": "pending"}
CRP = {"outcome": "UNKNOWN", "missing": ["crp"], "relation": ""}
TNF = {"outcome": "NOT_MET", "missing": [], "relation": "<="}
PCT = {"outcome": "UNKNOWN", "missing": ["pct"], "supporting": True}
MELD = {"outcome": "UNKNOWN", "missing": ["tbil", "inr", "creatinine"]}


def test_an_inclusion_is_decided_by_any_one_undecided_condition():
    needed = to_collect("I6", "INCLUSION", [IL6, TNF, CRP, PCT])
    assert needed.conditions == (("il6",), ("crp",), ("pct",))
    assert (needed.any_one, needed.all_of, needed.pending) == (True, False, ("il6",))


def test_an_exclusion_needs_all_its_conditions_but_not_its_supporting_ones():
    needed = to_collect("E1", "EXCLUSION", [IL6, CRP, PCT])
    assert needed.conditions == (("il6",), ("crp",))
    assert (needed.any_one, needed.all_of) == (False, True)


def test_one_condition_needs_all_its_inputs():
    needed = to_collect("E4", "EXCLUSION", [MELD])
    assert needed.conditions == (("tbil", "inr", "creatinine"),)
    assert (needed.any_one, needed.all_of, needed.pending) == (False, False, ())


def test_nothing_missing_is_nothing_to_collect():
    assert to_collect("I6", "INCLUSION", [TNF]) is None
    assert to_collect("E1", "EXCLUSION", [PCT]) is None


def test_an_input_two_conditions_await_is_asked_for_once_in_order():
    inr = {"outcome": "UNKNOWN", "missing": ["inr", "il6"], "relation": "pending"}
    needed = to_collect("I6", "INCLUSION", [IL6, CRP, inr])
    assert needed.pending == ("il6", "inr")
