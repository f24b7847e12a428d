"""Synthetic screening numbers: unique, in the protocol's format, past 990,000."""

import pytest

from screening.domain.inputs import INPUTS
from screening.synthetic import LAST_INDEX, screening_number

PATTERN = INPUTS["screening_number"].pattern


@pytest.mark.parametrize(
    "index, number",
    [
        (1, "01-0001"),
        (9_999, "01-9999"),
        (10_000, "02-0000"),
        (989_999, "99-9999"),
        (990_000, "01-000"),
        (990_999, "01-999"),
        (991_000, "02-000"),
        (LAST_INDEX, "99-999"),
    ],
)
def test_numbers_at_each_boundary(index, number):
    assert screening_number(index) == number
    assert PATTERN.match(number)


@pytest.mark.parametrize("index", [-1, LAST_INDEX + 1])
def test_no_number_outside_the_range(index):
    with pytest.raises(ValueError):
        screening_number(index)


def test_a_million_and_more_are_distinct():
    numbers = {screening_number(i) for i in range(LAST_INDEX + 1)}
    assert len(numbers) == LAST_INDEX + 1 >= 1_000_000
