"""Type and cause of liver failure: information on the form, the record and files.

Two optional choice inputs of the registry, shown on every trial's form,
read from CSV files in English or Chinese, kept on the record and shown back
in the page's language; an unknown code is refused at its field or column. A
missing one changes no decision, as no criterion reads them.
"""

import io
import json
from datetime import UTC
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from screening.assessment import active_criteria
from screening.decisions.context import entered_rows
from screening.decisions.forms import ScreeningForm, post_data_from_contract
from screening.domain import contract, facts
from screening.domain.inputs import CONFIRM_KEY, INPUTS
from screening.domain.variables import VARIABLES, Kind
from screening.models import EligibilityDecision
from screening.prescreen.files import CSV_COLUMNS, csv_template, csv_text
from tests.factories import eligible_candidate
from tests.screening.form_data import SCREEN_URL
from trials import files
from trials.models import Trial

pytestmark = pytest.mark.django_db

KEYS = ("liver_failure_type", "liver_failure_cause")


def _parse(**changes):
    return contract.parse_candidate(
        eligible_candidate(**changes), today=None, tz=UTC, for_record=True
    )


def test_declared_once_as_optional_choices_with_variables():
    for key in KEYS:
        item = INPUTS[key]
        assert item.kind == "choice" and not item.required
        variable = VARIABLES[key]
        assert variable.kind is Kind.CATEGORY
        assert variable.categories == item.option_values
        assert variable.inputs == (key,)
    assert INPUTS["liver_failure_type"].option_values == ("ALF", "SALF", "ACLF", "CLF")
    assert INPUTS["liver_failure_cause"].option_values == (
        "HBV",
        "HCV",
        "OTHER_VIRAL",
        "DILI",
        "ALCOHOL",
        "AUTOIMMUNE",
        "WILSON",
        "AFLP",
        "OTHER",
        "UNKNOWN",
    )


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        ("liver_failure_type", "ACLF", "ACLF"),
        ("liver_failure_type", "慢加急性肝衰竭", "ACLF"),
        ("liver_failure_type", "亚急性肝衰竭", "SALF"),
        ("liver_failure_type", "alf", "ALF"),
        ("liver_failure_cause", "乙肝", "HBV"),
        ("liver_failure_cause", "药物性肝损伤", "DILI"),
        ("liver_failure_cause", "肝豆状核变性", "WILSON"),
        ("liver_failure_cause", "unknown", "UNKNOWN"),
    ],
)
def test_the_parser_reads_codes_and_chinese_terms(key, typed, stored):
    parsed = _parse(**{key: typed})
    assert parsed.values[key] == stored
    assert contract.normalised(parsed)[key] == stored
    # A fact a criterion could compare.
    derived = facts.derive(parsed, tz=UTC)
    assert derived.facts[key].value == stored


@pytest.mark.parametrize("key", KEYS)
def test_an_unknown_code_is_refused_at_its_field(key):
    with pytest.raises(contract.CandidateError) as caught:
        _parse(**{key: "HEPATITIS"})
    assert list(caught.value.problems) == [key]
    assert caught.value.problems[key][0]["code"] == "choice_invalid"


@pytest.mark.parametrize("slug", ["nct06904755", "aclf-pmc6247955"])
def test_both_trials_forms_show_them_in_both_languages(trial, slug):
    if slug != trial.slug:
        call_command("load_trial", "--file", str(files.SHIPPED[slug]), verbosity=0)
    criteria = active_criteria(trial=Trial.objects.get(slug=slug))
    form = ScreeningForm(criteria=criteria)
    for key in KEYS:
        assert key in form.fields
        values = [v for v, _label in form.fields[key].choices]
        assert values == ["", *INPUTS[key].option_values]
    labels = dict(form.fields["liver_failure_type"].choices)
    assert labels["ACLF"] == "Acute-on-chronic liver failure (ACLF)"
    with translation.override("zh-hans"):
        form = ScreeningForm(criteria=criteria)
        type_labels = dict(form.fields["liver_failure_type"].choices)
        cause_labels = dict(form.fields["liver_failure_cause"].choices)
        assert "慢加急性肝衰竭" in str(type_labels["ACLF"])
        assert "亚急性肝衰竭" in str(type_labels["SALF"])
        assert "急性肝衰竭" in str(type_labels["ALF"])
        assert "慢性肝衰竭" in str(type_labels["CLF"])
        assert "乙型肝炎" in str(cause_labels["HBV"])
        assert "药物性肝损伤" in str(cause_labels["DILI"])
        assert str(form.fields["liver_failure_cause"].label) == "肝衰竭病因"


def _post(client, candidate):
    return client.post(
        SCREEN_URL,
        post_data_from_contract(
            {**candidate, CONFIRM_KEY: [k for k, i in INPUTS.items() if i.typical]}
        ),
    )


def test_the_form_records_them_and_the_record_shows_them_back(
    client, trial, coordinator
):
    client.force_login(coordinator)
    candidate = eligible_candidate(liver_failure_type="ACLF", liver_failure_cause="HBV")
    response = _post(client, candidate)
    assert response.status_code == HTTPStatus.FOUND, response.context["form"].errors
    record = EligibilityDecision.unscoped.get(screening_number="01-001")
    assert record.entered["liver_failure_type"] == "ACLF"
    assert record.normalised["liver_failure_cause"] == "HBV"
    page = client.get(reverse("screening:decision", args=[record.pk]))
    rows = {r["key"]: r for r in page.context["entered_rows"]}
    assert rows["liver_failure_type"]["value"] == (
        "Acute-on-chronic liver failure (ACLF)"
    )
    assert rows["liver_failure_cause"]["value"] == "Hepatitis B virus (HBV)"
    with translation.override("zh-hans"):
        rows = {r["key"]: r for r in entered_rows(record.entered)}
        assert rows["liver_failure_type"]["value"] == "慢加急性肝衰竭（ACLF）"
        assert rows["liver_failure_cause"]["label"] == "肝衰竭病因"


def test_missing_they_change_no_decision(client, trial, coordinator):
    client.force_login(coordinator)
    response = _post(client, eligible_candidate())
    assert response.status_code == HTTPStatus.FOUND
    record = EligibilityDecision.unscoped.get(screening_number="01-001")
    assert record.outcome == "ELIGIBLE"
    assert not set(KEYS) & set(record.to_collect)


def test_the_form_puts_an_unknown_code_on_its_field(client, trial, coordinator):
    client.force_login(coordinator)
    data = post_data_from_contract(eligible_candidate())
    data["liver_failure_cause"] = "HEPATITIS"
    response = client.post(SCREEN_URL, data)
    assert response.status_code == HTTPStatus.OK
    errors = response.context["form"].errors.as_data()
    # The form's own choice field refuses it, at the field.
    assert [e.code for e in errors["liver_failure_cause"]] == ["invalid_choice"]
    assert not EligibilityDecision.unscoped.exists()


def test_the_csv_template_and_reader_carry_them(trial, tmp_path):
    assert {"liver_failure_type", "liver_failure_cause"} <= set(CSV_COLUMNS)
    zh_header = csv_template(chinese=True).splitlines()[0].split(",")
    assert "肝衰竭类型" in zh_header and "肝衰竭病因" in zh_header
    example = csv_template().splitlines()[1].split(",")
    header = csv_template().splitlines()[0].split(",")
    assert example[header.index("liver_failure_type")] == "ACLF"
    # A file with Chinese headers and Chinese terms, one row with a bad code.
    text = csv_text(
        [
            eligible_candidate(
                liver_failure_type="慢加急性肝衰竭", liver_failure_cause="乙肝"
            ),
            eligible_candidate(
                screening_number="01-002", liver_failure_cause="HEPATITIS"
            ),
        ]
    )
    names = {i.column(p): i.zh_column(p) for i in INPUTS.values() for p in i.parts}
    lines = text.splitlines()
    lines[0] = ",".join(names[c] for c in lines[0].split(","))
    path = tmp_path / "two.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    call_command("prescreen", str(path), stdout=out)
    first, second = json.loads(out.getvalue())
    assert "errors" not in first
    assert second["decision"] is None
    assert list(second["errors"]) == ["liver_failure_cause"]
