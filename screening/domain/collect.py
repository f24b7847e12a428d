"""What an undecided criterion still needs, as the criterion reads (pure).

A criterion is met when any one of its conditions holds, and each condition
needs all of its inputs (MELD: TBil, INR, creatinine and dialysis). So an
inclusion with several undecided conditions is met by any one of them; an
exclusion is ruled out only when all of them are known (its supporting
conditions cannot exclude on their own absence, so they are not asked).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ToCollect:
    code: str
    # The missing inputs of each undecided condition (all of one are needed).
    conditions: tuple[tuple[str, ...], ...]
    any_one: bool  # an inclusion: one condition found to hold decides it
    all_of: bool  # an exclusion: every condition must be known to rule it out
    pending: tuple[str, ...]  # inputs the record marks as awaited


def to_collect(code: str, kind: str, details: Iterable[Mapping]) -> ToCollect | None:
    """``details``: the criterion's stored condition results; None if nothing
    is missing."""
    inclusion = kind == "INCLUSION"
    conditions = [
        detail
        for detail in details
        if detail.get("outcome") == "UNKNOWN"
        and detail.get("missing")
        and (inclusion or not detail.get("supporting"))
    ]
    if not conditions:
        return None
    several = len(conditions) > 1
    return ToCollect(
        code=code,
        conditions=tuple(tuple(d["missing"]) for d in conditions),
        any_one=inclusion and several,
        all_of=not inclusion and several,
        # Two conditions may await the same input: it is asked for once.
        pending=tuple(
            dict.fromkeys(
                key
                for detail in conditions
                if detail.get("relation") == "pending"
                for key in detail["missing"]
            )
        ),
    )
