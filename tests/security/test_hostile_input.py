"""Property tests: random and hostile input never breaks anything.

The screening form, the bulk upload and the log pages get random and hostile
values. Whatever arrives: never a 5xx, never a stored decision from invalid input,
and valid input (generated too) is always stored.
"""

import csv
import io
import itertools
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from screening.domain.inputs import INPUTS, MAX_SERIES
from screening.domain.variables import CHECKLIST_ITEMS, VARIABLES
from screening.models import EligibilityDecision, PrescreenUpload
from screening.prescreen.files import CSV_COLUMNS, csv_template
from tests.factories import eligible_candidate
from tests.screening.form_data import SCREEN_URL, screening_post
from trials import trial_data

SLUG = "nct06904755"
PRESCREEN_URL = reverse("screening:prescreen", args=[SLUG])

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FEW = settings(PROPERTY, max_examples=15)

MEGABYTE = "9" * 2**20
HOSTILE_TEXT = [
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "sNaN",
    "-0",
    "-0.0",
    "1,5",
    "1.000,5",
    "1e999",
    "1E+999999999",
    "-1e-999",
    "\u0661\u0668\u0660",  # Arabic-Indic 180
    "\uff11\uff18\uff10",  # full-width 180
    "\u0967\u096e\u0966",  # Devanagari 180
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE screening_eligibilitydecision;--",
    "' OR '1'='1",
    "1; SELECT pg_sleep(10)",
    "{{ 7*7 }}",
    "%s%s%n",
    "\x00",
    "a\x00b",
    "\u202e01-001",
    "\ud7ff\ufeff",
    " ",
    "",
    "9" * 400,
    MEGABYTE,
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59",
    "-1",
    "99999999999999999999",
    "yes",
    "no",
    "M",
    "umol/L",
    "mg/dL",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
# A field value as posted: one value, or the same field repeated.
posted_value = st.one_of(hostile_text, st.lists(hostile_text, min_size=2, max_size=3))

# The checklist answers NCT06904755's form shows (the registry also holds the
# second trial's, which its form leaves out and ignores when posted).
TRIAL_CHECKLIST = [
    item
    for item in CHECKLIST_ITEMS
    if any(
        item in VARIABLES[condition[0]].inputs
        for *_head, conditions in trial_data.CRITERIA
        for condition in conditions
    )
]
FORM_FIELDS = [
    name
    for name in screening_post(eligible_candidate())
    if name not in set(CHECKLIST_ITEMS) - set(TRIAL_CHECKLIST)
    and not name.startswith("platelets")
]
FIELD_NAMES = st.one_of(
    st.sampled_from(FORM_FIELDS + ["supersede_reason", "csrfmiddlewaretoken"]),
    st.text(min_size=1, max_size=20),
)

# Values that are wrong for the field whatever else is posted.
NOT_A_NUMBER = [
    "NaN",
    "Infinity",
    "-inf",
    "1,5",
    "abc",
    "<script>alert(1)</script>",
    "'; DROP TABLE x;--",
    "1e999",
    "12345678901234",
    MEGABYTE,
    "\x00",
]
DEFINITELY_INVALID = {
    "screening_number": [
        "",
        "1-1",
        "<script>alert(1)</script>",
        "'; DROP TABLE x;--",
        "01-001; DROP",
        MEGABYTE,
    ],
    "initials": ["Z1", "<b>", "'--", "ABCDE", MEGABYTE, "\x00"],
    "sex": ["X", "<script>", "'; DROP TABLE x;--", "m\x00"],
    "date_of_birth": ["2026-13-01", "<script>", "9999-12-31", "1,5"],
    "screening_date": ["", "9999-12-31", "2026-02-30", "'; DROP TABLE x;--"],
    "tbil_value": [*NOT_A_NUMBER, "1500.01", "-1"],
    "tbil_unit": ["", "mmol/L", "<script>"],
    "tbil_time": ["9999-12-31T23:59", "yesterday", "<script>"],
    "pta_percent": [*NOT_A_NUMBER, "0", "150.5", "-0"],
    "inr": [*NOT_A_NUMBER, "0.4", "15.01", "-0"],
    "creatinine_value": [*NOT_A_NUMBER, "0.5", "3000.1"],
    "creatinine_unit": ["", "g/L", "<script>"],
    "sodium_mmol_l": [*NOT_A_NUMBER, "89.9", "-0"],
    "albumin_value": [*NOT_A_NUMBER, "70.1"],
    "he_grade": ["5", "-1", "1.0", "<script>"],
    "il6_value": [*NOT_A_NUMBER, "-0.1"],
    "crp_uln": ["0", "-1", *NOT_A_NUMBER],
    "liver_failure_stage": ["worse", "<script>"],
    "series-0-value": [*NOT_A_NUMBER, "1500.1"],
    "series-0-time": ["9999-12-31T23:59", "<script>"],
    "series-TOTAL_FORMS": [str(MAX_SERIES + 1), "1000000", "x"],
    **{item: ["maybe", "true", "<script>"] for item in TRIAL_CHECKLIST},
}

_numbers = itertools.count(1)


def next_screening_number() -> str:
    """A fresh number per example: the database is not reset between examples."""
    n = next(_numbers)
    return f"{40 + n // 1000 % 60:02d}-{n % 1000:03d}"


def status_ok(response):
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, response


@pytest.fixture
def coordinator_client(client, trial, coordinator):
    client.force_login(coordinator)
    return client


# --- The screening form ------------------------------------------------------


@PROPERTY
@given(
    invalid=st.lists(
        st.sampled_from(sorted(DEFINITELY_INVALID)).flatmap(
            lambda f: st.tuples(st.just(f), st.sampled_from(DEFINITELY_INVALID[f]))
        ),
        min_size=1,
        max_size=4,
    ),
    noise=st.dictionaries(FIELD_NAMES, posted_value, max_size=4),
)
def test_invalid_screening_input_is_never_stored(coordinator_client, invalid, noise):
    before = EligibilityDecision.unscoped.count()
    data = screening_post(eligible_candidate(screening_number=next_screening_number()))
    data.update(noise)
    data.update(dict(invalid))
    response = coordinator_client.post(SCREEN_URL, data)
    status_ok(response)
    assert response.status_code == HTTPStatus.OK
    assert EligibilityDecision.unscoped.count() == before


@PROPERTY
@given(
    changes=st.dictionaries(FIELD_NAMES, posted_value, max_size=8),
    missing=st.sets(st.sampled_from(FORM_FIELDS), max_size=8),
)
@example(
    changes={"tbil_time": "0001-01-01T00:00"},
    missing={"series-0-time", "series-0-value"},
)
def test_any_screening_input_is_answered_without_a_server_error(
    coordinator_client, changes, missing
):
    before = EligibilityDecision.unscoped.count()
    data = screening_post(eligible_candidate(screening_number=next_screening_number()))
    for name in missing:
        data.pop(name, None)
    data.update(changes)
    response = coordinator_client.post(SCREEN_URL, data)
    status_ok(response)
    if response.status_code == HTTPStatus.FOUND:
        # Whatever was accepted is a complete, valid record.
        decision = EligibilityDecision.unscoped.latest("sequence")
        assert EligibilityDecision.unscoped.count() == before + 1
        assert response.url == decision.get_absolute_url()
        assert decision.outcomes.count() == 14
        assert decision.screening_number.isascii()
    else:
        assert EligibilityDecision.unscoped.count() == before


def _decimal(low, high, places=2):
    return st.decimals(
        min_value=Decimal(low),
        max_value=Decimal(high),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    ).map(lambda d: format(d, "f"))


def _optional(strategy):
    return st.one_of(st.just(""), strategy)


@st.composite
def valid_candidates(draw):
    """A valid screening form POST, varied in every field, with its units."""
    yesterday = timezone.localdate() - timedelta(days=1)
    screened = draw(st.dates(min_value=date(2020, 1, 1), max_value=yesterday))
    # Up to 120 years and a few days short of 121: always a plausible age.
    born = screened - timedelta(days=draw(st.integers(min_value=0, max_value=44190)))
    tbil_unit = draw(st.sampled_from(["umol/L", "mg/dL"]))
    tbil = draw(_decimal(0, 1500) if tbil_unit == "umol/L" else _decimal(0, "87.71"))
    creatinine_unit = draw(st.sampled_from(["umol/L", "mg/dL"]))
    creatinine = draw(
        _decimal(1, 3000) if creatinine_unit == "umol/L" else _decimal("0.02", "33.9")
    )
    albumin_unit = draw(st.sampled_from(["g/L", "g/dL"]))
    current = datetime.combine(screened, datetime.min.time()).replace(hour=8)
    series_count = draw(st.integers(min_value=0, max_value=3))
    data = {
        "screening_number": next_screening_number(),
        "initials": draw(
            st.text(
                alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            ).filter(lambda s: len(s) <= 4)
        ),
        "sex": draw(st.sampled_from(["M", "F"])),
        "date_of_birth": draw(st.sampled_from([born.isoformat(), ""])),
        "screening_date": screened.isoformat(),
        "liver_failure_stage": draw(
            st.sampled_from(["", "early", "intermediate", "late", "none"])
        ),
        "tbil_value": draw(_optional(st.just(tbil))),
        "tbil_unit": tbil_unit,
        "tbil_time": current.strftime("%Y-%m-%dT%H:%M") if series_count else "",
        "pta_percent": draw(_optional(_decimal(1, 150, 1))),
        "inr": draw(_optional(_decimal("0.5", 15))),
        "creatinine_value": draw(_optional(st.just(creatinine))),
        "creatinine_unit": creatinine_unit,
        "dialysis_twice_past_week": draw(st.sampled_from(["", "yes", "no"])),
        "sodium_mmol_l": draw(_optional(_decimal(90, 200, 1))),
        "albumin_value": draw(
            _optional(_decimal(5, 70) if albumin_unit == "g/L" else _decimal("0.5", 7))
        ),
        "albumin_unit": albumin_unit,
        "he_grade": draw(st.sampled_from(["", "0", "1", "2", "3", "4"])),
        "il6_value": draw(_optional(_decimal(0, 100000))),
        "tnf_alpha_value": draw(_optional(_decimal(0, 100000))),
        "crp_value": draw(_optional(_decimal(0, 100))),
        "crp_unit": draw(st.sampled_from(["mg/L", "mg/dL"])),
        "pct_value": draw(_optional(_decimal(0, 1000))),
        "series-TOTAL_FORMS": str(series_count),
        "series-INITIAL_FORMS": "0",
        "series-MIN_NUM_FORMS": "0",
        "series-MAX_NUM_FORMS": "20",
    }
    if not data["tbil_value"]:
        data["tbil_time"] = ""
        data["series-TOTAL_FORMS"] = "0"
        series_count = 0
    # Distinct times: two values at one instant are a conflict (tested apart).
    all_hours = draw(
        st.lists(
            st.integers(min_value=1, max_value=24 * 14),
            min_size=series_count,
            max_size=series_count,
            unique=True,
        )
    )
    for index, hours in enumerate(all_hours):
        unit = draw(st.sampled_from(["umol/L", "mg/dL"]))
        data[f"series-{index}-time"] = (current - timedelta(hours=hours)).strftime(
            "%Y-%m-%dT%H:%M"
        )
        data[f"series-{index}-value"] = draw(
            _decimal(0, 1500) if unit == "umol/L" else _decimal(0, "87.71")
        )
        data[f"series-{index}-unit"] = unit
    for item in TRIAL_CHECKLIST:
        data[item] = draw(st.sampled_from(["", "yes", "no"]))
    if data.get("written_informed_consent") == "yes":
        # Signed consent is recorded with its date and the form's version.
        data["consent_date"] = data["screening_date"]
        data["consent_form_version"] = "V2.0 2025-03-01"
    # Plausible values outside the typical range are recorded once confirmed.
    data["confirmed_unusual"] = [k for k, i in INPUTS.items() if i.typical]
    return data


@PROPERTY
@given(data=valid_candidates())
def test_valid_screening_input_is_always_stored(coordinator_client, data):
    before = EligibilityDecision.unscoped.count()
    response = coordinator_client.post(SCREEN_URL, data)
    if response.status_code != HTTPStatus.FOUND:
        form, formset = response.context["form"], response.context["formset"]
        pytest.fail(f"refused: {form.errors.as_data()} {formset.errors}")
    assert EligibilityDecision.unscoped.count() == before + 1
    decision = EligibilityDecision.unscoped.get(
        screening_number=data["screening_number"]
    )
    assert response.url == decision.get_absolute_url()
    entered = decision.entered
    if data["tbil_value"]:
        assert entered["tbil"]["unit"] == data["tbil_unit"]
        assert Decimal(entered["tbil"]["value"]) == Decimal(data["tbil_value"])
    if data["creatinine_value"]:
        assert entered["creatinine"]["unit"] == data["creatinine_unit"]
    assert len(entered["tbil_series"]) == int(data["series-TOTAL_FORMS"])
    for item in TRIAL_CHECKLIST:
        assert entered[item] == {"": None, "yes": True, "no": False}[data[item]]


# --- The bulk upload -----------------------------------------------------------


def _upload(client, content: bytes, name="candidates.csv"):
    return client.post(
        PRESCREEN_URL, {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def _check_upload(client, response):
    """Never a 5xx; an accepted file shows its results; no decision is stored."""
    status_ok(response)
    if response.status_code == HTTPStatus.FOUND:
        page = client.get(response.url)
        assert page.status_code == HTTPStatus.OK
        status_ok(client.get(response.url, {"show": "ERROR", "page": "2"}))
        csv_response = client.get(response.url + "results.csv")
        assert csv_response.status_code == HTTPStatus.OK
        b"".join(csv_response.streaming_content)
        return page
    assert response.status_code == HTTPStatus.OK
    return None


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8", "surrogatepass")


@FEW
@given(content=st.binary(max_size=3000), name=st.sampled_from(["a.csv", "a.json"]))
def test_random_bytes_upload(coordinator_client, content, name):
    _check_upload(coordinator_client, _upload(coordinator_client, content, name))
    assert not EligibilityDecision.unscoped.exists()


cell = st.one_of(
    st.sampled_from([v for v in HOSTILE_TEXT if v != MEGABYTE]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30),
)


@PROPERTY
@given(
    rows=st.lists(
        st.fixed_dictionaries({}, optional={c: cell for c in CSV_COLUMNS}),
        min_size=1,
        max_size=5,
    )
)
@example(rows=[{"tbil": "180", "tbil_unit": "umol/L", "tbil_time": "0001-01-01T00:00"}])
def test_valid_header_with_hostile_cells(coordinator_client, rows):
    content = _csv(
        [CSV_COLUMNS, *([row.get(c, "") for c in CSV_COLUMNS] for row in rows)]
    )
    page = _check_upload(coordinator_client, _upload(coordinator_client, content))
    assert not EligibilityDecision.unscoped.exists()
    if page is not None:
        assert "<script>alert(1)</script>" not in page.text


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats()
    | st.integers()
    | st.sampled_from(HOSTILE_TEXT[:-12])
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from([*CSV_COLUMNS, "value", "unit", "time", "uln"]) | st.text(),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@PROPERTY
@given(payload=json_values | st.lists(json_values, min_size=1, max_size=4))
def test_json_garbage_upload(coordinator_client, payload):
    content = json.dumps(payload).encode()
    _check_upload(
        coordinator_client, _upload(coordinator_client, content, "candidates.json")
    )
    assert not EligibilityDecision.unscoped.exists()


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        ("screening_number\n01-001 Zh\xe8\n".encode("latin-1"), "a.csv", "encoding"),
        (b"\xff\xfe\x00s\x00c", "a.csv", "encoding"),
        (b"", "a.csv", "empty"),
        (b"initials\nZW\n", "a.csv", "csv_no_header"),
        (b"screening_number\n", "a.csv", "empty"),
        (b"{", "a.json", "not_json"),
        (b'{"screening_number": "01-001"}', "a.json", "not_list"),
        (b"[" * 100000, "a.json", "not_json"),
        (b"[]", "a.json", "empty"),
        (("1" * 5000).encode(), "a.json", "not_json"),
    ],
)
def test_unreadable_uploads_are_refused_at_the_field(
    coordinator_client, content, name, code
):
    response = _upload(coordinator_client, content, name)
    assert response.status_code == HTTPStatus.OK
    errors = response.context["form"].errors.as_data()["file"]
    assert [e.code for e in errors] == [code]
    assert not PrescreenUpload.unscoped.exists()


# Room for the template's header (about 1 KB) and a few rows.
SMALL_LIMIT = 2048


@override_settings(PRESCREEN_MAX_UPLOAD_BYTES=SMALL_LIMIT)
def test_upload_just_over_the_size_limit_is_refused(coordinator_client):
    header = ",".join(CSV_COLUMNS) + "\n"
    row = "01-001" + "," * (len(CSV_COLUMNS) - 1) + "\n"
    at_limit = (header + row * 200).encode()[:SMALL_LIMIT]
    at_limit = at_limit[: at_limit.rfind(b"\n") + 1]
    assert at_limit.count(b"\n") > 2  # the header and rows
    padded = at_limit + b"," * (SMALL_LIMIT - len(at_limit))
    assert len(padded) == SMALL_LIMIT
    assert _upload(coordinator_client, padded).status_code == HTTPStatus.FOUND

    response = _upload(coordinator_client, padded + b",")
    assert response.status_code == HTTPStatus.OK
    errors = response.context["form"].errors.as_data()["file"]
    assert [e.code for e in errors] == ["too_large"]
    assert PrescreenUpload.unscoped.count() == 1


def test_results_page_explains_an_ineligible_row(coordinator_client):
    header, example = list(csv.reader(io.StringIO(csv_template())))
    ineligible = dict(zip(header, example, strict=True))
    ineligible.update(inr="3.5", pta_percent="10")
    content = _csv([header, example, [ineligible[c] for c in header]])
    response = _upload(coordinator_client, content)
    assert response.status_code == HTTPStatus.FOUND
    page = coordinator_client.get(response.url)
    assert page.status_code == HTTPStatus.OK
    decisions = [e["decision"] for e in page.context["page"]]
    assert decisions == ["ELIGIBLE", "INELIGIBLE"]


def test_upload_without_a_file_is_a_field_error(coordinator_client):
    response = coordinator_client.post(PRESCREEN_URL, {"file": ["a", "b"]})
    assert response.status_code == HTTPStatus.OK
    assert [e.code for e in response.context["form"].errors.as_data()["file"]] == [
        "required"
    ]


def _as_csv_row(data: dict) -> dict:
    """The screening form POST as a bulk upload row (same contract names)."""
    row = {
        name: data.get(name, "")
        for name in CSV_COLUMNS
        if name in data and name != "tbil_series"
    }
    for name in ("tbil", "creatinine", "albumin", "il6", "tnf_alpha", "crp", "pct"):
        row[name] = data.get(f"{name}_value", "")
    row["tbil_time"] = data["tbil_time"]
    row["tbil_series"] = "; ".join(
        f"{data[f'series-{i}-time']} {data[f'series-{i}-value']} "
        f"{data[f'series-{i}-unit']}"
        for i in range(int(data["series-TOTAL_FORMS"]))
    )
    return row


@FEW
@given(candidates=st.lists(valid_candidates(), min_size=1, max_size=4))
def test_valid_candidates_upload_is_evaluated_every_row(coordinator_client, candidates):
    rows = [_as_csv_row(data) for data in candidates]
    content = _csv(
        [CSV_COLUMNS, *([row.get(c, "") for c in CSV_COLUMNS] for row in rows)]
    )
    response = _upload(coordinator_client, content)
    assert response.status_code == HTTPStatus.FOUND
    page = coordinator_client.get(response.url)
    entries = list(page.context["page"])
    assert [e["row"] for e in entries] == list(range(1, len(rows) + 1))
    assert all(e["decision"] and not e.get("errors") for e in entries), entries
    assert not EligibilityDecision.unscoped.exists()


# --- The log, funnel and export ------------------------------------------------

FILTERS = [
    "q",
    "outcome",
    "blocking",
    "date_from",
    "date_to",
    "recorded_by",
    "signed",
    "current_only",
    "sort",
    "page",
    "variant",
]
query_params = st.dictionaries(
    st.one_of(st.sampled_from(FILTERS), st.text(min_size=1, max_size=10)),
    st.one_of(
        st.sampled_from([v for v in HOSTILE_TEXT if v != MEGABYTE]),
        st.text(max_size=30),
        st.sampled_from(["-meld", "age", "ELIGIBLE", "I1", "signed", "on", "excel"]),
        st.lists(st.sampled_from(["ELIGIBLE", "x", "-recorded"]), min_size=2),
    ),
    max_size=6,
)


@pytest.fixture
def monitor_client(client, record, monitor):
    record(eligible_candidate(screening_number="01-001"))
    record(eligible_candidate(screening_number="01-002", inr="3.5", pta_percent="10"))
    client.force_login(monitor)
    return client


@PROPERTY
@given(params=query_params)
def test_log_funnel_and_export_with_hostile_parameters(monitor_client, params):
    for name in ("log", "funnel", "export"):
        response = monitor_client.get(reverse(f"screening:{name}", args=[SLUG]), params)
        status_ok(response)
        assert response.status_code == HTTPStatus.OK
        if response.streaming:
            b"".join(response.streaming_content)
