"""Engine throughput against a hand-written floor, on one core, without Django.

Three timed paths over the same varied synthetic candidates:

- ``app``: what a submission and a pre-screen row do, from the contract dict:
  ``parse_candidate`` + ``derive`` + ``evaluate``;
- ``engine``: ``evaluate`` alone on facts derived before the timed loop;
- ``floor``: a hand-written function that hard-codes the 14 criteria of
  NCT06904755 over the same facts, the fastest plain Python can decide them.

The target ratio is ``engine`` against ``floor`` (same inputs, same outputs:
decision, blocking and unknown codes, one outcome per criterion). Every
candidate's result from the engine must match the floor's, or the benchmark
fails. Figures are medians over ``--runs`` rounds; each round times the three
paths back to back so that the machine's noise hits them alike. Time is the
process's CPU time (one thread, so one core): on a shared machine, waiting for
a core does not count against the engine. The last line
printed is one JSON object.

    .venv/bin/python bench/engine.py [--count 100000] [--runs 5]
"""

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from screening import synthetic  # noqa: E402
from screening.domain.contract import parse_candidate  # noqa: E402
from screening.domain.engine import (  # noqa: E402
    ConditionSpec,
    CriterionKind,
    CriterionSpec,
    Operator,
    evaluate,
)
from screening.domain.facts import derive  # noqa: E402
from trials.trial_data import CRITERIA  # noqa: E402

TODAY = date(2026, 11, 1)
ZONE = ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE
MARKER_ULNS = {
    "il6": ("4", "7", "10"),
    "tnf_alpha": ("8.1", "12"),
    "crp": ("5", "10"),
    "pct": ("0.05", "0.5"),
}
_MET, _NOT_MET, _UNKNOWN = "MET", "NOT_MET", "UNKNOWN"


def criteria_specs() -> tuple[CriterionSpec, ...]:
    """The protocol's criteria as ``screening.criteria`` builds them from rows."""
    specs = []
    for code, kind, _attest, text, _zh, conditions in CRITERIA:
        specs.append(
            CriterionSpec(
                code=code,
                kind=CriterionKind(kind),
                conditions=tuple(
                    ConditionSpec(
                        variable=variable,
                        operator=Operator(op),
                        low=None if low is None else low.normalize(),
                        high=None if high is None else high.normalize(),
                        values=tuple(v for v in values.split(",") if v),
                        unit=unit,
                    )
                    for variable, op, low, high, values, unit in conditions
                ),
                text=text,
            )
        )
    return tuple(specs)


def varied_candidates(count: int, seed: int) -> list[dict]:
    """Synthetic candidates, a fifth of them with a lab's own marker limits."""
    rng = random.Random(seed)
    out = []
    for data in synthetic.candidates(count, seed=seed, start=TODAY):
        if rng.random() < 0.2:
            for marker, ulns in MARKER_ULNS.items():
                if data.get(marker):
                    data[marker] = {**data[marker], "uln": rng.choice(ulns)}
        out.append(data)
    return out


# The floor: the protocol typed out by hand. A condition is True (met), False
# (not met) or None (unknown); a criterion is MET if any condition is met,
# UNKNOWN if none is met and one is unknown, NOT_MET otherwise.
_18, _65 = Decimal(18), Decimal(65)
_171, _17_1 = Decimal(171), Decimal("17.1")
_20, _40, _1_5, _2_6 = Decimal(20), Decimal(40), Decimal("1.5"), Decimal("2.6")
_2, _30 = Decimal(2), Decimal(30)
_IL6, _TNF, _CRP, _PCT = Decimal(7), Decimal("8.1"), Decimal(10), Decimal("0.05")
_STAGES = frozenset({"early", "intermediate"})
_EXCLUSION_CODES = frozenset({"E1", "E2", "E3", "E4", "E5", "E6"})


def _any(*conditions):
    if True in conditions:
        return _MET
    if None in conditions:
        return _UNKNOWN
    return _NOT_MET


def floor(facts) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Decision, blocking codes, unknown codes and the 14 outcomes, in order."""

    def v(name):
        return facts[name].value

    def between(name, low, high):
        x = v(name)
        return None if x is None else low <= x <= high

    def gte(name, low):
        x = v(name)
        return None if x is None else x >= low

    def elevated(name, default):
        fact = facts[name]
        if fact.value is None:
            return None
        return fact.value > (default if fact.uln is None else fact.uln)

    def yes(name):
        return v(name)  # True, False or None: exactly the IS_TRUE outcome

    stage = v("liver_failure_stage")
    he = v("he_grade")
    meld = v("meld")
    outcomes = (
        _any(between("age_years", _18, _65)),
        _any(None if stage is None else stage in _STAGES),
        _any(gte("tbil_umol_l", _171), gte("tbil_rise_per_day", _17_1)),
        _any(between("pta_percent", _20, _40), between("inr", _1_5, _2_6)),
        _any(None if he is None else he <= _2),
        _any(
            elevated("il6_pg_ml", _IL6),
            elevated("tnf_alpha_pg_ml", _TNF),
            elevated("crp_mg_l", _CRP),
            elevated("pct_ng_ml", _PCT),
        ),
        _any(yes("able_to_communicate_and_complete")),
        _any(yes("written_informed_consent")),
        _any(yes("severe_active_bleeding"), yes("dic")),
        _any(yes("allergy_blood_products_or_study_drugs")),
        _any(yes("circulatory_failure")),
        _any(None if meld is None else meld > _30),
        _any(yes("severe_comorbidity"), yes("diabetes")),
        _any(yes("investigator_excludes")),
    )
    codes = ("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8")
    codes += ("E1", "E2", "E3", "E4", "E5", "E6")
    blocking = tuple(
        code
        for code, outcome in zip(codes, outcomes, strict=True)
        if outcome == (_MET if code in _EXCLUSION_CODES else _NOT_MET)
    )
    unknown = tuple(
        code
        for code, outcome in zip(codes, outcomes, strict=True)
        if outcome == _UNKNOWN
    )
    if blocking:
        decision = "INELIGIBLE"
    elif unknown:
        decision = "INCOMPLETE"
    else:
        decision = "ELIGIBLE"
    return decision, blocking, unknown, outcomes


def app_path(specs, records):
    for data in records:
        candidate = parse_candidate(data, today=TODAY, tz=ZONE)
        evaluate(specs, derive(candidate, tz=ZONE).facts)


def engine_path(specs, all_facts):
    # One result at a time, as prescreen and the form use it: a list of 100,000
    # results would time the garbage collector scanning them, not the engine.
    for facts in all_facts:
        evaluate(specs, facts)


def floor_path(all_facts):
    for facts in all_facts:
        floor(facts)


def timed(fn, *args):
    """CPU seconds of this single-threaded process: other load does not count."""
    gc.collect()
    start = time.process_time()
    result = fn(*args)
    return time.process_time() - start, result


def as_tuple(evaluation):
    return (
        evaluation.decision.value,
        evaluation.blocking,
        evaluation.unknown,
        tuple(r.outcome.value for r in evaluation.criteria),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20251124)
    args = parser.parse_args()

    specs = criteria_specs()
    records = varied_candidates(args.count, args.seed)
    all_facts = [
        derive(parse_candidate(d, today=TODAY, tz=ZONE), tz=ZONE).facts for d in records
    ]

    rates: dict[str, list[float]] = {"app": [], "engine": [], "floor": []}
    ratios: list[float] = []
    disagreements = 0
    # Agreement, untimed: the app path, the engine and the floor on every candidate.
    for record, facts in zip(records, all_facts, strict=True):
        app_r = evaluate(
            specs, derive(parse_candidate(record, today=TODAY, tz=ZONE), tz=ZONE).facts
        )
        if not (as_tuple(app_r) == as_tuple(evaluate(specs, facts)) == floor(facts)):
            disagreements += 1
    # The inputs stay alive for the whole run; the collector need not rescan them.
    gc.freeze()
    for run in range(args.runs):
        app_s, _ = timed(app_path, specs, records)
        engine_s, _ = timed(engine_path, specs, all_facts)
        floor_s, _ = timed(floor_path, all_facts)
        for name, seconds in (("app", app_s), ("engine", engine_s), ("floor", floor_s)):
            rates[name].append(args.count / seconds)
        ratios.append(engine_s / floor_s)
        print(
            f"run {run + 1}: app {args.count / app_s:,.0f}/s  "
            f"engine {args.count / engine_s:,.0f}/s  "
            f"floor {args.count / floor_s:,.0f}/s  "
            f"engine/floor {engine_s / floor_s:.2f}x",
            flush=True,
        )

    decisions: dict[str, int] = {}
    for facts in all_facts:
        decision = floor(facts)[0]
        decisions[decision] = decisions.get(decision, 0) + 1
    median = {name: statistics.median(values) for name, values in rates.items()}
    figures = {
        "bench": "engine",
        "candidates": args.count,
        "runs": args.runs,
        "app_per_s": round(median["app"]),
        "engine_per_s": round(median["engine"]),
        "floor_per_s": round(median["floor"]),
        "ratio": round(statistics.median(ratios), 2),
        "app_ratio": round(median["floor"] / median["app"], 2),
        "agree": disagreements == 0,
        "disagreements": disagreements,
        "decisions": decisions,
        "python": platform.python_version(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "target_met": (
            disagreements == 0
            and statistics.median(ratios) <= 3
            and median["engine"] >= 50_000
        ),
    }
    print(
        f"median of {args.runs}: app {figures['app_per_s']:,}/s, "
        f"engine {figures['engine_per_s']:,}/s, floor {figures['floor_per_s']:,}/s, "
        f"engine/floor {figures['ratio']}x, agree on all {args.count}: "
        f"{figures['agree']}"
    )
    print(json.dumps(figures))
    return 0 if disagreements == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
