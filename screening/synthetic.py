"""Realistic, varied synthetic candidates for demos, benchmarks and tests.

Pure Python: each candidate is a dict in the input contract. A fixed seed gives the
same candidates every time. Roughly: a third eligible, a third ineligible for one
or more reasons, a third with something missing.
"""

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from screening.domain.variables import CHECKLIST_ITEMS

SITE_OFFSET = timezone(timedelta(hours=8))
_EXCLUSIONS = (
    "severe_active_bleeding",
    "dic",
    "allergy_blood_products_or_study_drugs",
    "circulatory_failure",
    "severe_comorbidity",
    "diabetes",
    "investigator_excludes",
)
_LETTERS = "ABCDEFGHJKLMNPQRSTWXYZ"


def _dec(rng: random.Random, low: float, high: float, places: int = 1) -> str:
    return str(round(Decimal(str(rng.uniform(low, high))), places))


# Numbers in the protocol's format (two-digit site, three or four digits): the
# four-digit ones of sites 01-99 first, then the three-digit ones.
_FOUR_DIGIT = 99 * 10_000
LAST_INDEX = _FOUR_DIGIT + 99 * 1_000 - 1


def screening_number(index: int) -> str:
    """The ``index``-th synthetic screening number (0 to ``LAST_INDEX``)."""
    if not 0 <= index <= LAST_INDEX:
        raise ValueError(f"no synthetic screening number for index {index}")
    if index < _FOUR_DIGIT:
        return f"{1 + index // 10_000:02d}-{index % 10_000:04d}"
    index -= _FOUR_DIGIT
    return f"{1 + index // 1_000:02d}-{index % 1_000:03d}"


def candidate(rng: random.Random, index: int, screening_date: date) -> dict:
    """One candidate; ``index`` makes the screening number unique."""
    age = rng.choice(
        [rng.randint(18, 65)] * 8 + [rng.randint(15, 17), rng.randint(66, 80)]
    )
    dob = screening_date - timedelta(days=int(age * 365.25) + rng.randint(0, 360))
    tbil_mg = rng.random() < 0.2
    current = Decimal(_dec(rng, 110, 330))
    measured_at = datetime.combine(screening_date, time(8, 0), SITE_OFFSET)
    earlier = current - Decimal(_dec(rng, 5, 60))
    data = {
        "screening_number": screening_number(index),
        "initials": "".join(rng.choice(_LETTERS) for _ in range(rng.choice([2, 3]))),
        "sex": rng.choice(["M", "F"]),
        "date_of_birth": dob.isoformat(),
        "screening_date": screening_date.isoformat(),
        "liver_failure_stage": rng.choice(
            ["early"] * 4 + ["intermediate"] * 4 + ["late", "none"]
        ),
        "tbil": {
            "value": str(round(current / Decimal("17.1"), 2))
            if tbil_mg
            else str(current),
            "unit": "mg/dL" if tbil_mg else "umol/L",
            "time": measured_at.isoformat(),
        },
        "tbil_series": [
            {
                "time": (
                    measured_at - timedelta(hours=rng.choice([12, 24, 36]))
                ).isoformat(),
                "value": str(max(earlier, Decimal(10))),
                "unit": "umol/L",
            }
        ],
        "pta_percent": _dec(rng, 15, 48),
        "inr": _dec(rng, 1.3, 2.8, 2),
        "creatinine": {"value": _dec(rng, 45, 180, 0), "unit": "umol/L"},
        "dialysis_twice_past_week": rng.random() < 0.05,
        "sodium_mmol_l": _dec(rng, 124, 142, 0),
        "albumin": {"value": _dec(rng, 22, 40, 0), "unit": "g/L"},
        "he_grade": rng.choice([0, 0, 1, 1, 2, 2, 3, 4]),
        "il6": {"value": _dec(rng, 2, 90)},
        "tnf_alpha": {"value": _dec(rng, 3, 30)},
        "crp": {"value": _dec(rng, 1, 60), "unit": "mg/L"},
        "pct": {"value": _dec(rng, 0.02, 2, 2), "unit": "ng/mL"},
    }
    for item in CHECKLIST_ITEMS:
        data[item] = item not in _EXCLUSIONS
    if rng.random() < 0.25:
        data[rng.choice(_EXCLUSIONS)] = True
    if rng.random() < 0.3:
        for key in rng.sample(
            [
                "creatinine",
                "il6",
                "tnf_alpha",
                "crp",
                "pct",
                "he_grade",
                "inr",
                "written_informed_consent",
                "diabetes",
                "tbil_series",
            ],
            k=rng.randint(1, 3),
        ):
            data[key] = None
    if data.get("written_informed_consent") is True:
        # A signed consent is dated and names its form (no random draw: the
        # rest of the synthetic stream stays as it was).
        data["consent_date"] = screening_date.isoformat()
        data["consent_form_version"] = "V2.0 2025-03-01"
    return data


def candidates(
    count: int, *, seed: int = 20251124, start: date | None = None, first: int = 1
):
    """``count`` candidates screened on the 365 days before ``start``.

    Never on ``start`` itself: its measurements are taken at 08:00 in the
    site's zone, which is still in the future when ``start`` is today and the
    site's clock has not reached 08:00. Screening numbers run from ``first``
    (01-0001) upwards.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    start = start or date(2026, 11, 1)
    for index in range(first, first + count):
        day = start - timedelta(days=1 + rng.randint(0, 364))
        yield candidate(rng, index, day)
