"""Screening form POSTs as a browser sends them, for the load and the profile."""

import random

SCREEN = "/trials/nct06904755/screen/"


def valid_post(number: str, rng: random.Random) -> dict:
    """The screening form as a browser posts it; values vary the outcome."""
    data = {
        "screening_number": number,
        "initials": "".join(rng.choice("ABCDEFGHJKLMNPQRSTWXYZ") for _ in range(2)),
        "sex": rng.choice(["M", "F"]),
        "date_of_birth": f"{rng.randint(1950, 2005)}-05-17",
        "screening_date": "2026-06-01",
        "tbil_value": str(rng.randint(120, 320)),
        "tbil_unit": "umol/L",
        "tbil_time": "2026-06-01T08:00",
        "series-TOTAL_FORMS": "2",
        "series-INITIAL_FORMS": "0",
        "series-MIN_NUM_FORMS": "0",
        "series-MAX_NUM_FORMS": "20",
        "series-0-time": "2026-05-31T08:00",
        "series-0-value": str(rng.randint(90, 160)),
        "series-0-unit": "umol/L",
        "series-1-time": "",
        "series-1-value": "",
        "series-1-unit": "umol/L",
        "pta_percent": str(rng.randint(15, 48)),
        "inr": f"{rng.uniform(1.3, 2.8):.2f}",
        "creatinine_value": str(rng.randint(45, 180)),
        "creatinine_unit": "umol/L",
        "dialysis_twice_past_week": "no",
        "sodium_mmol_l": str(rng.randint(124, 142)),
        "albumin_value": str(rng.randint(22, 40)),
        "albumin_unit": "g/L",
        "he_grade": str(rng.choice([0, 1, 2, 3])),
        "il6_value": str(rng.randint(2, 90)),
        "crp_value": str(rng.randint(1, 60)),
        "crp_unit": "mg/L",
        "liver_failure_stage": rng.choice(["early", "intermediate", "late"]),
        "able_to_communicate_and_complete": "yes",
        "written_informed_consent": "yes",
    }
    for item in (
        "severe_active_bleeding",
        "dic",
        "allergy_blood_products_or_study_drugs",
        "circulatory_failure",
        "severe_comorbidity",
        "diabetes",
        "investigator_excludes",
    ):
        data[item] = "yes" if rng.random() < 0.05 else "no"
    return data
