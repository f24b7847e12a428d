"""Trials as files: load, export, round trip, idempotence, refusals naming the field."""

import copy
import json
import re
from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models, transaction
from django.utils import translation

from screening.assessment import active_criteria
from screening.criteria import _CACHE
from screening.decisions.forms import ScreeningForm
from tests.factories import TEST_PASSWORD, UserFactory, member_of_every_trial
from trials import files
from trials.models import Condition, CriteriaVersion, Criterion, Site, Trial
from trials.services import trial_file_export, trial_file_load, version_draft_create

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NCT = files.SHIPPED["nct06904755"]
ACLF = files.SHIPPED["aclf-pmc6247955"]


@pytest.fixture(autouse=True)
def _criteria_cache_of_this_test_only():
    """The active criteria cache is keyed by version id, and SQLite hands a
    rolled-back test's ids out again: this module loads another trial under
    them, so neither it nor the next test may read the other's criteria."""
    _CACHE.clear()
    yield
    _CACHE.clear()
    # A page asked for in Chinese leaves the thread's language behind.
    translation.deactivate()


def shipped(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(tmp_path, data, name="trial.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def load(path) -> str:
    out = StringIO()
    call_command("load_trial", "--file", str(path), stdout=out)
    return out.getvalue()


def export(slug: str) -> str:
    out = StringIO()
    call_command("export_trial", "--trial", slug, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() + model.history.count()
        for model in (Trial, Site, CriteriaVersion, Criterion, Condition)
    )


def without_load_facts(data: dict) -> dict:
    """A file's content without what a load adds or leaves out (its source, the
    time a version loaded as active came in force)."""
    data = copy.deepcopy(data)
    data.pop("source", None)
    for version in data["versions"]:
        version["effective_from"] = None
    return data


# --- Loading the shipped files ---------------------------------------------------


@pytest.mark.parametrize("path", [NCT, ACLF], ids=["nct06904755", "aclf"])
def test_a_shipped_file_exports_as_written(path):
    trial = trial_file_load(path=path).trial
    exported = json.loads(trial_file_export(trial=trial))
    assert without_load_facts(exported) == without_load_facts(shipped(path))
    active = trial.versions.get(state=CriteriaVersion.State.ACTIVE)
    assert active.effective_from is not None


def test_the_shipped_nct_file_marks_pct_supporting_and_the_markers_uln():
    trial = trial_file_load(path=NCT).trial
    i6 = Condition.objects.filter(criterion__trial=trial, criterion__code="I6")
    assert set(i6.filter(supporting=True).values_list("variable", flat=True)) == {
        "pct_ng_ml"
    }
    assert set(i6.values_list("lab_uln_replaces", flat=True)) == {True}
    assert i6.count() == 4


@pytest.mark.criterion("ACLF:I1", "ACLF:I5", "ACLF:E7")
def test_the_second_trial_loads_with_its_amendment_as_a_draft():
    out = load(ACLF)
    trial = Trial.objects.get(slug="aclf-pmc6247955")
    v1, v2 = trial.versions.order_by("number")
    assert (v1.state, v2.state) == ("ACTIVE", "DRAFT")
    assert v2.based_on == v1
    assert not hasattr(v2, "activation") or v2.activation is None
    assert "version 2: loaded as DRAFT" in out
    assert [c.code for c in v1.criteria.order_by("position")] == [
        *(f"I{n}" for n in range(1, 8)),
        *(f"E{n}" for n in range(1, 10)),
    ]
    assert all(c.text_zh_hans for c in Criterion.objects.filter(trial=trial))
    age = Condition.objects.get(criterion__version=v2, criterion__code="I1")
    assert (age.value_low, age.value_high) == (D(15), D(66))
    platelets = Condition.objects.get(criterion__version=v2, criterion__code="E7")
    assert platelets.value_low == D(40)
    tbil = Condition.objects.get(
        criterion__version=v1, criterion__code="I4", variable="tbil_umol_l"
    )
    assert tbil.relative_to_uln and tbil.value_low == D(5)


@pytest.mark.criterion("ACLF:I1")
def test_the_amendment_dry_run_runs_from_the_command(client):
    trial = trial_file_load(path=ACLF).trial
    from screening.decisions.services import decision_record
    from tests.screening.domain.test_aclf_criteria import (
        aclf_candidate,
        born_years_before,
    )

    coordinator = UserFactory(username="aclf-coordinator", role="Coordinator")
    member_of_every_trial(coordinator, "Coordinator")
    decision_record(
        trial=trial,
        data=aclf_candidate(
            screening_number="01-015", date_of_birth=born_years_before(15)
        ),
        user=coordinator,
    )
    out = StringIO()
    call_command("criteria_impact", "--trial", trial.slug, "--version", "2", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["from_version"], report["to_version"]) == (1, 2)
    assert report["evaluated"] == 1
    (flip,) = report["flips"]
    assert (flip["screening_number"], flip["from"], flip["to"]) == (
        "01-015",
        "INELIGIBLE",
        "ELIGIBLE",
    )


def test_load_trial_without_a_file_loads_nct06904755_idempotently():
    first = StringIO()
    call_command("load_trial", stdout=first)
    assert "created" in first.getvalue()
    before = counts()
    second = StringIO()
    call_command("load_trial", stdout=second)
    assert "unchanged" in second.getvalue()
    assert counts() == before


@pytest.mark.parametrize("path", [NCT, ACLF], ids=["nct06904755", "aclf"])
def test_a_second_load_of_the_same_file_changes_nothing_and_says_so(path):
    load(path)
    before = counts()
    out = load(path)
    assert "unchanged" in out
    assert "kept" not in out
    assert counts() == before


def test_a_reload_keeps_what_differs_here_and_names_it():
    trial = trial_file_load(path=ACLF).trial
    Trial.objects.filter(pk=trial.pk).update(status=Trial.Status.CLOSED)
    draft = trial.versions.get(number=2)
    condition = Condition.objects.get(criterion__version=draft, criterion__code="E7")
    condition.value_low = D(30)
    condition._change_reason = "test"
    condition.save()
    out = load(ACLF)
    assert "unchanged" in out
    assert "kept: trial: status differ" in out
    assert "kept: version 2: differs from the file" in out
    condition.refresh_from_db()
    assert condition.value_low == D(30)


# --- Round trip --------------------------------------------------------------------


def _sign(version, trial):
    from screening.versions.services import impact_report_record, version_activate

    signer = UserFactory(username="files-admin", role="Trial admin")
    member_of_every_trial(signer, "Trial admin")
    report = impact_report_record(version=version, user=signer)
    version_activate(
        version=version, user=signer, password=TEST_PASSWORD, report=report
    )


def test_an_export_loaded_into_an_empty_database_exports_byte_for_byte(tmp_path):
    """Export, load into an empty database, export again: the same bytes.

    The source has every state and field: v1 retired, v2 (the amendment)
    signed and active, a draft v3 with a default window, a lookback window
    and a ULN choice. The empty database is the test's own, as it was before
    (the source is rolled back to a savepoint).
    """

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            trial = trial_file_load(path=ACLF).trial
            trial_file_load(path=NCT)
            _sign(trial.versions.get(number=2), trial)
            draft = version_draft_create(trial=trial, user=None, label="Amendment 3")
            draft.default_lookback_hours = 72
            draft.ethics_reference = "EC-2026-017"
            draft._change_reason = "test"
            draft.save()
            creatinine = Condition.objects.get(
                criterion__version=draft, criterion__code="E8"
            )
            creatinine.lookback_hours = 48
            creatinine.lab_uln_replaces = False
            creatinine._change_reason = "test"
            creatinine.save()
            first = export(trial.slug)
            first_nct = export("nct06904755")
            raise Rollback
    except Rollback:
        pass
    assert not Trial.objects.exists()
    states = [v["state"] for v in json.loads(first)["versions"]]
    assert states == ["RETIRED", "ACTIVE", "DRAFT"]

    load(write(tmp_path, json.loads(first), "aclf.json"))
    path = tmp_path / "nct.json"
    path.write_text(first_nct, encoding="utf-8")
    load(path)
    assert export("aclf-pmc6247955") == first
    assert export("nct06904755") == first_nct


def test_export_writes_a_file_with_file(tmp_path):
    trial_file_load(path=ACLF)
    target = tmp_path / "out.json"
    call_command(
        "export_trial",
        "--trial",
        "aclf-pmc6247955",
        "--file",
        str(target),
        stderr=StringIO(),
    )
    assert target.read_text(encoding="utf-8") == export("aclf-pmc6247955")


def test_export_of_an_unknown_trial_is_refused():
    with pytest.raises(CommandError, match="no trial 'nope'"):
        call_command("export_trial", "--trial", "nope", stdout=StringIO())


def test_a_threshold_typed_in_another_unit_of_its_analyte_is_stored_canonically(
    tmp_path,
):
    data = shipped(ACLF)
    (e8,) = [c for c in data["versions"][0]["criteria"] if c["code"] == "E8"]
    e8["conditions"][0].update(value_low=1.5, unit="mg/dL")
    load(write(tmp_path, data))
    stored = Condition.objects.get(criterion__version__number=1, criterion__code="E8")
    assert (stored.value_low, stored.unit) == (D("132.6"), "umol/L")
    assert "unchanged" in load(ACLF)


# --- Refusals ------------------------------------------------------------------------


def _crp(data):
    (i6,) = [c for c in data["versions"][0]["criteria"] if c["code"] == "I6"]
    return i6["conditions"][2]


def _version(data, index=0):
    return data["versions"][index]


REFUSALS = [
    (
        "wrong-analyte-unit",
        lambda d: _crp(d).update(unit="pg/mL"),
        "versions[0].criteria[5].conditions[2].unit",
        "pg/mL is not a unit of crp_mg_l",
    ),
    (
        "unknown-unit",
        lambda d: _crp(d).update(unit="furlongs"),
        "versions[0].criteria[5].conditions[2].unit",
        "furlongs",
    ),
    (
        "unknown-variable",
        lambda d: _crp(d).update(variable="crp_typo"),
        "versions[0].criteria[5].conditions[2].variable",
        "crp_typo",
    ),
    (
        "number-as-word",
        lambda d: _crp(d).update(value_low="ten"),
        "versions[0].criteria[5].conditions[2].value_low",
        "must be a number",
    ),
    (
        "unknown-field",
        lambda d: _crp(d).update(threshold=10),
        "versions[0].criteria[5].conditions[2].threshold",
        "unknown field",
    ),
    (
        "missing-required",
        lambda d: _version(d)["criteria"][0].pop("text"),
        "versions[0].criteria[0].text",
        "required",
    ),
    (
        "boolean-as-string",
        lambda d: _crp(d).update(supporting="yes"),
        "versions[0].criteria[5].conditions[2].supporting",
        "true or false",
    ),
    (
        "code-and-kind",
        lambda d: _version(d)["criteria"][0].update(kind="EXCLUSION"),
        "versions[0].criteria[0]",
        "criterion_code_matches_kind",
    ),
    (
        "repeated-code",
        lambda d: _version(d)["criteria"][1].update(code="I1"),
        "versions[0].criteria[1].code",
        "repeated",
    ),
    (
        "unknown-category",
        lambda d: _version(d)["criteria"][1]["conditions"][0].update(
            values=["early", "later"]
        ),
        "versions[0].criteria[1].conditions[0].values",
        "later",
    ),
    (
        "between-reversed",
        lambda d: _version(d)["criteria"][0]["conditions"][0].update(
            value_low=65, value_high=18
        ),
        "versions[0].criteria[0].conditions[0]",
        "",
    ),
    (
        "relative-without-uln",
        lambda d: _crp(d).update(variable="pta_percent", unit="", relative_to_uln=True),
        "versions[0].criteria[5].conditions[2]",
        "",
    ),
    (
        "unknown-state",
        lambda d: _version(d).update(state="LIVE"),
        "versions[0].state",
        "LIVE",
    ),
    (
        "bad-date",
        lambda d: _version(d).update(ethics_approved_on="2025-02-30"),
        "versions[0].ethics_approved_on",
        "not a date",
    ),
    (
        "naive-datetime",
        lambda d: _version(d).update(effective_from="2025-03-01T08:00"),
        "versions[0].effective_from",
        "offset",
    ),
    (
        "two-active",
        lambda d: d["versions"].append(
            {**copy.deepcopy(_version(d)), "number": 2, "state": "ACTIVE"}
        ),
        "versions",
        "at most one version may be ACTIVE",
    ),
    (
        "based-on-later",
        lambda d: _version(d).update(based_on=2),
        "versions[0].based_on",
        "earlier version",
    ),
    (
        "unknown-trial-status",
        lambda d: d["trial"].update(status="OPEN"),
        "trial.status",
        "OPEN",
    ),
    (
        "wrong-format",
        lambda d: d.update(format="trial/9"),
        "format",
        "trial/1",
    ),
    (
        "no-versions",
        lambda d: d.update(versions=[]),
        "versions",
        "at least one",
    ),
]


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [pytest.param(c, p, w, id=name) for name, c, p, w in REFUSALS],
)
def test_a_bad_file_is_refused_naming_the_field_and_nothing_is_loaded(
    tmp_path, change, path, words
):
    data = shipped(NCT)
    change(data)
    with pytest.raises(CommandError) as refused:
        load(write(tmp_path, data))
    lines = str(refused.value).splitlines()
    assert "refused, nothing loaded" in lines[0]
    matching = [line for line in lines[1:] if line.strip().startswith(f"{path}: ")]
    assert matching, lines
    assert any(words in line for line in matching), lines
    assert "Traceback" not in str(refused.value)
    assert counts() == (0, 0, 0, 0, 0)


def test_a_file_that_is_not_json_is_refused_with_its_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "trial/1",\n  "trial": }', encoding="utf-8")
    with pytest.raises(CommandError, match=r"\(file\): not JSON: .* line 2"):
        load(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"\(file\): cannot read"):
        load(tmp_path / "absent.json")


def test_a_new_version_of_a_trial_already_here_loads_only_as_a_draft(tmp_path):
    load(ACLF)
    data = shipped(ACLF)
    data["versions"].append(
        {**copy.deepcopy(data["versions"][1]), "number": 3, "state": "ACTIVE"}
    )
    data["versions"][0]["state"] = "RETIRED"
    data["versions"][1]["state"] = "RETIRED"
    with pytest.raises(CommandError) as refused:
        load(write(tmp_path, data))
    assert "versions[2].state: ACTIVE" in str(refused.value)
    assert "only as a DRAFT" in str(refused.value)
    data["versions"][2]["state"] = "DRAFT"
    data["versions"][1]["state"] = "DRAFT"
    out = load(write(tmp_path, data))
    assert "version 3: loaded as DRAFT" in out
    assert "kept: version 1: ACTIVE here, RETIRED in the file" in out
    trial = Trial.objects.get(slug="aclf-pmc6247955")
    assert trial.versions.get(number=1).state == "ACTIVE"
    assert trial.versions.get(number=3).state == "DRAFT"


# --- The format covers the models, and the README documents it --------------------

_NOT_IN_FILE = {
    Trial: {"id"},
    Site: {"id", "trial"},
    CriteriaVersion: {"id", "trial", "created_by", "created_at"},
    Criterion: {"id", "trial", "version"},
    Condition: {"id", "criterion"},
}
_FIELDS = {
    Trial: files.TRIAL_FIELDS,
    Site: files.SITE_FIELDS,
    CriteriaVersion: files.VERSION_FIELDS,
    Criterion: files.CRITERION_FIELDS,
    Condition: files.CONDITION_FIELDS,
}


@pytest.mark.parametrize("model", list(_FIELDS), ids=lambda m: m.__name__)
def test_the_format_carries_every_field_of_the_model(model):
    concrete = {
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, models.Field) and f.concrete
    }
    assert concrete - _NOT_IN_FILE[model] == {f.name for f in _FIELDS[model]}


def test_the_readme_documents_every_field_of_the_format():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Trial files", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.M))
    every = {
        f.name
        for fields in (
            files.TOP_FIELDS,
            files.TRIAL_FIELDS,
            files.SITE_FIELDS,
            files.VERSION_FIELDS,
            files.CRITERION_FIELDS,
            files.CONDITION_FIELDS,
        )
        for f in fields
    } | {"trial", "sites", "versions", "criteria", "conditions"}
    assert every <= documented, every - documented


# --- Each trial's form -------------------------------------------------------------


def test_each_trial_form_shows_the_inputs_its_criteria_read():
    nct = trial_file_load(path=NCT).trial
    aclf = trial_file_load(path=ACLF).trial
    nct_form = ScreeningForm(criteria=active_criteria(trial=nct))
    aclf_form = ScreeningForm(criteria=active_criteria(trial=aclf))
    for name in ("screening_number", "tbil_value", "tbil_uln", "inr", "he_grade"):
        assert name in nct_form.fields and name in aclf_form.fields
    assert {"il6_value", "liver_failure_stage", "written_informed_consent"} <= set(
        nct_form.fields
    )
    assert not {"platelets", "shock", "aclf_diagnosis"} & set(nct_form.fields)
    assert {"platelets", "shock", "aclf_diagnosis", "severe_esophageal_varices"} <= (
        set(aclf_form.fields)
    )
    assert not {"il6_value", "liver_failure_stage", "dic"} & set(aclf_form.fields)
    assert aclf_form.fields["shock"].label.endswith("(E4)")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_coordinator_screens_a_second_trial_candidate_in_both_languages(
    client, language
):
    from screening.decisions.forms import post_data_from_contract
    from tests.screening.domain.test_aclf_criteria import aclf_candidate

    trial = trial_file_load(path=ACLF).trial
    coordinator = UserFactory(username="aclf-screener", role="Coordinator")
    member_of_every_trial(coordinator, "Coordinator")
    client.force_login(coordinator)
    url = f"/trials/{trial.slug}/screen/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    text = page.content.decode()
    assert ("血小板计数" if language == "zh-hans" else "Platelet count") in text
    posted = client.post(
        url,
        post_data_from_contract(aclf_candidate(screening_number="01-021")),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert posted.status_code == 302, posted.content.decode()[-2000:]
    from screening.models import EligibilityDecision

    decision = EligibilityDecision.objects.system().get(trial=trial)
    assert decision.outcome == "ELIGIBLE"
