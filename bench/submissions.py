"""Screening form POSTs as a browser sends them, for the load and the profile.

Built by the app's own builder from synthetic candidates of the input contract,
so the benchmarks post exactly the fields the registry declares.
"""

import os
import random
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()

from screening import synthetic  # noqa: E402
from screening.decisions.forms import post_data_from_contract  # noqa: E402
from screening.domain.inputs import CONFIRM_KEY, INPUTS  # noqa: E402

SCREEN = "/trials/nct06904755/screen/"
_TYPICAL = [key for key, item in INPUTS.items() if item.typical]


def valid_post(number: str, rng: random.Random) -> dict:
    """The screening form as a browser posts it; values vary the outcome."""
    data = synthetic.candidate(rng, 1, date(2026, 6, 1))
    data["screening_number"] = number
    # Synthetic values may fall outside a typical range: confirmed, as a
    # coordinator would after checking them.
    data[CONFIRM_KEY] = _TYPICAL
    return post_data_from_contract(data)
