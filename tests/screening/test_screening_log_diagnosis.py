"""The screening log's diagnosis columns come from the registry, not typed by hand."""

import importlib

import pytest

from screening.domain import inputs
from screening.domain.inputs import INPUTS, InputKind, Section
from screening.reports import screening_log


@pytest.fixture
def reloaded_log(monkeypatch):
    """The log module as read with a changed registry; the real one afterwards."""

    def _reload(registry):
        monkeypatch.setattr(inputs, "INPUTS", registry)
        return importlib.reload(screening_log)

    yield _reload
    monkeypatch.undo()
    importlib.reload(screening_log)


def test_the_diagnosis_inputs_are_the_registrys_diagnosis_section():
    assert screening_log.DIAGNOSIS_INPUTS == (
        "liver_failure_type",
        "liver_failure_cause",
    )
    assert screening_log.DIAGNOSIS_INPUTS == tuple(
        key for key, item in INPUTS.items() if item.section is Section.DIAGNOSIS
    )
    # Each is shown by its option's label: a choice input.
    for key in screening_log.DIAGNOSIS_INPUTS:
        assert INPUTS[key].kind is InputKind.CHOICE


def test_an_input_leaving_the_registry_leaves_the_log(reloaded_log):
    registry = {k: v for k, v in INPUTS.items() if k != "liver_failure_cause"}
    log = reloaded_log(registry)
    assert log.DIAGNOSIS_INPUTS == ("liver_failure_type",)
    for kind in (log.RECORDS_LOG, log.SCREENING_LOG):
        columns = [key for key, _title in kind.columns]
        assert "liver_failure_type" in columns
        assert "liver_failure_cause" not in columns
