"""The input contract: one candidate as a mapping (JSON object, form, CSV row).

``parse_candidate`` checks the shape and plausibility of every field and collects
every problem (field -> messages) instead of stopping at the first. ``derive``
turns a valid candidate into canonical values, computed scores and the facts the
engine compares. Pure Python: "today" and the site's time zone are arguments.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from . import clinical, units
from .engine import Fact
from .variables import CHECKLIST_ITEMS, STAGES

# ASCII digits only: \d would also match other scripts' digits.
SCREENING_NUMBER_RE = re.compile(r"^[0-9]{2}-[0-9]{3,4}$")
INITIALS_RE = re.compile(r"^[A-Z]{1,4}$")
NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
# Measurement times outside these years are typing errors (and would overflow
# time-zone arithmetic near year 1 or 9999).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
_MAX_TEXT = 64

SEXES = ("M", "F")
MAX_AGE_YEARS = 120
MAX_SERIES = 50

# Plausibility bounds, inclusive, in canonical units: a value outside is a typing
# error or a wrong unit, never a patient.
BOUNDS: dict[str, tuple[Decimal, Decimal]] = {
    "tbil": (Decimal(0), Decimal(1500)),
    "creatinine": (Decimal(1), Decimal(3000)),
    "albumin": (Decimal(5), Decimal(70)),
    "pta_percent": (Decimal(1), Decimal(150)),
    "inr": (Decimal("0.5"), Decimal(15)),
    "sodium_mmol_l": (Decimal(90), Decimal(200)),
    "il6": (Decimal(0), Decimal(100000)),
    "tnf_alpha": (Decimal(0), Decimal(100000)),
    "crp": (Decimal(0), Decimal(1000)),
    "pct": (Decimal(0), Decimal(1000)),
}
MARKERS = {"il6": "il6", "tnf_alpha": "tnf_alpha", "crp": "crp", "pct": "pct"}
ANALYTE_OF = {
    "tbil": "bilirubin",
    "creatinine": "creatinine",
    "albumin": "albumin",
    **MARKERS,
}
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "否"})


class Problem(ValueError):
    """One thing wrong with one field: a stable code, its values, and English words.

    Pages say the same thing in their own language from ``code`` and ``params``.
    """

    def __init__(self, code: str, message: str, **params):
        super().__init__(message.format(**params))
        self.code = code
        self.params = {k: str(v) for k, v in params.items()}


class CandidateError(ValueError):
    """The candidate's data do not fit the contract.

    ``errors`` maps field -> English messages; ``problems`` maps field -> the
    same problems as {"code", "params"} for translation.
    """

    def __init__(self, problems: dict[str, list[Problem]]):
        self.errors = {k: [str(p) for p in v] for k, v in problems.items()}
        self.problems = {
            k: [{"code": p.code, "params": p.params} for p in v]
            for k, v in problems.items()
        }
        super().__init__(
            "; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items())
        )


class Quantity(NamedTuple):
    value: Decimal
    unit: str
    canonical: Decimal
    uln: Decimal | None = None
    uln_canonical: Decimal | None = None
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    screening_number: str | None = None
    initials: str | None = None
    sex: str | None = None
    date_of_birth: date | None = None
    screening_date: date | None = None
    liver_failure_stage: str | None = None
    tbil: Quantity | None = None
    tbil_series: tuple[Quantity, ...] = ()
    pta_percent: Decimal | None = None
    inr: Decimal | None = None
    creatinine: Quantity | None = None
    dialysis_twice_past_week: bool | None = None
    sodium_mmol_l: Decimal | None = None
    albumin: Quantity | None = None
    he_grade: int | None = None
    il6: Quantity | None = None
    tnf_alpha: Quantity | None = None
    crp: Quantity | None = None
    pct: Quantity | None = None
    checklist: Mapping[str, bool | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Derived:
    age_years: int | None
    tbil_umol_l: Decimal | None
    tbil_rise: clinical.DailyRise | None
    meld: int | None
    meld_na: int | None
    meld_3: int | None
    facts: Mapping[str, Fact]


class _Collector:
    def __init__(self):
        self.errors: dict[str, list[Problem]] = {}

    def add(self, name: str, problem: Problem) -> None:
        self.errors.setdefault(name, []).append(problem)


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def parse_decimal(raw: Any) -> Decimal:
    """A finite decimal from a JSON number or a plain ASCII string ("17.1")."""
    if isinstance(raw, bool):
        raise Problem("number_not_bool", "expected a number, not true/false")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        raw = repr(raw)
    if not isinstance(raw, str):
        raise Problem("number_expected", "expected a number")
    text = raw.strip()
    if len(text) > 32 or not NUMBER_RE.match(text):
        raise Problem(
            "number_invalid",
            "not a number: {text} (use digits and a dot)",
            text=text[:20],
        )
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise Problem(
            "number_invalid",
            "not a number: {text} (use digits and a dot)",
            text=text[:20],
        ) from exc
    if not value.is_finite():
        raise Problem("number_not_finite", "not a finite number")
    return value + 0  # turns -0 into 0


def parse_bool(raw: Any) -> bool | None:
    if _blank(raw):
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS:
        return True
    if isinstance(raw, str) and raw.strip().lower() in FALSE_WORDS:
        return False
    raise Problem("bool_invalid", "expected true or false")


def parse_date(raw: Any) -> date:
    if not isinstance(raw, str) or len(raw) > 10:
        raise Problem("date_invalid", "expected an ISO date (YYYY-MM-DD)")
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise Problem("date_invalid", "expected an ISO date (YYYY-MM-DD)") from exc
    if not EARLIEST_YEAR - 100 <= value.year <= LATEST_YEAR:
        raise Problem("year_implausible", "implausible year {year}", year=value.year)
    return value


def parse_datetime(raw: Any, tz: tzinfo) -> datetime:
    """An ISO-8601 date-time; without an offset it is read in the site's zone."""
    if not isinstance(raw, str) or len(raw) > _MAX_TEXT:
        raise Problem(
            "datetime_invalid", "expected an ISO date-time (YYYY-MM-DDTHH:MM)"
        )
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise Problem(
            "datetime_invalid", "expected an ISO date-time (YYYY-MM-DDTHH:MM)"
        ) from exc
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise Problem("year_implausible", "implausible year {year}", year=moment.year)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


class _Parser:
    def __init__(self, data: Mapping[str, Any], today: date | None, tz: tzinfo):
        self.data = data
        self.today = today
        self.tz = tz
        self.out = _Collector()

    def number(self, name: str, raw: Any, bound_key: str | None = None):
        if _blank(raw):
            return None
        try:
            value = parse_decimal(raw)
        except Problem as exc:
            self.out.add(name, exc)
            return None
        if bound_key and not self._in_bounds(name, value, bound_key, ""):
            return None
        return value

    def _in_bounds(self, name: str, canonical: Decimal, key: str, unit: str) -> bool:
        low, high = BOUNDS[key]
        if low <= canonical <= high:
            return True
        self.out.add(
            name,
            Problem(
                "implausible",
                "implausible: must be between {low} and {high} {unit}",
                low=low,
                high=high,
                unit=unit,
            ),
        )
        return False

    def quantity(self, name: str, raw: Any, *, with_time: bool = False):
        if _blank(raw):
            return None
        if not isinstance(raw, Mapping):
            self.out.add(
                name,
                Problem("object_expected", "expected an object with value and unit"),
            )
            return None
        if _blank(raw.get("value")):
            if any(not _blank(raw.get(k)) for k in ("uln", "time")):
                self.out.add(
                    f"{name}.value", Problem("value_required", "a value is required")
                )
            return None
        analyte = ANALYTE_OF[name]
        errors_before = len(self.out.errors)
        value = self.number(f"{name}.value", raw.get("value"))
        unit = raw.get("unit")
        if isinstance(unit, str):
            # Labs print the micro sign: "µmol/L" is "umol/L".
            unit = units.UNIT_ALIASES.get(unit.strip(), unit.strip())
        if _blank(unit):
            unit = (
                units.accepted_units(analyte)[0]
                if len(units.accepted_units(analyte)) == 1
                else None
            )
        if unit is None:
            self.out.add(
                f"{name}.unit", Problem("unit_required", "the unit is required")
            )
        elif not isinstance(unit, str) or unit not in units.accepted_units(analyte):
            accepted = ", ".join(units.accepted_units(analyte))
            self.out.add(
                f"{name}.unit",
                Problem(
                    "unit_unknown",
                    "unknown unit (accepted: {accepted})",
                    accepted=accepted,
                ),
            )
            unit = None
        uln = self.number(f"{name}.uln", raw.get("uln"))
        if uln is not None and uln <= 0:
            self.out.add(
                f"{name}.uln",
                Problem(
                    "uln_not_positive", "the upper limit of normal must be above 0"
                ),
            )
        moment = None
        if with_time and not _blank(raw.get("time")):
            try:
                moment = parse_datetime(raw.get("time"), self.tz)
            except Problem as exc:
                self.out.add(f"{name}.time", exc)
        if value is None or unit is None or len(self.out.errors) > errors_before:
            return None
        canonical = units.to_canonical(analyte, value, unit)
        canonical_unit = units.accepted_units(analyte)[0]
        if not self._in_bounds(f"{name}.value", canonical, name, canonical_unit):
            return None
        uln_canonical = (
            units.to_canonical(analyte, uln, unit) if uln is not None else None
        )
        return Quantity(value, unit, canonical, uln, uln_canonical, moment)

    def choice(self, name: str, raw: Any, options: tuple[str, ...]):
        if _blank(raw):
            return None
        if isinstance(raw, str) and raw.strip() in options:
            return raw.strip()
        self.out.add(
            name,
            Problem(
                "choice_invalid",
                "expected one of {options}",
                options=", ".join(options),
            ),
        )
        return None

    def text(self, name: str, raw: Any, pattern: re.Pattern, problem: Problem):
        if _blank(raw):
            return None
        if isinstance(raw, str) and pattern.match(raw.strip()):
            return raw.strip()
        self.out.add(name, problem)
        return None

    def date_field(self, name: str, raw: Any):
        if _blank(raw):
            return None
        try:
            return parse_date(raw)
        except Problem as exc:
            self.out.add(name, exc)
            return None

    def series(self, raw: Any) -> tuple[Quantity, ...]:
        if _blank(raw):
            return ()
        if not isinstance(raw, list | tuple):
            self.out.add(
                "tbil_series",
                Problem("series_not_list", "expected a list of timed measurements"),
            )
            return ()
        if len(raw) > MAX_SERIES:
            self.out.add(
                "tbil_series",
                Problem(
                    "series_too_long", "at most {max} measurements", max=MAX_SERIES
                ),
            )
            return ()
        items = []
        for index, item in enumerate(raw):
            name = f"tbil_series[{index}]"
            if not isinstance(item, Mapping) or _blank(item.get("time")):
                self.out.add(
                    name,
                    Problem(
                        "series_item_incomplete",
                        "each measurement needs a time, a value and a unit",
                    ),
                )
                continue
            quantity = self.quantity_as("tbil", name, item)
            if quantity is not None:
                items.append(quantity)
        return tuple(items)

    def quantity_as(self, analyte_key: str, name: str, raw: Mapping):
        # Series items are bilirubin quantities reported under their own name.
        errors = _Collector()
        saved, self.out = self.out, errors
        try:
            quantity = self.quantity(analyte_key, raw, with_time=True)
        finally:
            self.out = saved
        for key, problems in errors.errors.items():
            for problem in problems:
                self.out.add(name + key.removeprefix(analyte_key), problem)
        return quantity

    def parse(self) -> Candidate:
        d = self.data
        if not isinstance(d, Mapping):
            raise CandidateError(
                {"candidate": [Problem("candidate_not_object", "expected an object")]}
            )
        screening_number = self.text(
            "screening_number",
            d.get("screening_number"),
            SCREENING_NUMBER_RE,
            Problem(
                "screening_number_format",
                "expected the site's format, for example 01-001",
            ),
        )
        initials = d.get("initials")
        if isinstance(initials, str):
            initials = initials.strip().upper()
        initials = self.text(
            "initials",
            initials,
            INITIALS_RE,
            Problem("initials_format", "expected 1 to 4 letters A-Z"),
        )
        sex = self.choice("sex", d.get("sex"), SEXES)
        dob = self.date_field("date_of_birth", d.get("date_of_birth"))
        screening_date = self.date_field("screening_date", d.get("screening_date"))
        self._check_dates(dob, screening_date)
        stage = self.choice("liver_failure_stage", d.get("liver_failure_stage"), STAGES)
        tbil = self.quantity("tbil", d.get("tbil"), with_time=True)
        series = self.series(d.get("tbil_series"))
        self._check_series(tbil, series)
        he_grade = None
        if not _blank(d.get("he_grade")):
            grade = self.number("he_grade", d.get("he_grade"))
            if grade is not None:
                if grade != grade.to_integral_value() or not 0 <= grade <= 4:
                    self.out.add(
                        "he_grade",
                        Problem(
                            "he_grade_invalid", "expected a West Haven grade 0 to 4"
                        ),
                    )
                else:
                    he_grade = int(grade)
        checklist: dict[str, bool | None] = {}
        for item in (*CHECKLIST_ITEMS, "dialysis_twice_past_week"):
            try:
                checklist[item] = parse_bool(d.get(item))
            except Problem as exc:
                self.out.add(item, exc)
                checklist[item] = None
        dialysis = checklist.pop("dialysis_twice_past_week")
        candidate = Candidate(
            screening_number=screening_number,
            initials=initials,
            sex=sex,
            date_of_birth=dob,
            screening_date=screening_date,
            liver_failure_stage=stage,
            tbil=tbil,
            tbil_series=series,
            pta_percent=self.number("pta_percent", d.get("pta_percent"), "pta_percent"),
            inr=self.number("inr", d.get("inr"), "inr"),
            creatinine=self.quantity("creatinine", d.get("creatinine")),
            dialysis_twice_past_week=dialysis,
            sodium_mmol_l=self.number(
                "sodium_mmol_l", d.get("sodium_mmol_l"), "sodium_mmol_l"
            ),
            albumin=self.quantity("albumin", d.get("albumin")),
            he_grade=he_grade,
            il6=self.quantity("il6", d.get("il6")),
            tnf_alpha=self.quantity("tnf_alpha", d.get("tnf_alpha")),
            crp=self.quantity("crp", d.get("crp")),
            pct=self.quantity("pct", d.get("pct")),
            checklist=checklist,
        )
        if self.out.errors:
            raise CandidateError(self.out.errors)
        return candidate

    def _check_dates(self, dob: date | None, screening_date: date | None) -> None:
        if self.today is not None:
            if screening_date and screening_date > self.today:
                self.out.add(
                    "screening_date",
                    Problem(
                        "screening_date_future", "the screening date is in the future"
                    ),
                )
            if dob and dob > self.today:
                self.out.add(
                    "date_of_birth",
                    Problem(
                        "date_of_birth_future", "the date of birth is in the future"
                    ),
                )
        if dob and screening_date:
            if dob > screening_date:
                self.out.add(
                    "date_of_birth",
                    Problem(
                        "date_of_birth_after_screening",
                        "the date of birth is after the screening date",
                    ),
                )
            elif clinical.age_in_completed_years(dob, screening_date) > MAX_AGE_YEARS:
                self.out.add(
                    "date_of_birth",
                    Problem(
                        "age_implausible",
                        "implausible: age over {max} years",
                        max=MAX_AGE_YEARS,
                    ),
                )

    def _check_series(self, tbil: Quantity | None, series: tuple[Quantity, ...]):
        if self.today is not None:
            timed = [("tbil.time", tbil)] + [
                (f"tbil_series[{i}].time", item) for i, item in enumerate(series)
            ]
            for name, item in timed:
                if item is not None and item.time is not None:
                    if item.time.astimezone(self.tz).date() > self.today:
                        self.out.add(
                            name,
                            Problem(
                                "measurement_future",
                                "the measurement time is in the future",
                            ),
                        )
        if tbil is not None and tbil.time is not None:
            for index, item in enumerate(series):
                if item.time > tbil.time:
                    self.out.add(
                        f"tbil_series[{index}].time",
                        Problem(
                            "series_after_current",
                            "an earlier measurement is later than the current TBil",
                        ),
                    )


def parse_candidate(
    data: Mapping[str, Any], *, today: date | None, tz: tzinfo
) -> Candidate:
    """Check a candidate against the contract; raise CandidateError listing all."""
    return _Parser(data, today, tz).parse()


def count_malformed(records, *, today: date | None, tz: tzinfo) -> int:
    """How many candidates do not fit the contract (parsing only, no evaluation)."""
    malformed = 0
    for data in records:
        try:
            parse_candidate(data, today=today, tz=tz)
        except CandidateError:
            malformed += 1
    return malformed


def _rise_note(rise: clinical.DailyRise, tz: tzinfo) -> str:
    start = rise.start.time.astimezone(tz).strftime("%m-%d %H:%M")
    end = rise.end.time.astimezone(tz).strftime("%m-%d %H:%M")
    return f"{start} → {end}"


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

    meld = meld_na = meld_3 = None
    if (
        tbil_umol_l is not None
        and c.inr is not None
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
            inr=c.inr,
            creatinine_mg_dl=creat_mg_dl,
            dialysis_twice_past_week=c.dialysis_twice_past_week,
        )
        if c.sodium_mmol_l is not None:
            meld_na = clinical.meld_na(meld_score=meld, sodium_mmol_l=c.sodium_mmol_l)
            if c.sex is not None and c.albumin is not None:
                meld_3 = clinical.meld_3(
                    female=c.sex == "F",
                    bilirubin_mg_dl=bili_mg_dl,
                    inr=c.inr,
                    creatinine_mg_dl=creat_mg_dl,
                    dialysis_twice_past_week=c.dialysis_twice_past_week,
                    sodium_mmol_l=c.sodium_mmol_l,
                    albumin_g_dl=units.convert(
                        "albumin", c.albumin.canonical, "g/L", "g/dL"
                    ),
                )

    meld_missing = tuple(
        name
        for name, present in (
            ("tbil", tbil_umol_l is not None),
            ("inr", c.inr is not None),
            ("creatinine", c.creatinine is not None),
            ("dialysis_twice_past_week", c.dialysis_twice_past_week is not None),
        )
        if not present
    )
    age_missing = tuple(
        name
        for name, present in (
            ("date_of_birth", c.date_of_birth is not None),
            ("screening_date", c.screening_date is not None),
        )
        if not present
    )
    rise_missing = ("tbil_series",) if not timed else ("tbil_series (12 h apart)",)

    def marker(q: Quantity | None) -> Fact:
        if q is None:
            return Fact(None)
        return Fact(q.canonical, uln=q.uln_canonical)

    facts: dict[str, Fact] = {
        "age_years": Fact(
            Decimal(age) if age is not None else None, missing=age_missing
        ),
        "liver_failure_stage": Fact(c.liver_failure_stage),
        "tbil_umol_l": Fact(tbil_umol_l),
        "tbil_rise_per_day": (
            Fact(rise.per_day, note=_rise_note(rise, tz))
            if rise is not None
            else Fact(None, missing=rise_missing)
        ),
        "pta_percent": Fact(c.pta_percent),
        "inr": Fact(c.inr),
        "he_grade": Fact(Decimal(c.he_grade) if c.he_grade is not None else None),
        "il6_pg_ml": marker(c.il6),
        "tnf_alpha_pg_ml": marker(c.tnf_alpha),
        "crp_mg_l": marker(c.crp),
        "pct_ng_ml": marker(c.pct),
        "meld": Fact(Decimal(meld) if meld is not None else None, missing=meld_missing),
    }
    for item in CHECKLIST_ITEMS:
        facts[item] = Fact(c.checklist.get(item))
    return Derived(age, tbil_umol_l, rise, meld, meld_na, meld_3, facts)


def _floor_positive(value: Decimal) -> Decimal:
    # MELD sets every value below 1.0 to 1.0; a bilirubin of 0 is below 1.0.
    return value if value > 0 else Decimal(1)


def _quantity_json(q: Quantity | None, canonical_unit: str) -> dict | None:
    if q is None:
        return None
    out = {"value": str(q.canonical), "unit": canonical_unit}
    if q.uln_canonical is not None:
        out["uln"] = str(q.uln_canonical)
    if q.time is not None:
        out["time"] = q.time.isoformat()
    return out


def normalised(c: Candidate) -> dict[str, Any]:
    """The candidate in canonical units, JSON-safe (numbers as strings)."""

    def num(value):
        return None if value is None else str(value)

    return {
        "screening_number": c.screening_number,
        "initials": c.initials,
        "sex": c.sex,
        "date_of_birth": c.date_of_birth.isoformat() if c.date_of_birth else None,
        "screening_date": c.screening_date.isoformat() if c.screening_date else None,
        "liver_failure_stage": c.liver_failure_stage,
        "tbil": _quantity_json(c.tbil, "umol/L"),
        "tbil_series": [_quantity_json(q, "umol/L") for q in c.tbil_series],
        "pta_percent": num(c.pta_percent),
        "inr": num(c.inr),
        "creatinine": _quantity_json(c.creatinine, "umol/L"),
        "dialysis_twice_past_week": c.dialysis_twice_past_week,
        "sodium_mmol_l": num(c.sodium_mmol_l),
        "albumin": _quantity_json(c.albumin, "g/L"),
        "he_grade": c.he_grade,
        "il6": _quantity_json(c.il6, "pg/mL"),
        "tnf_alpha": _quantity_json(c.tnf_alpha, "pg/mL"),
        "crp": _quantity_json(c.crp, "mg/L"),
        "pct": _quantity_json(c.pct, "ng/mL"),
        **dict(c.checklist),
    }
