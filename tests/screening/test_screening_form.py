"""The screening form through its view: field errors by code, nothing recorded.

Every invalid POST must come back with the error at the field (or the formset
row), keep what was entered, and write no decision; a valid POST records one
decision and redirects to its page.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from screening.domain.variables import CHECKLIST_ITEMS
from screening.models import EligibilityDecision
from tests.factories import eligible_candidate
from tests.screening.form_data import SCREEN_URL, screening_post


@pytest.fixture
def screen(client, trial, coordinator):
    """POST the screening form as the coordinator; returns the response."""
    client.force_login(coordinator)

    def _post(data):
        return client.post(SCREEN_URL, data)

    return _post


def field_codes(response, field):
    return [e.code for e in response.context["form"].errors.as_data()[field]]


def series_codes(response, index, field):
    forms = response.context["formset"].forms
    return [e.code for e in forms[index].errors.as_data()[field]]


def series_refused(response, index, field, code):
    """A series row error: at the row's field and on the form, nothing saved."""
    assert response.status_code == HTTPStatus.OK
    assert code in series_codes(response, index, field)
    assert code in field_codes(response, "__all__")
    assert not EligibilityDecision.unscoped.exists()


def refused(response, field, code):
    """The form came back (no redirect), with ``code`` at ``field``, nothing saved."""
    assert response.status_code == HTTPStatus.OK
    assert code in field_codes(response, field)
    assert not EligibilityDecision.unscoped.exists()


def post(**overrides):
    return screening_post(eligible_candidate(), **overrides)


def test_screen_url_uses_the_trial_slug():
    assert reverse("screening:screen", args=["nct06904755"]) == SCREEN_URL


class TestValidPath:
    def test_valid_post_redirects_to_the_decision_page(self, screen, client):
        response = screen(post())
        decision = EligibilityDecision.unscoped.get()
        assert response.status_code == HTTPStatus.FOUND
        assert response.url == decision.get_absolute_url()
        assert response.url == reverse("screening:decision", args=[decision.pk])

        page = client.get(response.url)
        assert page.status_code == HTTPStatus.OK
        assert page.context["decision"] == decision
        assert decision.outcome == EligibilityDecision.Result.ELIGIBLE
        assert 'data-outcome="ELIGIBLE"' in page.text
        rows = page.context["rows"]
        assert len(rows) == 14
        codes = [row["outcome"].code for row in rows]
        assert codes == list(decision.outcomes.values_list("code", flat=True))
        for code in codes:
            assert f'data-code="{code}"' in page.text

    def test_ineligible_decision_shows_the_blocking_criteria(self, screen, client):
        response = screen(post(inr="3.5", pta_percent="10"))
        page = client.get(response.url)
        decision = page.context["decision"]
        assert decision.outcome == EligibilityDecision.Result.INELIGIBLE
        assert decision.blocking_codes
        assert 'data-outcome="INELIGIBLE"' in page.text
        blocking = [
            r["outcome"].code for r in page.context["rows"] if r["outcome"].blocking
        ]
        assert blocking == decision.blocking_codes

    def test_entered_values_are_stored_as_entered_with_units(self, screen):
        screen(
            post(
                tbil_value="10.5",
                tbil_unit="mg/dL",
                creatinine_value="1.2",
                creatinine_unit="mg/dL",
                albumin_value="3.2",
                albumin_unit="g/dL",
                crp_value="1.8",
                crp_unit="mg/dL",
                creatinine_time="2026-06-01T07:30",
                il6_uln="6.4",
            )
        )
        decision = EligibilityDecision.unscoped.get()
        entered = decision.entered
        # Kept exactly as the browser sent it (no offset: the site's zone).
        assert entered["tbil"] == {
            "value": "10.5",
            "unit": "mg/dL",
            "time": "2026-06-01T08:00",
        }
        assert decision.normalised["tbil"]["time"] == "2026-06-01T08:00:00+08:00"
        # Every lab takes a collection time.
        assert entered["creatinine"] == {
            "value": "1.2",
            "unit": "mg/dL",
            "time": "2026-06-01T07:30",
        }
        assert decision.normalised["creatinine"]["time"] == "2026-06-01T07:30:00+08:00"
        assert entered["albumin"] == {"value": "3.2", "unit": "g/dL"}
        assert entered["crp"] == {"value": "1.8", "unit": "mg/dL"}
        assert entered["il6"] == {"value": "25", "unit": "pg/mL", "uln": "6.4"}
        assert entered["tbil_series"] == [
            {"time": "2026-05-31T08:00", "value": "158.6", "unit": "umol/L"}
        ]
        assert entered["pta_percent"] == "35"
        assert entered["inr"] == "1.8"
        assert entered["he_grade"] == "1"
        assert decision.normalised["he_grade"] == 1
        # 10.5 mg/dL is 179.55 umol/L: the conversion is stored next to the entry.
        assert Decimal(decision.computed["tbil_umol_l"]) == Decimal("179.55")

    def test_unanswered_checklist_items_stay_unanswered(self, screen):
        unanswered = {item: "" for item in CHECKLIST_ITEMS[::2]}
        screen(post(dialysis_twice_past_week="", **unanswered))
        entered = EligibilityDecision.unscoped.get().entered
        for item in CHECKLIST_ITEMS:
            if item not in eligible_candidate():
                continue  # the second trial's answers: not on this trial's form
            expected = None if item in unanswered else eligible_candidate()[item]
            assert entered[item] is expected, item
        assert entered["dialysis_twice_past_week"] is None

    def test_missing_checklist_fields_are_unanswered_not_false(self, screen):
        data = post()
        for item in CHECKLIST_ITEMS:
            del data[item]
        screen(data)
        decision = EligibilityDecision.unscoped.get()
        assert all(decision.entered[item] is None for item in CHECKLIST_ITEMS)
        assert decision.outcome == EligibilityDecision.Result.INCOMPLETE


# Not numbers, whatever the field: each is posted alone and must be refused with
# the parser's code (a comma is refused, never read as a dot or a separator).
NOT_NUMBERS = [
    ("tbil_value", "abc", "number_invalid"),
    ("tbil_value", "NaN", "number_invalid"),
    ("tbil_value", "Infinity", "number_invalid"),
    ("tbil_value", "-inf", "number_invalid"),
    ("pta_percent", "35%", "number_invalid"),
    ("inr", "1,5", "number_comma"),
    ("inr", "1.5.1", "number_invalid"),
    ("sodium_mmol_l", "0x10", "number_invalid"),
    ("creatinine_value", "ninety", "number_invalid"),
    ("albumin_value", "3 2", "number_invalid"),
    ("il6_value", "<script>", "number_invalid"),
    ("crp_uln", "--1", "number_invalid"),
    ("tbil_value", "1e3", "number_invalid"),
    # Arabic-Indic digits are not folded (only full-width forms are).
    ("inr", "\u0661.\u0665", "number_invalid"),
    ("series-0-value", "1,58", "number_comma"),
]


class TestBadNumbers:
    def test_not_a_number(self, screen):
        # One loop rather than one test per value: each test loads the trial.
        for field, value, code in NOT_NUMBERS:
            response = screen(post(**{field: value}))
            assert response.status_code == HTTPStatus.OK, value
            if field.startswith("series-"):
                assert series_codes(response, 0, "value") == [code], value
                assert field_codes(response, "__all__") == [code], value
            else:
                assert field_codes(response, field) == [code], value
        assert not EligibilityDecision.unscoped.exists()

    def test_underscore_digit_grouping_is_not_a_number(self, screen):
        # Python's Decimal reads "1_5" as 15: an INR of 15 must not be recorded
        # from it.
        refused(screen(post(inr="1_5")), "inr", "number_invalid")

    def test_full_width_digits_and_chinese_full_stop_are_read(self, screen):
        # A Chinese input method types "３５" and "1。8": the same digits and dot.
        response = screen(post(pta_percent="\uff13\uff15", inr="1\u30028"))
        assert response.status_code == HTTPStatus.FOUND
        decision = EligibilityDecision.unscoped.get()
        assert decision.entered["pta_percent"] == "\uff13\uff15"
        assert decision.entered["inr"] == "1\u30028"
        assert decision.normalised["pta_percent"] == "35"
        assert decision.normalised["inr"] == "1.8"

    def test_chinese_full_stop_in_a_quantity(self, screen):
        screen(post(creatinine_value="88\u30024"))
        decision = EligibilityDecision.unscoped.get()
        assert decision.normalised["creatinine"]["value"] == "88.4"

    def test_many_digits_above_the_bounds_are_implausible(self, screen):
        refused(screen(post(tbil_value="12345678901234")), "tbil_value", "implausible")

    def test_any_number_of_decimals_is_accepted(self, screen):
        # No decimal-places limit any more: the value is not rounded.
        assert screen(post(tbil_value="180.123456")).status_code == HTTPStatus.FOUND
        decision = EligibilityDecision.unscoped.get()
        assert decision.entered["tbil"]["value"] == "180.123456"
        assert decision.normalised["tbil"]["value"] == "180.123456"

    def test_21_significant_digits_are_accepted_and_kept_exactly(self, screen):
        value = "180." + "1" * 18
        assert screen(post(tbil_value=value)).status_code == HTTPStatus.FOUND
        decision = EligibilityDecision.unscoped.get()
        assert decision.entered["tbil"]["value"] == value
        assert decision.normalised["tbil"]["value"] == value

    def test_more_significant_digits_are_refused_not_rounded(self, screen):
        # 32 characters: the 28-digit arithmetic used to record 180.1...1 rounded.
        value = "180." + "1" * 28
        refused(screen(post(tbil_value=value)), "tbil_value", "number_too_precise")
        assert not EligibilityDecision.unscoped.exists()

    def test_more_than_32_characters_is_not_a_number(self, screen):
        refused(
            screen(post(tbil_value="180." + "1" * 29)), "tbil_value", "number_invalid"
        )


class TestUnits:
    @pytest.mark.parametrize(
        ("field", "unit"),
        [
            ("tbil_unit", "mmol/L"),
            ("tbil_unit", ""),
            ("creatinine_unit", "g/L"),
            ("albumin_unit", "umol/L"),
            ("crp_unit", "pg/mL"),
        ],
    )
    def test_unit_not_in_the_choices(self, screen, field, unit):
        code = "unit_required" if unit == "" else "invalid_choice"
        refused(screen(post(**{field: unit})), field, code)

    def test_a_value_whose_unit_is_not_posted_is_refused_not_assumed(self, screen):
        data = post()
        del data["tbil_unit"]
        refused(screen(data), "tbil_unit", "unit_required")

    def test_a_timed_number_is_sent_without_a_unit_it_does_not_take(self, screen):
        response = screen(post(pta_percent="35", pta_percent_time="2026-06-01T07:00"))
        assert response.status_code == HTTPStatus.FOUND
        entered = EligibilityDecision.unscoped.get().entered
        assert entered["pta_percent"] == {"value": "35", "time": "2026-06-01T07:00"}

    def test_a_blank_unit_with_no_value_asks_for_nothing(self, screen):
        """Opened with a blank unit to choose, the value cleared: no unit needed."""
        response = screen(post(pct_value="", pct_unit="", pct_uln=""))
        assert response.status_code == HTTPStatus.FOUND
        decision = EligibilityDecision.unscoped.get()
        assert decision.entered["pct"] is None

    def test_series_unit_not_in_the_choices(self, screen):
        response = screen(post(**{"series-0-unit": "mol"}))
        assert series_codes(response, 0, "unit") == ["invalid_choice"]
        assert not EligibilityDecision.unscoped.exists()


class TestDates:
    def test_screening_date_in_the_future(self, screen):
        tomorrow = timezone.localdate() + timedelta(days=1)
        refused(
            screen(post(screening_date=tomorrow.isoformat())),
            "screening_date",
            "screening_date_future",
        )

    def test_tbil_time_in_the_future(self, screen):
        later = timezone.localtime() + timedelta(days=1)
        refused(
            screen(post(tbil_time=later.strftime("%Y-%m-%dT%H:%M"))),
            "tbil_time",
            "measurement_future",
        )

    @pytest.fixture
    def noon_on_screening_day(self, monkeypatch):
        """The clock at 2026-06-01 12:00 in the site's zone (the screening date)."""
        now = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        monkeypatch.setattr(timezone, "now", lambda: now)

    def test_tbil_time_on_the_next_day_is_in_the_future(
        self, screen, noon_on_screening_day
    ):
        refused(
            screen(post(tbil_time="2026-06-02T08:00")),
            "tbil_time",
            "measurement_future",
        )

    def test_tbil_time_later_today_is_in_the_future(
        self, screen, noon_on_screening_day
    ):
        refused(
            screen(post(tbil_time="2026-06-01T14:00")),
            "tbil_time",
            "measurement_future",
        )

    def test_series_time_in_the_future(self, screen):
        later = timezone.localtime() + timedelta(days=2)
        response = screen(post(**{"series-0-time": later.strftime("%Y-%m-%dT%H:%M")}))
        series_refused(response, 0, "time", "measurement_future")

    def test_date_of_birth_in_the_future(self, screen):
        tomorrow = timezone.localdate() + timedelta(days=1)
        response = screen(
            post(
                date_of_birth=tomorrow.isoformat(), screening_date=tomorrow.isoformat()
            )
        )
        refused(response, "date_of_birth", "date_of_birth_future")

    def test_date_of_birth_after_the_screening_date(self, screen):
        refused(
            screen(post(date_of_birth="2026-06-02")),
            "date_of_birth",
            "date_of_birth_after_screening",
        )

    @pytest.mark.parametrize("value", ["2026-13-01", "01/06/2026x", "yesterday"])
    def test_not_a_date(self, screen, value):
        refused(screen(post(screening_date=value)), "screening_date", "date_invalid")

    @pytest.mark.parametrize("value", ["2026-06-01T25:00", "08:00", "soon"])
    def test_not_a_date_and_time(self, screen, value):
        refused(screen(post(tbil_time=value)), "tbil_time", "datetime_invalid")

    def test_previous_tbil_later_than_the_current_one(self, screen):
        response = screen(post(**{"series-0-time": "2026-06-01T09:00"}))
        assert response.status_code == HTTPStatus.OK
        assert field_codes(response, "__all__") == ["series_after_current"]
        assert series_codes(response, 0, "time") == ["series_after_current"]
        assert not EligibilityDecision.unscoped.exists()

    def test_series_value_without_a_time(self, screen):
        response = screen(post(**{"series-0-time": ""}))
        # Reported at the part that is missing.
        series_refused(response, 0, "time", "series_item_incomplete")

    def test_two_tbil_values_at_the_same_time_conflict(self, screen):
        response = screen(post(**{"series-0-time": "2026-06-01T08:00"}))
        series_refused(response, 0, "value", "tbil_conflict")

    def test_the_same_tbil_value_twice_is_merged(self, screen):
        data = post(**{"series-0-time": "2026-06-01T08:00", "series-0-value": "180"})
        assert screen(data).status_code == HTTPStatus.FOUND
        assert EligibilityDecision.unscoped.get().normalised["tbil_series"] == []

    def test_measurement_time_near_year_one_is_implausible(self, screen):
        # Near year 1, converting the time to UTC overflows.
        data = post(
            tbil_time="0001-01-02T00:00", **{"series-0-time": "0001-01-01T00:00"}
        )
        response = screen(data)
        refused(response, "tbil_time", "year_implausible")
        assert series_codes(response, 0, "time") == ["year_implausible"]

    def test_date_of_birth_in_year_one_is_implausible(self, screen):
        refused(
            screen(post(date_of_birth="0001-01-01")),
            "date_of_birth",
            "year_implausible",
        )


# (field, value, unit field, unit, accepted): bounds are inclusive. Every
# accepted bound is outside the typical range, so it needs a confirmation.
BOUNDS = [
    ("tbil_value", "0", "tbil_unit", "umol/L", True),
    ("tbil_value", "1500", "tbil_unit", "umol/L", True),
    ("tbil_value", "1500.01", "tbil_unit", "umol/L", False),
    ("tbil_value", "-0.01", "tbil_unit", "umol/L", False),
    # 1500 umol/L is 87.719... mg/dL.
    ("tbil_value", "87.7192", "tbil_unit", "mg/dL", True),
    ("tbil_value", "87.7193", "tbil_unit", "mg/dL", False),
    ("tbil_value", "1500", "tbil_unit", "mg/dL", False),
    ("inr", "0.5", None, None, True),
    ("inr", "15", None, None, True),
    ("inr", "0.49", None, None, False),
    ("inr", "15.01", None, None, False),
    ("pta_percent", "1", None, None, True),
    ("pta_percent", "150", None, None, True),
    ("pta_percent", "0.99", None, None, False),
    ("pta_percent", "150.01", None, None, False),
]
INPUT_OF_FIELD = {"tbil_value": "tbil", "inr": "inr", "pta_percent": "pta_percent"}


class TestPlausibility:
    def test_bounds(self, screen):
        for number, (field, value, unit_field, unit, ok) in enumerate(BOUNDS):
            overrides = {field: value, "screening_number": f"07-{number:03d}"}
            if unit_field:
                overrides[unit_field] = unit
            confirmed = {"confirmed_unusual": [INPUT_OF_FIELD[field]]}
            before = EligibilityDecision.unscoped.count()
            case = (field, value, unit)
            if ok:
                # Plausible but unusual: refused until confirmed, then recorded.
                response = screen(post(**overrides))
                assert response.status_code == HTTPStatus.OK, case
                assert field_codes(response, field) == ["unusual"], case
                assert EligibilityDecision.unscoped.count() == before, case
                response = screen(post(**overrides, **confirmed))
                assert response.status_code == HTTPStatus.FOUND, case
                assert EligibilityDecision.unscoped.count() == before + 1, case
            else:
                # A confirmation does not make an implausible value acceptable.
                response = screen(post(**overrides, **confirmed))
                assert response.status_code == HTTPStatus.OK, case
                assert field_codes(response, field) == ["implausible"], case
                assert EligibilityDecision.unscoped.count() == before, case

    def test_typical_value_needs_no_confirmation(self, screen):
        # The typical range is inclusive: 3 and 850 umol/L are recorded as is.
        for number, value in enumerate(["3", "850"]):
            data = post(tbil_value=value, screening_number=f"07-{number:03d}")
            assert screen(data).status_code == HTTPStatus.FOUND, value
        assert EligibilityDecision.unscoped.count() == 2

    def test_unusual_value_is_offered_for_confirmation(self, screen):
        response = screen(post(creatinine_value="884"))
        refused(response, "creatinine_value", "unusual")
        assert 'id="confirm-unusual"' in response.text
        assert 'value="creatinine"' in response.text
        # Confirming another input does not confirm this one.
        response = screen(post(creatinine_value="884", confirmed_unusual=["tbil"]))
        refused(response, "creatinine_value", "unusual")
        response = screen(
            post(creatinine_value="884", confirmed_unusual=["creatinine"])
        )
        assert response.status_code == HTTPStatus.FOUND
        decision = EligibilityDecision.unscoped.get()
        assert decision.entered["confirmed_unusual"] == ["creatinine"]

    @pytest.mark.parametrize(("value", "ok"), [("1500", True), ("1500.5", False)])
    def test_series_bounds(self, screen, value, ok):
        response = screen(post(**{"series-0-value": value}, confirmed_unusual=["tbil"]))
        if ok:
            assert response.status_code == HTTPStatus.FOUND
        else:
            series_refused(response, 0, "value", "implausible")

    def test_unusual_series_value_needs_a_confirmation(self, screen):
        response = screen(post(**{"series-0-value": "1500"}))
        series_refused(response, 0, "value", "unusual")

    def test_unusual_series_value_can_be_confirmed_from_the_page(self, screen):
        response = screen(post(**{"series-0-value": "1500"}))
        assert 'id="confirm-unusual"' in response.text
        assert 'value="tbil"' in response.text

    @pytest.mark.parametrize(
        ("date_of_birth", "ok"),
        [("1906-06-01", True), ("1905-06-02", True), ("1905-06-01", False)],
    )
    def test_age_up_to_120(self, screen, date_of_birth, ok):
        response = screen(post(date_of_birth=date_of_birth))
        if ok:
            assert response.status_code == HTTPStatus.FOUND
            assert EligibilityDecision.unscoped.get().age_years <= 120
        else:
            refused(response, "date_of_birth", "age_implausible")

    def test_lab_upper_limit_must_be_positive(self, screen):
        refused(screen(post(crp_uln="0")), "crp_uln", "uln_not_positive")

    def test_lab_upper_limit_without_a_value(self, screen):
        refused(
            screen(post(pct_value="", pct_uln="0.05")), "pct_value", "value_required"
        )


class TestIdentification:
    @pytest.mark.parametrize("value", ["1-001", "01-01", "01-00001", "AB-001", ""])
    def test_screening_number_format(self, screen, value):
        code = "required" if value == "" else "screening_number_format"
        refused(screen(post(screening_number=value)), "screening_number", code)

    def test_screening_number_in_other_scripts_digits_is_refused(self, screen):
        # "٠١-٠٠١" is not the site's format and would slip past the uniqueness of
        # "01-001".
        refused(
            screen(post(screening_number="\u0660\u0661-\u0660\u0660\u0661")),
            "screening_number",
            "screening_number_format",
        )

    @pytest.mark.parametrize("value", ["Z1", "Z.W", "<b>", "Zé"])
    def test_initials_are_letters(self, screen, value):
        refused(screen(post(initials=value)), "initials", "initials_format")

    def test_initials_too_long(self, screen):
        refused(screen(post(initials="ABCDE")), "initials", "initials_format")

    def test_sex_not_in_the_choices(self, screen):
        refused(screen(post(sex="X")), "sex", "invalid_choice")

    def test_duplicate_screening_number_is_a_field_error(self, screen):
        assert screen(post()).status_code == HTTPStatus.FOUND
        response = screen(post(initials="AB"))
        assert response.status_code == HTTPStatus.OK
        assert field_codes(response, "screening_number") == ["screening_number_taken"]
        assert EligibilityDecision.unscoped.count() == 1


def test_every_other_entry_is_kept_after_an_error(screen):
    data = post(inr="15.5", il6_uln="6.4")
    response = screen(data)
    assert response.status_code == HTTPStatus.OK
    form, formset = response.context["form"], response.context["formset"]
    assert list(form.errors) == ["inr"]
    for name, value in data.items():
        if name.startswith("series-") or name not in form.fields:
            continue  # the series, and inputs this trial's form does not show
        assert str(form[name].value()) == value, name
    assert formset.forms[0]["time"].value() == data["series-0-time"]
    assert formset.forms[0]["value"].value() == "158.6"
    assert formset.forms[0]["unit"].value() == "umol/L"
    html = response.text
    assert 'value="01-001"' in html
    assert 'value="158.6"' in html
    assert 'value="15.5"' in html
    assert not EligibilityDecision.unscoped.exists()


class TestCorrection:
    def test_correction_needs_a_reason_and_supersedes(self, screen, client, trial):
        screen(post())
        original = EligibilityDecision.unscoped.get()
        url = reverse("screening:correct", args=[original.pk])
        assert url == f"/decisions/{original.pk}/correct/"
        assert client.get(url).status_code == HTTPStatus.OK

        corrected = post(inr="3.5")
        response = client.post(url, corrected)
        refused_correction = response.context["form"].errors.as_data()
        assert response.status_code == HTTPStatus.OK
        assert [e.code for e in refused_correction["supersede_reason"]] == ["required"]
        assert EligibilityDecision.unscoped.count() == 1

        response = client.post(url, {**corrected, "supersede_reason": "   "})
        assert response.status_code == HTTPStatus.OK
        assert EligibilityDecision.unscoped.count() == 1

        response = client.post(
            url, {**corrected, "supersede_reason": "INR typed from the wrong sample"}
        )
        assert response.status_code == HTTPStatus.FOUND
        correction = EligibilityDecision.unscoped.exclude(pk=original.pk).get()
        assert response.url == correction.get_absolute_url()
        assert correction.supersedes == original
        assert correction.supersede_reason == "INR typed from the wrong sample"
        assert correction.screening_number == original.screening_number
        assert correction.entered["inr"] == "3.5"
        original.refresh_from_db()
        assert original.entered["inr"] == "1.8"

        page = client.get(reverse("screening:candidate", args=[original.pk]))
        assert page.status_code == HTTPStatus.OK
        assert [d.pk for d in page.context["chain"]] == [original.pk, correction.pk]
        assert original.get_absolute_url() in page.text
        assert correction.get_absolute_url() in page.text

    def test_screening_number_cannot_be_changed_by_a_correction(self, screen, client):
        screen(post())
        original = EligibilityDecision.unscoped.get()
        client.post(
            reverse("screening:correct", args=[original.pk]),
            post(screening_number="09-999", supersede_reason="re-screen"),
        )
        assert set(
            EligibilityDecision.unscoped.values_list("screening_number", flat=True)
        ) == {"01-001"}

    def test_correcting_a_superseded_record_goes_to_the_latest(self, screen, client):
        screen(post())
        original = EligibilityDecision.unscoped.get()
        url = reverse("screening:correct", args=[original.pk])
        client.post(url, post(supersede_reason="first"))
        latest = EligibilityDecision.unscoped.exclude(pk=original.pk).get()
        response = client.post(url, post(supersede_reason="second"))
        assert response.status_code == HTTPStatus.FOUND
        assert response.url == reverse("screening:correct", args=[latest.pk])
        assert EligibilityDecision.unscoped.count() == 2
