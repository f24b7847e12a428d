"""The screening form's POST body for a candidate in the input contract."""

from screening.decisions.forms import post_data_from_contract

SCREEN_URL = "/trials/nct06904755/screen/"


def screening_post(candidate: dict, **overrides) -> dict:
    """The fields a browser posts for ``candidate``; ``overrides`` replace fields."""
    data = post_data_from_contract(candidate)
    data.update(overrides)
    return data
