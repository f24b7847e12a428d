"""``manage.py prescreen`` against two floors, on the same generated CSV file.

Writes a CSV file of varied synthetic candidates (the columns of
``screening.prescreen.CSV_COLUMNS``: every decision, labs in mg/dL, a lab's own
marker limits, censored markers such as ``<0.05``, labs and answers
``pending`` or ``not_done``, blanks, several earlier TBil results), makes a
throw-away SQLite database with the trial loaded, and runs three programs over
the file, each in its own subprocess as an operator would:

- ``project``: ``manage.py prescreen FILE --format csv`` (the real path: the
  contract's validation, derived values, the engine, the 14 reasons);
- ``floor``: a hand-written script in this file (``python_floor``): the csv
  module and the protocol's 14 criteria typed out, no validation, the same
  output columns that decide (decision, blocking codes, undecided codes, MELD);
- ``vector``: the same criteria vectorised in polars (``polars_floor``).

Before anything is timed, each program runs once and their outputs are compared
on every row (decision, blocking, missing, MELD); a disagreement is printed by
row and column and makes ``agree`` false. Then ``--runs`` rounds time the three
back to back (so that the machine's noise hits them alike), at ``--rows`` and at
``--small`` rows: wall time of the subprocess (interpreter and Django start-up
included), its CPU time and its peak RSS (``wait4``; with worker processes, the
largest of the processes). ``ratio_to_floor`` is project wall time / floor wall
time (medians). The last line printed is one JSON object.

    .venv/bin/python bench/prescreen.py [--rows 100000] [--small 10000] [--runs 3]
"""

import argparse
import csv
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 2.0
FLOOR_COLUMNS = ["row", "screening_number", "decision", "blocking", "missing", "meld"]
COMPARED = ("screening_number", "decision", "blocking", "missing", "meld")


# -- the generated file ----------------------------------------------------------

MARKER_ULNS = {
    "il6": ("4", "7", "10"),
    "tnf_alpha": ("8.1", "12"),
    "crp": ("5", "10"),
    "pct": ("0.05", "0.5"),
}
CENSORED = {
    "il6": ("<2", "<=7", ">100", ">=7", "<10"),
    "tnf_alpha": ("<4", ">50", "<=8.1", ">=8.1"),
    "crp": ("<0.5", "<=10", ">200", ">=10", "<20"),
    "pct": ("<0.05", "<0.02", ">2", ">=0.05", "<=0.1"),
}
ANSWERS_PENDABLE = (
    "written_informed_consent",
    "able_to_communicate_and_complete",
    "dialysis_twice_past_week",
    "diabetes",
    "investigator_excludes",
)


def varied_candidates(rows: int, seed: int = 20251124):
    """``synthetic.candidates`` with the cases a file from a hospital holds."""
    from screening import synthetic

    rng = random.Random(seed)
    for data in synthetic.candidates(rows, seed=seed, start=date(2026, 11, 1)):
        roll = rng.random()
        if roll < 0.2:  # a lab's own upper limits of normal
            for marker, ulns in MARKER_ULNS.items():
                if data.get(marker):
                    data[marker] = {**data[marker], "uln": rng.choice(ulns)}
        elif roll < 0.3:  # a censored marker (a detection limit)
            marker = rng.choice(list(CENSORED))
            if data.get(marker):
                data[marker] = {**data[marker], "value": rng.choice(CENSORED[marker])}
        if rng.random() < 0.05 and data.get("crp"):  # CRP in mg/dL
            crp = Decimal(data["crp"]["value"].lstrip("<>="))
            data["crp"] = {"value": str(crp / 10), "unit": "mg/dL"}
        if rng.random() < 0.04:  # creatinine in mg/dL
            if data.get("creatinine"):
                umol = Decimal(data["creatinine"]["value"])
                data["creatinine"] = {
                    "value": str(round(umol / Decimal("88.4"), 2)),
                    "unit": "mg/dL",
                }
        if rng.random() < 0.05:  # a lab awaited or not done
            key = rng.choice(["inr", "pta_percent", "creatinine", "il6", "tbil"])
            data[key] = rng.choice(["pending", "not_done"])
        if rng.random() < 0.04:  # an answer still pending
            data[rng.choice(ANSWERS_PENDABLE)] = "pending"
        if rng.random() < 0.1 and isinstance(data.get("tbil"), dict):
            # Several earlier results, some less than 12 h apart.
            now = datetime.fromisoformat(data["tbil"]["time"])
            value = Decimal(data["tbil"]["value"])
            if data["tbil"]["unit"] == "mg/dL":
                value *= Decimal("17.1")
            data["tbil_series"] = [
                {
                    "time": (now - timedelta(hours=hours)).isoformat(),
                    "value": str(max(value - Decimal(drop), Decimal(10))),
                    "unit": "umol/L",
                }
                for hours, drop in sorted(
                    rng.sample([(6, "4"), (12, "9.5"), (18, "20"), (30, "25.65")], 3)
                )
            ]
        if rng.random() < 0.03:  # no collection time for the current TBil
            if isinstance(data.get("tbil"), dict):
                data["tbil"] = {**data["tbil"], "time": None}
        if rng.random() < 0.02:
            data["liver_failure_stage"] = None
        yield data


def write_csv(path: Path, rows: int) -> None:
    from screening.prescreen.files import CSV_COLUMNS, csv_row_from_contract

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for data in varied_candidates(rows):
            writer.writerow(csv_row_from_contract(data))


# -- floor (a): the protocol typed out by hand, csv module -------------------------

D = Decimal
_BILIRUBIN_MG_DL = D("17.1")  # umol/L per mg/dL
_CREATININE_MG_DL = D("88.4")
_CRP_MG_DL = D(10)  # mg/L per mg/dL
_12H = timedelta(hours=12)
_DAY_US = 86_400_000_000
_STAGES = frozenset({"early", "intermediate"})
_CODES = ("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8")
_CODES += ("E1", "E2", "E3", "E4", "E5", "E6")
_INCLUSION = (True,) * 8 + (False,) * 6
_NOT_A_VALUE = frozenset({"", "pending", "not_done"})
# The protocol's thresholds (NCT06904755; trials/trial_data.py).
AGE_MIN, AGE_MAX = 18, 65
TBIL_MIN, RISE_MIN = D(171), D("17.1")
PTA_MIN, PTA_MAX, INR_MIN, INR_MAX = D(20), D(40), D("1.5"), D("2.6")
HE_MAX = 2
IL6_ULN, TNF_ULN, CRP_ULN, PCT_ULN = D(7), D("8.1"), D(10), D("0.05")
MELD_MAX = 30


def _yes(cell: str):
    """IS_TRUE: True, False, or None when blank or pending."""
    return True if cell == "yes" else False if cell == "no" else None


def _any(*conditions):
    """MET (True) if any holds, UNKNOWN (None) if none does and one is unknown."""
    if True in conditions:
        return True
    if None in conditions:
        return None
    return False


def _elevated(cell: str, uln: str, default: Decimal, factor: Decimal | None = None):
    """Above the lab's limit (or the default); a censored value when it tells."""
    if cell in _NOT_A_VALUE:
        return None
    limit = D(uln) if uln else default
    if factor is not None:  # CRP in mg/dL
        limit = limit * factor if uln else limit
    sign = cell[0]
    if sign not in "<>":
        value = D(cell)
        return (value * factor if factor is not None else value) > limit
    op = cell[:2] if cell[1:2] == "=" else sign
    value = D(cell[len(op) :])
    if factor is not None:
        value *= factor
    if sign == "<":  # at most the limit: not above when limit <= threshold
        return False if value <= limit else None
    if op == ">":
        return True if value >= limit else None
    return True if value > limit else None


def _between(cell: str, low: Decimal, high: Decimal):
    if cell in _NOT_A_VALUE:
        return None
    return low <= D(cell) <= high


def _meld(tbil_umol: Decimal, inr: Decimal, creat_umol: Decimal, dialysis: bool):
    bilirubin = max(float(tbil_umol) / 17.1, 1.0)
    creatinine = min(max(float(creat_umol) / 88.4, 1.0), 4.0)
    if dialysis:
        creatinine = 4.0
    bracket = (
        0.957 * math.log(creatinine)
        + 0.378 * math.log(bilirubin)
        + 1.120 * math.log(max(float(inr), 1.0))
        + 0.643
    )
    return min(math.floor(bracket * 10 + 0.5), 40)


def _max_rise(timed: list[tuple[datetime, Decimal]]) -> Decimal | None:
    """Largest change per 24 h between a result and the latest one >= 12 h before."""
    timed.sort(key=lambda t: t[0])
    best = None
    for end_time, end_value in timed:
        cutoff = end_time - _12H
        latest = None
        for start_time, _ in timed:
            if start_time <= cutoff:
                latest = start_time
        if latest is None:
            continue
        for start_time, start_value in timed:
            if start_time == latest:
                interval = (end_time - start_time) // timedelta(microseconds=1)
                rise = (end_value - start_value) * _DAY_US / interval
                if best is None or rise > best:
                    best = rise
    return best


def python_floor(src: str, dst: str) -> int:
    """Decide every row of the file; writes FLOOR_COLUMNS. Returns the row count."""
    with (
        open(src, encoding="utf-8", newline="") as handle,
        open(dst, "w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(handle)
        col = {name: index for index, name in enumerate(next(reader))}
        writer = csv.writer(out)
        writer.writerow(FLOOR_COLUMNS)
        number = col["screening_number"]
        dob_i, date_i = col["date_of_birth"], col["screening_date"]
        stage_i = col["liver_failure_stage"]
        tbil_i, tbil_unit_i, tbil_time_i = (
            col["tbil"],
            col["tbil_unit"],
            col["tbil_time"],
        )
        series_i = col["tbil_series"]
        pta_i, inr_i, he_i = col["pta_percent"], col["inr"], col["he_grade"]
        creat_i, creat_unit_i = col["creatinine"], col["creatinine_unit"]
        dialysis_i = col["dialysis_twice_past_week"]
        il6_i, il6_uln_i = col["il6"], col["il6_uln"]
        tnf_i, tnf_uln_i = col["tnf_alpha"], col["tnf_alpha_uln"]
        crp_i, crp_unit_i, crp_uln_i = col["crp"], col["crp_unit"], col["crp_uln"]
        pct_i, pct_uln_i = col["pct"], col["pct_uln"]
        answers = [
            col[name]
            for name in (
                "able_to_communicate_and_complete",
                "written_informed_consent",
                "severe_active_bleeding",
                "dic",
                "allergy_blood_products_or_study_drugs",
                "circulatory_failure",
                "severe_comorbidity",
                "diabetes",
                "investigator_excludes",
            )
        ]
        rows = 0
        for rows, cells in enumerate(reader, start=1):
            # Age in completed years.
            dob, day = cells[dob_i], cells[date_i]
            i1 = None
            if dob and day:
                born, on = date.fromisoformat(dob), date.fromisoformat(day)
                age = (
                    on.year - born.year - ((on.month, on.day) < (born.month, born.day))
                )
                i1 = AGE_MIN <= age <= AGE_MAX
            stage = cells[stage_i]
            i2 = (stage in _STAGES) if stage else None
            # Current TBil (given, else the latest earlier result) and its rise.
            timed = []
            tbil = None
            cell = cells[tbil_i]
            if cell not in _NOT_A_VALUE:
                tbil = D(cell)
                if cells[tbil_unit_i] == "mg/dL":
                    tbil *= _BILIRUBIN_MG_DL
                if cells[tbil_time_i]:
                    timed.append((datetime.fromisoformat(cells[tbil_time_i]), tbil))
            series = []
            for part in cells[series_i].split(";"):
                pieces = part.split()
                if pieces:
                    value = D(pieces[-2])
                    if pieces[-1] == "mg/dL":
                        value *= _BILIRUBIN_MG_DL
                    series.append(
                        (datetime.fromisoformat(" ".join(pieces[:-2])), value)
                    )
            if tbil is None and series:
                tbil = max(series, key=lambda t: t[0])[1]
            timed += series
            rise = _max_rise(timed) if len(timed) > 1 else None
            i3 = _any(
                None if tbil is None else tbil >= TBIL_MIN,
                None if rise is None else rise >= RISE_MIN,
            )
            inr_cell = cells[inr_i]
            i4 = _any(
                _between(cells[pta_i], PTA_MIN, PTA_MAX),
                _between(inr_cell, INR_MIN, INR_MAX),
            )
            he = cells[he_i]
            i5 = (int(he) <= HE_MAX) if he else None
            # PCT supports: it can make I6 met, but its being unknown never
            # keeps I6 undecided.
            i6 = _any(
                _elevated(cells[il6_i], cells[il6_uln_i], IL6_ULN),
                _elevated(cells[tnf_i], cells[tnf_uln_i], TNF_ULN),
                _elevated(
                    cells[crp_i],
                    cells[crp_uln_i],
                    CRP_ULN,
                    _CRP_MG_DL if cells[crp_unit_i] == "mg/dL" else None,
                ),
                _elevated(cells[pct_i], cells[pct_uln_i], PCT_ULN) is True,
            )
            (
                able,
                consent,
                bleeding,
                dic,
                allergy,
                circulatory,
                severe,
                diabetes,
                inv,
            ) = (_yes(cells[i]) for i in answers)
            # MELD: TBil, INR, creatinine and the dialysis answer.
            meld = None
            creat = cells[creat_i]
            dialysis = _yes(cells[dialysis_i])
            if (
                tbil is not None
                and inr_cell not in _NOT_A_VALUE
                and creat not in _NOT_A_VALUE
                and dialysis is not None
            ):
                creat_umol = D(creat)
                if cells[creat_unit_i] == "mg/dL":
                    creat_umol *= _CREATININE_MG_DL
                meld = _meld(tbil, D(inr_cell), creat_umol, dialysis)
            outcomes = (
                i1,
                i2,
                i3,
                i4,
                i5,
                i6,
                able,
                consent,
                _any(bleeding, dic),
                allergy,
                circulatory,
                None if meld is None else meld > MELD_MAX,
                _any(severe, diabetes),
                inv,
            )
            blocking = [
                code
                for code, outcome, inclusion in zip(
                    _CODES, outcomes, _INCLUSION, strict=True
                )
                if outcome is (not inclusion)
            ]
            missing = [
                code
                for code, outcome in zip(_CODES, outcomes, strict=True)
                if outcome is None
            ]
            decision = (
                "INELIGIBLE" if blocking else "INCOMPLETE" if missing else "ELIGIBLE"
            )
            writer.writerow(
                (
                    rows,
                    cells[number],
                    decision,
                    " ".join(blocking),
                    " ".join(missing),
                    "" if meld is None else meld,
                )
            )
    return rows


# -- floor (b): the same criteria vectorised in polars ------------------------------


def polars_floor(src: str, dst: str) -> int:
    """The protocol as polars expressions over the whole file; writes FLOOR_COLUMNS.

    Outcomes are nullable booleans (null: UNKNOWN); ``|`` is three-valued, as a
    criterion's "any condition" is. TBil is compared in exact decimals, the daily
    rise in integers (micro-umol/L times seconds), MELD in floats.
    """
    import polars as pl

    df = pl.read_csv(src, infer_schema=False).with_row_index("row", offset=1)
    dec = pl.Decimal(20, 6)

    def value(name):
        c = pl.col(name)
        return pl.when(c.is_in(["pending", "not_done"])).then(None).otherwise(c)

    def number(name):
        return value(name).cast(dec)

    def yes(name):
        c = pl.col(name)
        return pl.when(c == "yes").then(True).when(c == "no").then(False)

    def elevated(name, default, unit_factor=None):
        cell = value(name)
        sign = cell.str.extract(r"^([<>]=?)", 1).fill_null("")
        amount = cell.str.replace(r"^[<>]=?", "").cast(dec)
        uln = pl.col(f"{name}_uln").cast(dec)
        if unit_factor is not None:
            factor = (
                pl.when(pl.col(f"{name}_unit") == "mg/dL")
                .then(pl.lit(unit_factor, dec))
                .otherwise(pl.lit(1, dec))
            )
            amount, uln = amount * factor, uln * factor
        limit = pl.coalesce(uln, pl.lit(D(default), dec))
        return (
            pl.when(sign == "")
            .then(amount > limit)
            .when(sign.str.starts_with("<"))
            .then(pl.when(amount <= limit).then(False))
            .when(sign == ">")
            .then(pl.when(amount >= limit).then(True))
            .otherwise(pl.when(amount > limit).then(True))
        )

    def date_of(name):
        return pl.col(name).str.to_date("%Y-%m-%d")

    def micro(expr):  # exact integer micro-umol/L
        return (expr * pl.lit(1_000_000, dec)).cast(pl.Int64)

    iso = "%Y-%m-%dT%H:%M:%S%z"
    tbil_given = (
        number("tbil")
        * pl.when(pl.col("tbil_unit") == "mg/dL")
        .then(pl.lit(D("17.1"), dec))
        .otherwise(pl.lit(1, dec))
    ).alias("value")
    # Every timed TBil result, one row each: earlier ones and the current one.
    entries = (
        df.select(
            "row",
            pl.col("tbil_series").str.split(";").alias("entry"),
        )
        .explode("entry")
        .with_row_index("order")
        .with_columns(pieces=pl.col("entry").str.strip_chars().str.split(" "))
        .filter(pl.col("pieces").list.len() >= 3)
        .select(
            "row",
            "order",
            time=pl.col("pieces")
            .list.slice(0, pl.col("pieces").list.len() - 2)
            .list.join(" ")
            .str.to_datetime(iso),
            value=pl.col("pieces").list.get(-2).cast(dec)
            * pl.when(pl.col("pieces").list.get(-1) == "mg/dL")
            .then(pl.lit(D("17.1"), dec))
            .otherwise(pl.lit(1, dec)),
        )
    )
    latest_earlier = (
        entries.sort("time", "order", descending=[True, False])
        .group_by("row", maintain_order=True)
        .first()
        .select("row", latest=pl.col("value"))
    )
    current = df.select(
        "row", time=pl.col("tbil_time").str.to_datetime(iso), value=tbil_given
    ).filter(pl.col("value").is_not_null() & pl.col("time").is_not_null())
    timed = (
        pl.concat([entries.select("row", "time", "value"), current])
        .with_columns(us=micro(pl.col("value")))
        .sort("row", "time")
    )
    starts = timed.group_by("row", "time").agg().sort("row", "time")
    pairs = (
        timed.with_columns(cutoff=pl.col("time") - pl.duration(hours=12))
        .sort("row", "cutoff")
        .join_asof(
            starts.rename({"time": "start"}),
            left_on="cutoff",
            right_on="start",
            by="row",
            strategy="backward",
            check_sortedness=False,  # sorted by row, then cutoff, just above
        )
        .filter(pl.col("start").is_not_null())
        .join(
            timed.select("row", start="time", start_us="us"),
            on=["row", "start"],
        )
    )
    rises = pairs.group_by("row").agg(
        rise_met=(
            (pl.col("us") - pl.col("start_us")) * 86_400
            >= 17_100_000 * (pl.col("time") - pl.col("start")).dt.total_seconds()
        ).any()
    )
    df = df.join(latest_earlier, on="row", how="left").join(rises, on="row", how="left")

    dob, on = date_of("date_of_birth"), date_of("screening_date")

    def month_day(day):
        return day.dt.month().cast(pl.Int32) * 100 + day.dt.day().cast(pl.Int32)

    age = on.dt.year() - dob.dt.year() - (month_day(on) < month_day(dob)).cast(pl.Int32)
    tbil = pl.coalesce(tbil_given, pl.col("latest"))
    creat = number("creatinine") * pl.when(pl.col("creatinine_unit") == "mg/dL").then(
        pl.lit(D("88.4"), dec)
    ).otherwise(pl.lit(1, dec))
    dialysis = yes("dialysis_twice_past_week")
    inr = number("inr")
    bilirubin = (tbil.cast(pl.Float64) / 17.1).clip(lower_bound=1.0)
    creatinine = (
        pl.when(dialysis)
        .then(4.0)
        .otherwise((creat.cast(pl.Float64) / 88.4).clip(1.0, 4.0))
    )
    bracket = (
        0.957 * creatinine.log()
        + 0.378 * bilirubin.log()
        + 1.120 * inr.cast(pl.Float64).clip(lower_bound=1.0).log()
        + 0.643
    )
    meld = (
        pl.when(dialysis.is_not_null() & creat.is_not_null())
        .then((bracket * 10 + 0.5).floor().clip(upper_bound=40))
        .cast(pl.Int64)
    )
    stage = pl.col("liver_failure_stage")
    outcomes = [
        (age >= AGE_MIN) & (age <= AGE_MAX),
        stage.is_in(["early", "intermediate"]),
        (tbil >= pl.lit(TBIL_MIN, dec)) | pl.col("rise_met"),
        number("pta_percent").is_between(pl.lit(PTA_MIN, dec), pl.lit(PTA_MAX, dec))
        | inr.is_between(pl.lit(INR_MIN, dec), pl.lit(INR_MAX, dec)),
        pl.col("he_grade").cast(pl.Int32) <= HE_MAX,
        elevated("il6", IL6_ULN)
        | elevated("tnf_alpha", TNF_ULN)
        | elevated("crp", CRP_ULN, D(10))
        | elevated("pct", PCT_ULN).fill_null(False),  # supporting
        yes("able_to_communicate_and_complete"),
        yes("written_informed_consent"),
        yes("severe_active_bleeding") | yes("dic"),
        yes("allergy_blood_products_or_study_drugs"),
        yes("circulatory_failure"),
        pl.col("meld") > MELD_MAX,
        yes("severe_comorbidity") | yes("diabetes"),
        yes("investigator_excludes"),
    ]
    df = df.with_columns(meld=meld)
    outcomes[1] = pl.when(stage.is_not_null()).then(outcomes[1])
    decided = df.select(
        "row",
        "screening_number",
        "meld",
        *(o.alias(code) for code, o in zip(_CODES, outcomes, strict=True)),
    )

    def codes(flags):
        return (
            pl.concat_list(
                pl.when(flag).then(pl.lit(code)).otherwise(None) for code, flag in flags
            )
            .list.drop_nulls()
            .list.join(" ")
        )

    blocking = codes(
        (code, (pl.col(code) == (not inclusion)).fill_null(False))
        for code, inclusion in zip(_CODES, _INCLUSION, strict=True)
    )
    missing = codes((code, pl.col(code).is_null()) for code in _CODES)
    result = decided.select(
        "row",
        "screening_number",
        blocking=blocking,
        missing=missing,
        meld="meld",
    ).select(
        "row",
        "screening_number",
        decision=pl.when(pl.col("blocking") != "")
        .then(pl.lit("INELIGIBLE"))
        .when(pl.col("missing") != "")
        .then(pl.lit("INCOMPLETE"))
        .otherwise(pl.lit("ELIGIBLE")),
        blocking="blocking",
        missing="missing",
        meld="meld",
    )
    result.write_csv(dst)
    return result.height


# -- running and comparing ---------------------------------------------------------


def run(command: list[str], out: Path, env: dict) -> dict:
    """One program over the file: wall and CPU seconds, peak RSS in MiB."""
    with out.open("w", encoding="utf-8") as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout)
        # wait4 gives this child's own rusage, with its reaped worker processes
        # (RUSAGE_CHILDREN would mix in migrate and load_trial).
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    assert code == 0, f"{command} exited {code}"
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
    }


def commands(path: Path, out: Path) -> dict[str, list[str]]:
    me = str(Path(__file__).resolve())
    return {
        "project": [
            sys.executable,
            "manage.py",
            "prescreen",
            str(path),
            "--format",
            "csv",
        ],
        "floor": [sys.executable, me, "--floor", "python", str(path), str(out)],
        "vector": [sys.executable, me, "--floor", "polars", str(path), str(out)],
    }


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def compare(results: dict[str, list[dict]], limit: int = 20) -> list[str]:
    """Every row and column where a floor and the project differ."""
    problems = []
    project = results["project"]
    for name in ("floor", "vector"):
        other = results[name]
        if len(other) != len(project):
            problems.append(f"{name}: {len(other)} rows, project {len(project)}")
        for index, (mine, theirs) in enumerate(zip(project, other, strict=False)):
            for column in COMPARED:
                if mine[column] != theirs[column]:
                    problems.append(
                        f"row {index + 1} {column}: project {mine[column]!r}, "
                        f"{name} {theirs[column]!r}"
                    )
    for problem in problems[:limit]:
        print("DISAGREE", problem, flush=True)
    if len(problems) > limit:
        print(f"... {len(problems) - limit} more disagreements", flush=True)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--floor", choices=["python", "polars"], help=argparse.SUPPRESS)
    parser.add_argument("--write", help=argparse.SUPPRESS)
    parser.add_argument("--compare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:  # one floor over one file, as a program of its own
        floor = python_floor if args.floor == "python" else polars_floor
        floor(*args.paths)
        return 0

    if args.compare:
        names = ("project", "floor", "vector")
        outputs = {
            n: read_rows(Path(p)) for n, p in zip(names, args.paths, strict=True)
        }
        decisions: dict[str, int] = {}
        for result in outputs["project"]:
            decisions[result["decision"]] = decisions.get(result["decision"], 0) + 1
        verdict = {
            "rows": len(outputs["project"]),
            "problems": len(compare(outputs)),
            "decisions": decisions,
        }
        print(json.dumps(verdict))
        return 0
    if args.write:  # the generated file, in a process of its own (Django)
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
        import django

        django.setup()
        write_csv(Path(args.write), args.rows)
        return 0

    work = Path(tempfile.mkdtemp(prefix="bench-prescreen-"))
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        }
        for step in (["migrate", "--noinput", "-v0"], ["load_trial"]):
            subprocess.run(
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        figures_of: dict[str, dict[str, list[dict]]] = {}
        agree, disagreements, decisions = True, 0, {}
        for label, rows in (("small", args.small), ("large", args.rows)):
            start = time.perf_counter()
            path = work / f"candidates-{rows}.csv"
            subprocess.run(
                [sys.executable, __file__, "--write", str(path), "--rows", str(rows)],
                env=env,
                check=True,
            )
            print(
                f"wrote {rows:,} rows ({path.stat().st_size / 2**20:.1f} MiB) "
                f"in {time.perf_counter() - start:.1f} s",
                flush=True,
            )
            outs = {
                name: work / f"{name}.csv" for name in ("project", "floor", "vector")
            }
            # Agreement first, untimed: every row, every compared column.
            for name in outs:
                command = commands(path, outs[name])[name]
                run(command, outs[name] if name == "project" else work / "log", env)
            # Compared in a child: the parent stays small, since a child's peak
            # RSS starts from the parent's at fork.
            checked = subprocess.run(
                [sys.executable, __file__, "--compare", *map(str, outs.values())],
                check=True,
                capture_output=True,
                text=True,
            )
            *lines, last = checked.stdout.splitlines()
            for line in lines:
                print(line)
            verdict = json.loads(last)
            problems = verdict["problems"]
            agree = agree and not problems
            disagreements += problems
            assert verdict["rows"] == rows, verdict
            if label == "large":
                decisions = verdict["decisions"]
            print(
                f"{label}: {rows:,} rows, "
                + ("all three agree" if not problems else f"{problems} differ"),
                flush=True,
            )
            figures_of[label] = {name: [] for name in outs}
            for round_ in range(args.runs):
                line = []
                for name in outs:
                    command = commands(path, outs[name])[name]
                    target = outs[name] if name == "project" else work / "log"
                    result = run(command, target, env)
                    figures_of[label][name].append(result)
                    line.append(
                        f"{name} {rows / result['seconds']:,.0f} rows/s "
                        f"({result['seconds']:.2f} s, {result['cpu_seconds']:.2f} s "
                        f"CPU, {result['peak_rss_mib']:.0f} MiB)"
                    )
                print(f"{label} run {round_ + 1}: " + "; ".join(line), flush=True)
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(label, name, key):
        return statistics.median(r[key] for r in figures_of[label][name])

    seconds = {name: median("large", name, "seconds") for name in figures_of["large"]}
    cpu = {name: median("large", name, "cpu_seconds") for name in figures_of["large"]}
    rss = {name: median("large", name, "peak_rss_mib") for name in figures_of["large"]}
    small_rss = median("small", "project", "peak_rss_mib")
    ratio = seconds["project"] / seconds["floor"]
    figures = {
        "bench": "prescreen",
        "rows": args.rows,
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "seconds": round(seconds["project"], 2),
        "rows_per_s": round(args.rows / seconds["project"]),
        "floor_rows_per_s": round(args.rows / seconds["floor"]),
        "vector_floor_rows_per_s": round(args.rows / seconds["vector"]),
        "ratio_to_floor": round(ratio, 2),
        "ratio_to_vector_floor": round(seconds["project"] / seconds["vector"], 2),
        "cpu_ratio_to_floor": round(cpu["project"] / cpu["floor"], 2),
        "cpu_seconds": {name: round(value, 2) for name, value in cpu.items()},
        "peak_rss_mib": round(rss["project"], 1),
        "small_rows": args.small,
        "small_peak_rss_mib": round(small_rss, 1),
        "rss_growth_mib": round(rss["project"] - small_rss, 1),
        "floor_peak_rss_mib": round(rss["floor"], 1),
        "vector_floor_peak_rss_mib": round(rss["vector"], 1),
        "agree": agree,
        "disagreements": disagreements,
        "decisions": decisions,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "target_met": agree and ratio <= TARGET_RATIO,
    }
    print(
        f"median of {args.runs}: project {figures['rows_per_s']:,} rows/s, floor "
        f"{figures['floor_rows_per_s']:,} rows/s, polars "
        f"{figures['vector_floor_rows_per_s']:,} rows/s; project/floor "
        f"{figures['ratio_to_floor']}x (CPU {figures['cpu_ratio_to_floor']}x), "
        f"project/polars {figures['ratio_to_vector_floor']}x; peak RSS "
        f"{figures['peak_rss_mib']} MiB ({args.small:,} rows: {small_rss:.1f} MiB); "
        f"agree: {agree}"
    )
    print(json.dumps(figures))
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
