"""A value opened again in the form (a file's row, a record to correct) shows
what the parser read, and a unit the form cannot show is left to choose."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from screening.decisions.forms import (
    ScreeningForm,
    TbilSeriesFormSet,
    field_name,
    initial_from_contract,
    post_data_from_contract,
)
from screening.domain import contract
from screening.domain.inputs import INPUTS, Part
from tests.factories import eligible_candidate
from tests.screening.form_data import SCREEN_URL

SITE_ZONE = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "shown"), [("2.0", "2"), ("02", "2"), (2.0, "2"), (2, "2"), ("Ⅱ级", "2")]
)
def test_he_grade_is_shown_as_the_parser_reads_it(given, shown):
    initial, _series = initial_from_contract({"he_grade": given})
    assert initial["he_grade"] == shown
    assert contract.choice_option("he_grade", given) == shown


@pytest.mark.parametrize("given", ["2.5", "5", "-1", "grade two"])
def test_a_he_grade_the_parser_refuses_is_not_made_a_grade(given):
    assert contract.choice_option("he_grade", given) is None
    initial, _series = initial_from_contract({"he_grade": given})
    assert initial.get("he_grade") in (None, given)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("1980/5/17", "1980-05-17"),
        ("1980-5-7", "1980-05-07"),
        ("1980-05-17", "1980-05-17"),
    ],
)
def test_a_date_is_shown_in_iso_form(given, shown):
    initial, _series = initial_from_contract({"date_of_birth": given})
    assert initial["date_of_birth"] == shown


def test_a_micro_sign_unit_is_shown_as_the_option():
    initial, series = initial_from_contract(
        {
            "tbil": {"value": "200", "unit": "µmol/L"},
            "tbil_series": [
                {"time": "2026-05-30T08:00:00+08:00", "value": "150", "unit": "µmol/L"}
            ],
        }
    )
    assert initial[field_name(INPUTS["tbil"], Part.UNIT)] == "umol/L"
    assert series[0]["unit"] == "umol/L"


def _unit_select(html: str, name: str) -> str:
    start = html.index(f'name="{name}"')
    return html[start : html.index("</select>", start)]


@pytest.mark.parametrize("unit", ["", "mg/dl", "furlongs"])
def test_a_unit_the_form_cannot_show_is_left_to_choose(unit):
    initial, _series = initial_from_contract({"tbil": {"value": "10", "unit": unit}})
    form = ScreeningForm(initial=initial)
    name = field_name(INPUTS["tbil"], Part.UNIT)
    select = _unit_select(str(form[name]), name)
    # The blank option comes first and is selected: the browser posts nothing.
    assert select.index('value=""') < select.index('value="umol/L"')
    assert 'value="" selected' in select
    assert 'value="umol/L" selected' not in select


def test_a_shown_unit_is_kept_and_a_fresh_form_has_no_blank_unit():
    name = field_name(INPUTS["tbil"], Part.UNIT)
    initial, _series = initial_from_contract({"tbil": {"value": "3", "unit": "mg/dL"}})
    select = _unit_select(str(ScreeningForm(initial=initial)[name]), name)
    assert 'value="mg/dL" selected' in select
    assert 'value=""' not in select
    assert 'value=""' not in _unit_select(str(ScreeningForm()[name]), name)


def test_submitting_without_choosing_the_unit_names_the_unit_field():
    name = field_name(INPUTS["tbil"], Part.UNIT)
    data = post_data_from_contract(eligible_candidate(screening_number="09-001"))
    data[name] = ""  # what the browser posts with the blank option selected
    form = ScreeningForm(data=data)
    assert form.is_valid()  # the contract, not the form, asks for the unit
    sent = form.to_contract()
    assert sent["tbil"] == {"value": "180", "time": "2026-06-01T08:00"}
    with pytest.raises(contract.CandidateError) as caught:
        contract.parse_candidate(sent, today=date(2026, 6, 1), tz=SITE_ZONE)
    form.add_problems(caught.value)
    assert [e.code for e in form.errors.as_data()[name]] == ["unit_required"]


def test_a_series_unit_the_form_cannot_show_is_left_to_choose():
    formset = TbilSeriesFormSet(
        initial=[{"time": "2026-05-30T08:00", "value": "150", "unit": "mg/dl"}],
        prefix="series",
    )
    form = formset.forms[0]
    select = _unit_select(str(form["unit"]), "series-0-unit")
    assert 'value="" selected' in select


@pytest.mark.parametrize(
    ("given", "read"), [("ab", "AB"), ("ｚｈ", "ZH"), ("Ab", "AB")]
)
def test_initials_are_upper_cased_as_ascii(given, read):
    data = {**eligible_candidate(), "initials": given}
    candidate = contract.parse_candidate(data, today=None, tz=None)
    assert candidate.values["initials"] == read


@pytest.mark.parametrize("given", ["ß", "ıx", "ﬀ", "é"])
def test_initials_that_are_not_letters_a_to_z_are_refused(given):
    data = {**eligible_candidate(), "initials": given}
    with pytest.raises(contract.CandidateError) as raised:
        contract.parse_candidate(data, today=None, tz=None)
    assert "initials" in raised.value.errors


def test_a_series_measurement_posted_without_its_unit_is_drawn_blank(
    client, trial, coordinator
):
    data = post_data_from_contract(eligible_candidate(screening_number="09-002"))
    data.update(
        {
            "series-TOTAL_FORMS": "1",
            "series-0-time": "2026-05-30T08:00",
            "series-0-value": "150",
            "series-0-unit": "",
        }
    )
    client.force_login(coordinator)
    page = client.post(SCREEN_URL, data)
    assert page.status_code == 200
    body = page.content.decode()
    start = body.index('name="series-0-unit"')
    select = body[start : body.index("</select>", start)]
    # Drawn again with the blank option selected, not the first unit.
    assert 'value="" selected' in select


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2026-06-01T08:00:30+08:00", "2026-06-01T08:00:30"),
        ("2026-06-01T00:00:30.25+00:00", "2026-06-01T08:00:30.25"),
        ("2026-06-01T08:00+08:00", "2026-06-01T08:00"),
    ],
)
def test_a_time_reopened_keeps_its_seconds(stored, shown):
    """A lab time with seconds is shown with them, and the input accepts them."""
    entered = eligible_candidate(
        tbil={"value": "180", "unit": "umol/L", "time": stored},
        tbil_series=[{"time": stored, "value": "150", "unit": "umol/L"}],
    )
    initial, series = initial_from_contract(entered)
    name = field_name(INPUTS["tbil"], Part.TIME)
    assert initial[name] == series[0]["time"] == shown
    form = ScreeningForm(initial=initial)
    step = form.fields[name].widget.attrs.get("step")
    assert step == (None if len(shown) == 16 else "any")
    assert (f'value="{shown}"' in str(form[name])) and (
        ('step="any"' in str(form[name])) == (step == "any")
    )
    formset = TbilSeriesFormSet(initial=series, prefix="series")
    assert formset.forms[0].fields["time"].widget.attrs.get("step") == step
    # Sent again as the browser posts it, the moment is the one stored.
    data = post_data_from_contract(entered)
    assert data[name] == data["series-0-time"] == shown
    sent = ScreeningForm(data=data)
    assert sent.is_valid()
    parsed = contract.parse_candidate(
        sent.to_contract(), today=date(2026, 6, 1), tz=SITE_ZONE
    )
    assert parsed.tbil.time == contract.parse_datetime(stored, SITE_ZONE)
    assert sent.fields[name].widget.attrs.get("step") == step
