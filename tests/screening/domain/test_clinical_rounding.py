"""MELD and MELD 3.0 in floats, Decimal near a rounding boundary: always Decimal's."""

import random
from decimal import Decimal

import pytest

from screening.domain import clinical
from screening.domain.clinical import _half_up_if_clear, meld, meld_3

D = Decimal


def _exact_meld(bilirubin, inr, creatinine, dialysis):
    bilirubin, inr = max(bilirubin, D(1)), max(inr, D(1))
    creatinine = D(4) if dialysis else min(max(creatinine, D(1)), D(4))
    return min(clinical._meld_exact(creatinine, bilirubin, inr), 40)


def _exact_meld_3(female, bilirubin, inr, creatinine, dialysis, sodium, albumin):
    bilirubin, inr = max(bilirubin, D(1)), max(inr, D(1))
    creatinine = D(3) if dialysis else min(max(creatinine, D(1)), D(3))
    sodium = min(max(sodium, D(125)), D(137))
    albumin = min(max(albumin, D("1.5")), D("3.5"))
    score = clinical._meld_3_exact(female, bilirubin, inr, creatinine, sodium, albumin)
    return min(score, 40)


def _labs(rng):
    # As laboratories report them: one to three decimals.
    return (
        D(rng.randint(1, 6000)) / 100,  # bilirubin mg/dL
        D(rng.randint(80, 1000)) / 100,  # INR
        D(rng.randint(20, 1500)) / 100,  # creatinine mg/dL
        rng.random() < 0.1,
        D(rng.randint(1100, 1600)) / 10,  # sodium
        D(rng.randint(10, 60)) / 10,  # albumin g/dL
    )


def test_scores_are_the_decimal_ones_on_many_lab_values():
    rng = random.Random(15)
    for _ in range(20_000):
        bili, inr, creat, dialysis, sodium, albumin = _labs(rng)
        female = rng.random() < 0.5
        assert meld(
            bilirubin_mg_dl=bili,
            inr=inr,
            creatinine_mg_dl=creat,
            dialysis_twice_past_week=dialysis,
        ) == _exact_meld(bili, inr, creat, dialysis)
        assert meld_3(
            female=female,
            bilirubin_mg_dl=bili,
            inr=inr,
            creatinine_mg_dl=creat,
            dialysis_twice_past_week=dialysis,
            sodium_mmol_l=sodium,
            albumin_g_dl=albumin,
        ) == _exact_meld_3(female, bili, inr, creat, dialysis, sodium, albumin)


def test_a_score_at_a_rounding_boundary_is_computed_in_decimal():
    # The INR that puts 10 x MELD's bracket at 12.5 (bilirubin and creatinine
    # 1: 10 x (1.120 ln INR + 0.643) = 12.5), to 28 digits.
    with clinical.localcontext(clinical._CONTEXT):
        inr = ((D("1.25") - D("0.643")) / D("1.120")).exp()
    assert _half_up_if_clear(10 * (1.120 * float(inr.ln()) + 0.643)) is None
    assert meld(
        bilirubin_mg_dl=D(1),
        inr=inr,
        creatinine_mg_dl=D(1),
        dialysis_twice_past_week=False,
    ) == _exact_meld(D(1), inr, D(1), False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12.4, 12),
        (12.6, 13),
        (12.5, None),
        (12.5 + 1e-12, None),
        (12.5 - 1e-12, None),
        (12.5 + 1e-6, 13),
        (-2.4, -2),
        (float("inf"), None),
        (float("nan"), None),
    ],
)
def test_half_up_if_clear(value, expected):
    assert _half_up_if_clear(value) == expected
