"""The screening form's POST body for a candidate in the input contract."""

from screening.domain.variables import CHECKLIST_ITEMS

SCREEN_URL = "/trials/nct06904755/screen/"


def _answer(value) -> str:
    return {True: "yes", False: "no"}.get(value, "")


def _local(moment: str) -> str:
    """'2026-06-01T08:00+08:00' -> '2026-06-01T08:00' (the site's zone, +08:00)."""
    return moment[:16]


def screening_post(candidate: dict, **overrides) -> dict[str, str]:
    """The fields a browser posts for ``candidate``; ``overrides`` replace fields."""
    c = candidate
    data = {
        "screening_number": c["screening_number"],
        "initials": c.get("initials") or "",
        "sex": c.get("sex") or "",
        "date_of_birth": c.get("date_of_birth") or "",
        "screening_date": c["screening_date"],
        "liver_failure_stage": c.get("liver_failure_stage") or "",
        "pta_percent": c.get("pta_percent") or "",
        "inr": c.get("inr") or "",
        "sodium_mmol_l": c.get("sodium_mmol_l") or "",
        "he_grade": "" if c.get("he_grade") is None else str(c["he_grade"]),
        "dialysis_twice_past_week": _answer(c.get("dialysis_twice_past_week")),
        "tbil_unit": "umol/L",
        "creatinine_unit": "umol/L",
        "albumin_unit": "g/L",
        "crp_unit": "mg/L",
    }
    for name in ("tbil", "creatinine", "albumin", "il6", "tnf_alpha", "crp", "pct"):
        quantity = c.get(name) or {}
        data[f"{name}_value"] = quantity.get("value", "")
        if quantity.get("unit") and f"{name}_unit" in data:
            data[f"{name}_unit"] = quantity["unit"]
        if "uln" in quantity:
            data[f"{name}_uln"] = quantity["uln"]
    if (c.get("tbil") or {}).get("time"):
        data["tbil_time"] = _local(c["tbil"]["time"])
    series = c.get("tbil_series") or []
    data.update(
        {
            "series-TOTAL_FORMS": str(max(len(series), 1)),
            "series-INITIAL_FORMS": "0",
            "series-MIN_NUM_FORMS": "0",
            "series-MAX_NUM_FORMS": "20",
        }
    )
    for index, item in enumerate(series):
        data[f"series-{index}-time"] = _local(item["time"])
        data[f"series-{index}-value"] = item["value"]
        data[f"series-{index}-unit"] = item["unit"]
    for item in CHECKLIST_ITEMS:
        data[item] = _answer(c.get(item))
    data.update(overrides)
    return data
