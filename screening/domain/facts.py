"""Derived values: canonical values, computed scores and the facts the engine compares.

``derive`` turns a valid candidate (``contract.Candidate``) into the age, the
current TBil and its largest daily rise, MELD (and MELD-Na, MELD 3.0 for
information) and one fact per variable. Pure Python: the site's zone is an
argument.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal

from . import clinical, units
from .contract import Candidate
from .engine import Fact
from .inputs import (
    INPUTS,
)
from .variables import VARIABLES


@dataclass(frozen=True, slots=True)
class Derived:
    age_years: int | None
    tbil_umol_l: Decimal | None
    tbil_rise: clinical.DailyRise | None
    meld: int | None
    meld_na: int | None
    meld_3: int | None
    facts: Mapping[str, Fact]


def _rise_note(rise: clinical.DailyRise, tz: tzinfo) -> str:
    start = rise.start.time.astimezone(tz).strftime("%m-%d %H:%M")
    end = rise.end.time.astimezone(tz).strftime("%m-%d %H:%M")
    return f"{start} → {end}"


def _lab_fact(c: Candidate, key: str) -> Fact:
    q = c.values.get(key)
    if q is None:
        return Fact(None, status=c.statuses.get(key, ""))
    return Fact(q.canonical, uln=q.uln_canonical, comparator=q.comparator)


def _input_fact(c: Candidate, key: str) -> Fact:
    item = INPUTS[key]
    if item.is_lab:
        return _lab_fact(c, key)
    value = c.values.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    return Fact(value, status=c.statuses.get(key, ""))


def _number(c: Candidate, key: str) -> Decimal | None:
    q = c.values.get(key)
    return None if q is None else q.canonical


def derive(c: Candidate, *, tz: tzinfo) -> Derived:
    """Canonical values, computed scores and the facts the engine compares."""
    age = None
    if c.date_of_birth and c.screening_date:
        age = clinical.age_in_completed_years(c.date_of_birth, c.screening_date)

    timed = [
        clinical.TimedValue(q.time, q.canonical)
        for q in (*c.tbil_series, c.tbil)
        if q is not None and q.time is not None
    ]
    rise = clinical.tbil_max_daily_rise(timed)
    given = c.tbil.canonical if c.tbil is not None else None
    tbil_umol_l = clinical.current_tbil(given, sorted(timed, key=lambda t: t.time))
    inr = _number(c, "inr")
    sodium = _number(c, "sodium_mmol_l")

    meld = meld_na = meld_3 = None
    if (
        tbil_umol_l is not None
        and inr is not None
        and c.creatinine is not None
        and c.dialysis_twice_past_week is not None
    ):
        bili_mg_dl = _floor_positive(
            units.convert("bilirubin", tbil_umol_l, "umol/L", "mg/dL")
        )
        creat_mg_dl = units.convert(
            "creatinine", c.creatinine.canonical, "umol/L", "mg/dL"
        )
        meld = clinical.meld(
            bilirubin_mg_dl=bili_mg_dl,
            inr=inr,
            creatinine_mg_dl=creat_mg_dl,
            dialysis_twice_past_week=c.dialysis_twice_past_week,
        )
        if sodium is not None:
            meld_na = clinical.meld_na(meld_score=meld, sodium_mmol_l=sodium)
            if c.sex is not None and c.albumin is not None:
                meld_3 = clinical.meld_3(
                    female=c.sex == "F",
                    bilirubin_mg_dl=bili_mg_dl,
                    inr=inr,
                    creatinine_mg_dl=creat_mg_dl,
                    dialysis_twice_past_week=c.dialysis_twice_past_week,
                    sodium_mmol_l=sodium,
                    albumin_g_dl=units.convert(
                        "albumin", c.albumin.canonical, "g/L", "g/dL"
                    ),
                )

    def missing(*pairs):
        return tuple(name for name, present in pairs if not present)

    meld_missing = missing(
        ("tbil", tbil_umol_l is not None),
        ("inr", inr is not None),
        ("creatinine", c.creatinine is not None),
        ("dialysis_twice_past_week", c.dialysis_twice_past_week is not None),
    )
    age_missing = missing(
        ("date_of_birth", c.date_of_birth is not None),
        ("screening_date", c.screening_date is not None),
    )
    rise_missing = ("tbil_series",) if not timed else ("tbil_series (12 h apart)",)

    computed: dict[str, Fact] = {
        "age_years": Fact(
            Decimal(age) if age is not None else None, missing=age_missing
        ),
        "tbil_umol_l": Fact(tbil_umol_l, status=c.statuses.get("tbil", "")),
        "tbil_rise_per_day": (
            Fact(rise.per_day, note=_rise_note(rise, tz))
            if rise is not None
            else Fact(None, missing=rise_missing)
        ),
        "meld": Fact(Decimal(meld) if meld is not None else None, missing=meld_missing),
    }
    facts = {
        name: computed[name] if name in computed else _input_fact(c, variable.inputs[0])
        for name, variable in VARIABLES.items()
    }
    return Derived(age, tbil_umol_l, rise, meld, meld_na, meld_3, facts)


def _floor_positive(value: Decimal) -> Decimal:
    # MELD sets every value below 1.0 to 1.0; a bilirubin of 0 is below 1.0.
    return value if value > 0 else Decimal(1)
