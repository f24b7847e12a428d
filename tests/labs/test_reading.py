"""Reading lab messages: FHIR bundles and LIS CSV files onto the registry.

No database: each result is read against the registry and the contract. Every
refusal names where it is, what it is about and a stable code.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from screening.labs import fhir, lis
from screening.labs.reading import LabFileError, read_results
from tests.labs.conftest import bundle_bytes, fixture_bytes, observation

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)


def _read(results):
    return read_results(results, tz=SHANGHAI, now=NOW)


def _codes(problems):
    return {(p.part, p.code) for p in problems}


def test_the_fixture_bundle_reads_as_the_lab_meant_it():
    values, problems = _read(fhir.read_bundle(fixture_bytes("bundle.json").decode()))
    assert problems == []
    by_key = {v.input.key: v for v in values}
    assert set(by_key) == {"tbil", "inr", "creatinine", "il6"}
    tbil = by_key["tbil"]
    assert tbil.screening_number == "01-001"
    assert tbil.entry == {
        "value": "185.3",
        "unit": "umol/L",
        "uln": "17.1",
        "time": "2026-06-01T07:30:00+08:00",
    }
    assert tbil.collected_at == datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    # {INR} is dimensionless: the INR has no unit; 1.90 keeps its digits.
    assert by_key["inr"].entry == {"value": "1.90", "time": "2026-06-01T07:30:00+08:00"}
    assert by_key["creatinine"].entry["unit"] == "mg/dL"
    assert by_key["creatinine"].normalised["value"] == "90.168"
    # Censored: a comparator and a limit, never the number 1.5.
    il6 = by_key["il6"]
    assert il6.entry["value"] == "<1.5"
    assert il6.normalised["comparator"] == "<"
    assert il6.normalised["uln"] == "7.0"


def test_a_prothrombin_time_in_seconds_reads_onto_its_input():
    def edit(data):
        inr = observation(data, 1)
        assert inr["code"]["coding"][0]["code"] == "6301-6"
        inr["code"]["coding"][0]["code"] = "5902-2"
        inr["valueQuantity"] = {
            "value": 21.5,
            "unit": "s",
            "system": "http://unitsofmeasure.org",
            "code": "s",
        }

    values, problems = _read(fhir.read_bundle(bundle_bytes(edit).decode()))
    assert problems == []
    (pt,) = [v for v in values if v.input.key == "pt_seconds"]
    assert pt.entry == {
        "value": "21.5",
        "unit": "s",
        "time": "2026-06-01T07:30:00+08:00",
    }


def _refused(edit):
    values, problems = _read(fhir.read_bundle(bundle_bytes(edit).decode()))
    return values, _codes(problems)


def test_an_unknown_code_is_refused_by_name():
    def edit(data):
        observation(data, 0)["code"]["coding"][0]["code"] = "718-7"

    values, codes = _refused(edit)
    assert ("test", "code_unknown") in codes
    assert "tbil" not in {v.input.key for v in values}


def test_an_unknown_ucum_unit_is_refused_by_name():
    def edit(data):
        quantity = observation(data, 2)["valueQuantity"]
        quantity["code"] = quantity["unit"] = "mg/mL"

    assert ("unit", "unit_unknown") in _refused(edit)[1]


def test_a_unit_that_does_not_fit_the_loinc_code_is_refused():
    def edit(data):
        # 14631-6 is TBil in moles per volume; mg/dL is another test's unit.
        quantity = observation(data, 0)["valueQuantity"]
        quantity["code"] = quantity["unit"] = "mg/dL"
        del observation(data, 0)["referenceRange"]

    assert ("unit", "unit_code_mismatch") in _refused(edit)[1]


def test_a_patient_who_is_no_screening_number_is_refused():
    def edit(data):
        observation(data, 1)["subject"]["identifier"]["value"] = "MRN-778812"

    assert ("patient", "patient_format") in _refused(edit)[1]


def test_a_missing_patient_is_refused():
    def edit(data):
        del observation(data, 1)["subject"]

    assert ("patient", "patient_missing") in _refused(edit)[1]


def test_a_bad_value_is_refused_by_the_contract():
    # A comparator on an input that takes no censored values.
    def edit(data):
        observation(data, 1)["valueQuantity"]["comparator"] = ">"

    assert ("value", "number_invalid") in _refused(edit)[1]


def test_an_implausible_value_is_refused():
    def edit(data):
        observation(data, 1)["valueQuantity"]["value"] = 40

    assert ("value", "implausible") in _refused(edit)[1]


@pytest.mark.parametrize(
    ("time", "code"),
    [
        ("2026-06-01", "datetime_invalid"),  # a date is not a collection time
        ("2026-06-03T08:00:00+08:00", "measurement_future"),
    ],
)
def test_a_bad_collection_time_is_refused(time, code):
    def edit(data):
        observation(data, 2)["effectiveDateTime"] = time

    assert ("time", code) in _refused(edit)[1]


def test_a_missing_collection_time_is_refused():
    def edit(data):
        del observation(data, 2)["effectiveDateTime"]

    assert ("time", "time_missing") in _refused(edit)[1]


def test_a_preliminary_result_is_refused():
    def edit(data):
        observation(data, 0)["status"] = "preliminary"

    assert ("status", "status_not_final") in _refused(edit)[1]


def test_a_reference_range_in_another_unit_is_refused():
    def edit(data):
        high = observation(data, 0)["referenceRange"][0]["high"]
        high["code"] = high["unit"] = "mg/dL"
        high["value"] = 1.0

    assert ("reference range", "reference_unit_mismatch") in _refused(edit)[1]


def test_a_time_given_as_no_fhir_datetime_is_refused_by_the_library():
    def edit(data):
        observation(data, 0)["effectiveDateTime"] = "yesterday"

    with pytest.raises(LabFileError) as refused:
        fhir.read_bundle(bundle_bytes(edit).decode())
    assert refused.value.problems[0]["code"] == "fhir_invalid"
    assert "effectiveDateTime" in refused.value.problems[0]["where"]


def test_not_a_bundle_is_refused():
    with pytest.raises(LabFileError) as refused:
        fhir.read_bundle('{"resourceType": "Patient"}')
    assert refused.value.problems[0]["code"] == "not_bundle"


@pytest.mark.parametrize("name", ["lis-utf8.csv", "lis-gb18030.csv"])
def test_the_lis_export_reads_in_both_encodings(name):
    text, encoding = lis.decode(fixture_bytes(name))
    assert encoding == ("utf-8" if "utf8" in name else "gb18030")
    values, problems = _read(lis.read_csv(text))
    assert problems == []
    by_key = {v.input.key: v for v in values}
    assert set(by_key) == {"tbil", "pta_percent", "creatinine", "il6"}
    assert by_key["tbil"].entry["unit"] == "umol/L"  # μmol/L as written
    assert by_key["tbil"].entry["uln"] == "17.1"
    assert by_key["pta_percent"].entry == {
        "value": "35",
        "unit": "%",
        "time": "2026/06/01 07:30",
    }
    assert by_key["il6"].normalised["comparator"] == "<"
    assert by_key["tbil"].collected_at == datetime(2026, 5, 31, 23, 30, tzinfo=UTC)


def test_a_utf8_bom_is_dropped():
    text, encoding = lis.decode(b"\xef\xbb\xbf" + fixture_bytes("lis-utf8.csv"))
    assert encoding == "utf-8"
    assert text.startswith("筛选号")


def test_undecodable_bytes_are_refused_with_their_line():
    content = fixture_bytes("lis-utf8.csv").replace(
        b"01-001,\xe8\x82\x8c", b"01-001,\x80\xff"
    )
    with pytest.raises(LabFileError) as refused:
        lis.decode(content)
    assert refused.value.problems[0]["code"] == "encoding"
    assert refused.value.problems[0]["params"]["line"] == "4"


def _csv(*rows):
    header = "筛选号,检验项目,结果,单位,参考范围,采集时间"
    return lis.read_csv("\n".join((header, *rows)) + "\n")


@pytest.mark.parametrize(
    ("row", "part", "code"),
    [
        ("01-001,血红蛋白,120,g/L,,2026/06/01 07:30", "test", "code_unknown"),
        ("01-001,肌酐,88,mmol/L,,2026/06/01 07:30", "unit", "unit_unknown"),
        ("张三,肌酐,88,umol/L,,2026/06/01 07:30", "patient", "patient_format"),
        ("01-001,肌酐,八十八,umol/L,,2026/06/01 07:30", "value", "number_invalid"),
        ('01-001,肌酐,"88,4",umol/L,,2026/06/01 07:30', "value", "number_comma"),
        ("01-001,肌酐,88,umol/L,,昨天", "time", "datetime_invalid"),
        (
            "01-001,总胆红素,185,umol/L,正常,2026/06/01 07:30",
            "reference range",
            "reference_range_invalid",
        ),
    ],
)
def test_each_csv_refusal_names_its_part(row, part, code):
    _values, problems = _read(_csv(row))
    assert (part, code) in _codes(problems)
    assert problems[0].where == "line 2"


def test_an_unknown_column_is_refused_by_name():
    with pytest.raises(LabFileError) as refused:
        lis.read_csv("筛选号,检验项目,结果,备注,采集时间\n")
    assert refused.value.problems == [
        {
            "where": "line 1",
            "part": "",
            "code": "header_unknown",
            "params": {"column": "备注"},
        }
    ]


def test_a_csv_cell_over_the_csv_limit_is_refused_naming_the_line():
    from screening.labs.lis import read_csv
    from screening.labs.reading import LabFileError

    header = "patient,test,value,unit,reference_range,collected_at\n"
    text = header + '01-001,TBIL,"' + "1" * 140_000 + '",umol/L,,2026-06-01 08:00\n'
    with pytest.raises(LabFileError) as refused:
        read_csv(text)
    (problem,) = refused.value.problems
    assert (problem["code"], problem["where"]) == ("csv_invalid", "line 2")
    assert "line 2" in refused.value.messages()[0]


def test_an_unclosed_quote_is_refused_not_guessed():
    from screening.labs.lis import read_csv
    from screening.labs.reading import LabFileError

    header = "patient,test,value,unit,reference_range,collected_at\n"
    with pytest.raises(LabFileError) as refused:
        read_csv(header + '01-001,TBIL,"150,umol/L,,2026-06-01 08:00\n')
    assert [p["code"] for p in refused.value.problems] in (
        ["csv_invalid"],
        ["row_length"],
    )
