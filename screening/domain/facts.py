"""Derived values: canonical values, computed scores and the facts the engine compares.

``derive`` turns a valid candidate (``contract.Candidate``) into the age, the
current TBil and its largest daily rise, MELD (and MELD-Na, MELD 3.0 for
information) and one fact per variable. Pure Python: the site's zone is an
argument.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from . import clinical, units
from .contract import Candidate
from .engine import Fact
from .inputs import INPUTS, LAB_STATUSES
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
    # What lookback windows count back from (see ``screening_time``).
    screening_time: datetime | None = None


def _rise_note(rise: clinical.DailyRise, tz: tzinfo) -> str:
    start, end = rise.start.time.astimezone(tz), rise.end.time.astimezone(tz)
    # As strftime("%m-%d %H:%M") writes them, without its per-call overhead.
    return (
        f"{start.month:02}-{start.day:02} {start.hour:02}:{start.minute:02} → "
        f"{end.month:02}-{end.day:02} {end.hour:02}:{end.minute:02}"
    )


# Each variable's fact, planned once from the registries: (variable, input
# key, how the fact is built): computed by ``derive``, from a lab value
# (``Quantity``), or from the input's value (a grade as a Decimal).
_COMPUTED, _LAB, _VALUE = "computed", "lab", "value"
_COMPUTED_NAMES = frozenset(
    {"age_years", "tbil_umol_l", "tbil_rise_per_day", "meld", "pt_prolongation_s"}
)
_FACT_PLAN = tuple(
    (
        name,
        variable.inputs[0] if variable.inputs else "",
        _COMPUTED
        if name in _COMPUTED_NAMES
        else _LAB
        if INPUTS[variable.inputs[0]].is_lab
        else _VALUE,
    )
    for name, variable in VARIABLES.items()
)


# Facts are immutable: the common ones are built once and shared.
_ANSWERED = {True: Fact(True), False: Fact(False)}
_NOT_GIVEN = {status: Fact(None, status=status) for status in ("", *LAB_STATUSES)}


def _input_facts(c: Candidate, computed: dict[str, Fact]) -> dict[str, Fact]:
    """One fact per variable, in the variables' order."""
    values, statuses = c.values, c.statuses
    facts: dict[str, Fact] = {}
    for name, key, how in _FACT_PLAN:
        if how is _COMPUTED:
            facts[name] = computed[name]
            continue
        value = values.get(key)
        status = statuses.get(key, "")
        if value is None:
            fact = _NOT_GIVEN.get(status) or Fact(None, status=status)
        elif how is _LAB:
            q = value
            fact = Fact(q.canonical, q.uln_canonical, "", (), q.comparator, "", q.time)
        elif (value is True or value is False) and not status:
            fact = _ANSWERED[value]
        else:
            if type(value) is int:
                value = Decimal(value)
            fact = Fact(value, status=status)
        facts[name] = fact
    return facts


def _number(c: Candidate, key: str) -> Decimal | None:
    q = c.values.get(key)
    return None if q is None else q.canonical


def screening_time(
    screening_date: date | None, *, tz: tzinfo, now: datetime | None = None
) -> datetime | None:
    """The moment lookback windows count back from, in the site's zone.

    The record time ``now``, but at the latest the end of the screening date
    (a record typed on a later day is judged as of its screening day); the end
    of the screening date when there is no record time (a preview, an upload,
    a re-evaluation without its record's time); ``now`` without a screening
    date. A re-evaluation passes the record's own time as ``now`` to decide as
    the record did.
    """
    end = None
    if screening_date is not None:
        end = datetime.combine(screening_date + timedelta(days=1), time.min, tzinfo=tz)
    if now is None:
        return end
    now = now.astimezone(tz)
    return now if end is None or now < end else end


def _oldest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def derive(c: Candidate, *, tz: tzinfo, now: datetime | None = None) -> Derived:
    """Canonical values, computed scores and the facts the engine compares.

    A computed fact carries the oldest collection time it is computed from
    (the current TBil's own, the start of the daily rise, MELD's labs).
    """
    # The inputs read here, once (attribute access on a Candidate is a lookup).
    get = c.values.get
    date_of_birth, screening_date = get("date_of_birth"), get("screening_date")
    tbil, creatinine, albumin = get("tbil"), get("creatinine"), get("albumin")
    dialysis, sex = get("dialysis_twice_past_week"), get("sex")
    age = None
    if date_of_birth and screening_date:
        age = clinical.age_in_completed_years(date_of_birth, screening_date)

    timed = [
        clinical.TimedValue(q.time, q.canonical)
        for q in (*get("tbil_series", ()), tbil)
        if q is not None and q.time is not None
    ]
    rise = clinical.tbil_max_daily_rise(timed)
    if tbil is not None:
        tbil_umol_l = tbil.canonical
    else:
        tbil_umol_l = clinical.current_tbil(None, sorted(timed, key=lambda t: t.time))
    inr = _number(c, "inr")
    sodium = _number(c, "sodium_mmol_l")

    meld = meld_na = meld_3 = None
    if (
        tbil_umol_l is not None
        and inr is not None
        and creatinine is not None
        and dialysis is not None
    ):
        bili_mg_dl = _floor_positive(
            units.convert("bilirubin", tbil_umol_l, "umol/L", "mg/dL")
        )
        creat_mg_dl = units.convert(
            "creatinine", creatinine.canonical, "umol/L", "mg/dL"
        )
        meld = clinical.meld(
            bilirubin_mg_dl=bili_mg_dl,
            inr=inr,
            creatinine_mg_dl=creat_mg_dl,
            dialysis_twice_past_week=dialysis,
        )
        if sodium is not None:
            meld_na = clinical.meld_na(meld_score=meld, sodium_mmol_l=sodium)
            if sex is not None and albumin is not None:
                meld_3 = clinical.meld_3(
                    female=sex == "F",
                    bilirubin_mg_dl=bili_mg_dl,
                    inr=inr,
                    creatinine_mg_dl=creat_mg_dl,
                    dialysis_twice_past_week=dialysis,
                    sodium_mmol_l=sodium,
                    albumin_g_dl=units.convert(
                        "albumin", albumin.canonical, "g/L", "g/dL"
                    ),
                )

    def missing(*pairs):
        return tuple(name for name, present in pairs if not present)

    # A score computed had all its inputs: nothing is missing.
    meld_missing = (
        ()
        if meld is not None
        else missing(
            ("tbil", tbil_umol_l is not None),
            ("inr", inr is not None),
            ("creatinine", creatinine is not None),
            ("dialysis_twice_past_week", dialysis is not None),
        )
    )
    age_missing = (
        ()
        if age is not None
        else missing(
            ("date_of_birth", date_of_birth is not None),
            ("screening_date", screening_date is not None),
        )
    )
    rise_missing = ("tbil_series",) if not timed else ("tbil_series (12 h apart)",)

    if tbil is not None:
        tbil_time, tbil_uln = tbil.time, tbil.uln_canonical
    else:
        latest = max(timed, key=lambda t: t.time, default=None)
        tbil_time, tbil_uln = (latest.time if latest else None), None
    meld_time = None
    if meld is not None:
        meld_time = _oldest(tbil_time, *(q.time for q in (get("inr"), creatinine) if q))
    computed: dict[str, Fact] = {
        "age_years": Fact(
            Decimal(age) if age is not None else None, missing=age_missing
        ),
        "tbil_umol_l": Fact(
            tbil_umol_l,
            uln=tbil_uln,
            status=c.statuses.get("tbil", ""),
            time=tbil_time if tbil_umol_l is not None else None,
        ),
        "tbil_rise_per_day": (
            Fact(rise.per_day, note=_rise_note(rise, tz), time=rise.start.time)
            if rise is not None
            else Fact(None, missing=rise_missing)
        ),
        "meld": Fact(
            Decimal(meld) if meld is not None else None,
            missing=meld_missing,
            time=meld_time,
        ),
        "pt_prolongation_s": _pt_prolongation(
            get("pt_seconds"), get("pt_control_seconds"), c.statuses
        ),
    }
    facts = _input_facts(c, computed)
    return Derived(
        age,
        tbil_umol_l,
        rise,
        meld,
        meld_na,
        meld_3,
        facts,
        screening_time(screening_date, tz=tz, now=now),
    )


def _pt_prolongation(pt, control, statuses: Mapping[str, str]) -> Fact:
    """How many seconds longer the patient's prothrombin time is than the
    control's (negative when shorter), collected when the older one was.

    Without one of them it asks for what is absent; when every absent one is
    "pending" (or every one "not done"), so is the prolongation.
    """
    if pt is None or control is None:
        missing = (("pt_seconds",) if pt is None else ()) + (
            ("pt_control_seconds",) if control is None else ()
        )
        given = {statuses.get(key, "") for key in missing}
        status = given.pop() if len(given) == 1 else ""
        return Fact(None, missing=missing, status=status)
    return Fact(pt.canonical - control.canonical, time=_oldest(pt.time, control.time))


def _floor_positive(value: Decimal) -> Decimal:
    # MELD sets every value below 1.0 to 1.0; a bilirubin of 0 is below 1.0.
    return value if value > 0 else Decimal(1)
