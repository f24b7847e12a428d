"""NCT06904755 as shipped (``trials/data/nct06904755.json``), as plain Python values.

The trial file is the one source: ``load_trial`` loads it, and this module reads
it for the tests and benchmarks that want the protocol's criteria without a
database. ``CRITERIA`` rows are ``(code, kind, attestation, English wording,
Chinese wording, conditions)``, a condition ``(variable, operator, low, high,
categories, unit)``; ``CONDITION_FLAGS`` has each condition's other fields by
``(code, position)``.
"""

import json
from decimal import Decimal

from .files import DEFAULT_FILE


def _decimal(value):
    return None if value is None else Decimal(value)


_FILE = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"), parse_float=Decimal)
_VERSION = _FILE["versions"][0]

TRIAL = dict(_FILE["trial"])
SITE = dict(_FILE["sites"][0])
VERSION_LABEL = _VERSION["label"]
CRITERIA = [
    (
        c["code"],
        c["kind"],
        c["is_attestation"],
        c["text"],
        c["text_zh_hans"],
        [
            (
                k["variable"],
                k["operator"],
                _decimal(k["value_low"]),
                _decimal(k["value_high"]),
                ",".join(k["values"]),
                k["unit"],
            )
            for k in c["conditions"]
        ],
    )
    for c in _VERSION["criteria"]
]
CONDITION_FLAGS = {
    (c["code"], k["position"]): {
        name: k[name]
        for name in (
            "supporting",
            "lookback_hours",
            "relative_to_uln",
            "lab_uln_replaces",
        )
    }
    for c in _VERSION["criteria"]
    for k in c["conditions"]
}
