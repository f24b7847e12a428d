"""Django admin for the trial's criteria: pages, filters, reasons, history, deletion.

Criteria are versioned: only a draft version (copied from the active one) is
edited here; the active version is read-only, and the engine follows an edit
only once the draft is signed into force (impact report, then activation).
"""

from datetime import date
from decimal import Decimal as D
from http import HTTPStatus

import pytest
from django.forms import NullBooleanSelect
from django.urls import reverse
from django.utils import timezone, translation

from screening import criteria as criteria_module
from screening.assessment import active_criteria, assess
from screening.criteria import criteria_current, criteria_load
from screening.domain.engine import Decision, Outcome, evaluate
from screening.models import CriterionOutcome
from screening.versions.services import impact_report_record, version_activate
from tests.factories import TEST_PASSWORD, eligible_candidate
from trials.models import (
    Condition,
    CriteriaVersion,
    Criterion,
    ImpactReport,
    Trial,
    VersionActivation,
)
from trials.services import version_active, version_draft_create

pytestmark = pytest.mark.django_db

SCREENING_DAY = date(2026, 6, 1)

MODELS = [
    pytest.param(Trial, id="trial"),
    pytest.param(Criterion, id="criterion"),
    pytest.param(Condition, id="condition"),
]
VERSIONED = [
    pytest.param(CriteriaVersion, id="version"),
    pytest.param(Criterion, id="criterion"),
    pytest.param(Condition, id="condition"),
]


def candidate_assess(*, trial, data, today):
    """The pipeline against the trial's current active criteria."""
    return assess(data=data, criteria=active_criteria(trial=trial), today=today)


def activate(version, user):
    """Sign ``version`` into force as ``user`` (a trial admin with a full name)."""
    report = impact_report_record(version=version, user=user)
    return version_activate(
        version=version, user=user, password=TEST_PASSWORD, report=report
    )


def _url(model, view, *args):
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def _value(bound_field):
    value = bound_field.value()
    if isinstance(bound_field.field.widget, NullBooleanSelect):
        return {True: "true", False: "false"}.get(value, "unknown")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else None
    return value


def _form_data(form) -> dict:
    data = {}
    for bound_field in form:
        value = _value(bound_field)
        if value is not None:
            data[bound_field.html_name] = value
    return data


def change_form_data(response) -> dict:
    """The POST data of an admin change page as rendered, inlines included."""
    data = _form_data(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.forms:
            data.update(_form_data(form))
    return data


def _inline_prefix(data, formset_prefix, field, value):
    """The form prefix of the inline row whose ``field`` has ``value``."""
    for key, posted in data.items():
        if (
            key.startswith(f"{formset_prefix}-")
            and key.endswith(f"-{field}")
            and str(posted) == str(value)
        ):
            return key.removesuffix(f"-{field}")
    raise AssertionError(f"no {formset_prefix} row with {field}={value}")


def _changelist_rows(response):
    return list(response.context["cl"].result_list)


def _inflammation(**markers) -> dict:
    """A candidate eligible except perhaps for I6, with these marker values."""
    values = {"il6": "5", "tnf_alpha": "6", "crp": "18", "pct": "0.02"}
    values.update(markers)
    units = {"il6": "pg/mL", "tnf_alpha": "pg/mL", "crp": "mg/L", "pct": "ng/mL"}
    return eligible_candidate(
        **{
            name: {"value": value, "unit": units[name]}
            for name, value in values.items()
        }
    )


def _i6(evaluation):
    return next(r for r in evaluation.criteria if r.code == "I6")


@pytest.fixture(params=["superuser", "trial_admin"])
def admin_user(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def root_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture(autouse=True)
def _criteria_cache_per_test(monkeypatch):
    """criteria_current() caches per version id for the process; SQLite hands
    out the same ids again after each test's rollback, so each test starts empty.
    """
    monkeypatch.setattr(criteria_module, "_CACHE", {})


@pytest.fixture
def active(trial):
    return version_active(trial=trial)


@pytest.fixture
def draft(trial, trial_admin):
    """Version 2: a draft copy of the active version 1, the one admins edit."""
    return version_draft_create(
        trial=trial, user=trial_admin, label="Protocol v2.0 (amendment 1)"
    )


@pytest.fixture
def crp(draft):
    return Condition.objects.get(criterion__version=draft, variable="crp_mg_l")


@pytest.fixture
def i6(draft):
    return Criterion.objects.get(version=draft, code="I6")


@pytest.fixture
def active_crp(active):
    return Condition.objects.get(criterion__version=active, variable="crp_mg_l")


@pytest.fixture
def active_i6(active):
    return Criterion.objects.get(version=active, code="I6")


def _object_of(model, version):
    if model is Trial:
        return version.trial
    if model is CriteriaVersion:
        return version
    if model is Criterion:
        return Criterion.objects.get(version=version, code="I6")
    return Condition.objects.get(criterion__version=version, variable="crp_mg_l")


def _other_trial():
    """A second trial, its draft version of one criterion, that nobody administers."""
    other = Trial.objects.create(
        slug="other", registry_id="NCT00000001", title="t", sponsor="s", site="x"
    )
    version = CriteriaVersion.objects.create(trial=other, number=1, label="v1")
    Criterion.objects.create(
        trial=other,
        version=version,
        code="I1",
        kind="INCLUSION",
        position=1,
        text="Other trial's I1",
    )
    return other, version


# Pages render


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("view", ["changelist", "add"])
def test_list_and_add_pages_render(admin_client, trial, model, view):
    response = admin_client.get(_url(model, view))
    assert response.status_code == HTTPStatus.OK


def test_version_list_renders_and_versions_are_not_added_by_hand(admin_client, trial):
    response = admin_client.get(_url(CriteriaVersion, "changelist"))
    assert response.status_code == HTTPStatus.OK
    assert [(v.number, v.state) for v in _changelist_rows(response)] == [
        (1, CriteriaVersion.State.ACTIVE)
    ]
    # A draft starts as a copy of the active version (the action), not empty.
    add = admin_client.get(_url(CriteriaVersion, "add"))
    assert add.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("model", [*MODELS, VERSIONED[0]])
@pytest.mark.parametrize("view", ["change", "history"])
@pytest.mark.parametrize("which", ["active", "draft"])
def test_change_and_history_pages_render(admin_client, request, model, view, which):
    obj = _object_of(model, request.getfixturevalue(which))
    response = admin_client.get(_url(model, view, obj.pk))
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("model", MODELS)
def test_history_version_page_renders(admin_client, active, model):
    obj = _object_of(model, active)
    version = obj.history.earliest()
    url = reverse(
        f"admin:trials_{model._meta.model_name}_simple_history",
        args=[obj.pk, version.history_id],
    )
    response = admin_client.get(url)
    assert response.status_code == HTTPStatus.OK


def test_trial_page_shows_only_its_sites_inline(root_client, trial):
    """Criteria moved to their version's page: the trial page lists its sites."""
    response = root_client.get(_url(Trial, "change", trial.pk))
    (sites,) = response.context["inline_admin_formsets"]
    assert sites.formset.model is trial.sites.model
    assert [form.instance.code for form in sites.formset.forms] == ["01"]
    assert sites.has_change_permission


def test_version_page_lists_its_criteria_inline(root_client, active):
    response = root_client.get(_url(CriteriaVersion, "change", active.pk))
    (inline,) = response.context["inline_admin_formsets"]
    codes = [form.instance.code for form in inline.formset.forms]
    assert codes == [*(f"I{n}" for n in range(1, 9)), *(f"E{n}" for n in range(1, 7))]


def test_criterion_page_lists_its_conditions_inline(root_client, active_i6):
    response = root_client.get(_url(Criterion, "change", active_i6.pk))
    (inline,) = response.context["inline_admin_formsets"]
    variables = [form.instance.variable for form in inline.formset.forms]
    assert variables == ["il6_pg_ml", "tnf_alpha_pg_ml", "crp_mg_l", "pct_ng_ml"]


def test_anonymous_is_sent_to_login(client, trial):
    response = client.get(_url(Criterion, "changelist"))
    assert response.status_code == HTTPStatus.FOUND


def test_coordinator_cannot_change_criteria(client, coordinator, i6):
    client.force_login(coordinator)
    response = client.get(_url(Criterion, "change", i6.pk))
    assert response.status_code in {HTTPStatus.FOUND, HTTPStatus.FORBIDDEN}


# Filters and search


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ({"q": "E4"}, ["E4"]),
        ({"q": "e4"}, ["E4"]),
        ({"q": "MELD"}, ["E4"]),
        ({"q": "bilirubin"}, ["I3"]),
        ({"q": "糖尿病"}, ["E5"]),
        ({"kind__exact": "EXCLUSION"}, ["E1", "E2", "E3", "E4", "E5", "E6"]),
        ({"kind__exact": "INCLUSION", "q": "I6"}, ["I6"]),
        ({"active__exact": "1", "kind__exact": "EXCLUSION", "q": "E4"}, ["E4"]),
    ],
)
def test_criterion_filters_and_search(admin_client, trial, query, codes):
    response = admin_client.get(_url(Criterion, "changelist"), query)
    assert response.status_code == HTTPStatus.OK
    assert sorted(c.code for c in _changelist_rows(response)) == codes


def test_criterion_filter_by_active_shows_deactivated(admin_client, draft, active):
    Criterion.objects.filter(version=draft, code="E6").update(active=False)
    response = admin_client.get(_url(Criterion, "changelist"), {"active__exact": "0"})
    assert [(c.version, c.code) for c in _changelist_rows(response)] == [(draft, "E6")]
    assert active.criteria.get(code="E6").active


def test_criterion_filter_by_version_state(admin_client, draft):
    changelist = _url(Criterion, "changelist")
    drafts = admin_client.get(changelist, {"version__state__exact": "DRAFT"})
    assert {c.version for c in _changelist_rows(drafts)} == {draft}
    assert len(_changelist_rows(drafts)) == 14
    both = admin_client.get(changelist, {"q": "I6"})
    assert sorted(c.version.number for c in _changelist_rows(both)) == [1, 2]


def test_criterion_filter_by_trial(admin_client, admin_user, trial):
    other, _version = _other_trial()
    changelist = _url(Criterion, "changelist")
    mine = admin_client.get(changelist, {"trial__id__exact": trial.pk})
    theirs = admin_client.get(changelist, {"trial__id__exact": other.pk})
    assert len(_changelist_rows(mine)) == 14
    # A trial admin sees only the trials they administer.
    shown = [] if not admin_user.is_superuser else [(other.pk, "I1")]
    assert [(c.trial_id, c.code) for c in _changelist_rows(theirs)] == shown


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ({"q": "crp"}, ["crp_mg_l"]),
        ({"q": "E5"}, ["diabetes", "severe_comorbidity"]),
        ({"variable__exact": "inr"}, ["inr"]),
        ({"operator__exact": "BETWEEN"}, ["age_years", "inr", "pta_percent"]),
        (
            {"criterion__kind__exact": "INCLUSION", "operator__exact": "GT"},
            ["crp_mg_l", "il6_pg_ml", "pct_ng_ml", "tnf_alpha_pg_ml"],
        ),
    ],
)
def test_condition_filters_and_search(admin_client, trial, query, variables):
    response = admin_client.get(_url(Condition, "changelist"), query)
    assert response.status_code == HTTPStatus.OK
    assert sorted(c.variable for c in _changelist_rows(response)) == variables


# A change needs a reason


def test_condition_save_without_reason_is_refused(root_client, crp):
    """On a draft: an active version's condition cannot be saved at all."""
    url = _url(Condition, "change", crp.pk)
    data = change_form_data(root_client.get(url))
    versions = crp.history.count()
    data.update(value_low="5", change_reason="")

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["change_reason"]] == ["required"]
    crp.refresh_from_db()
    assert crp.value_low == D(10)
    assert crp.history.count() == versions


def test_criterion_save_without_reason_is_refused(root_client, i6):
    url = _url(Criterion, "change", i6.pk)
    versions = i6.history.count()
    response = root_client.post(
        url,
        {
            "trial": i6.trial_id,
            "version": i6.version_id,
            "code": "I6",
            "kind": "INCLUSION",
            "position": "6",
            "text": "Changed wording",
            "conditions-TOTAL_FORMS": "0",
            "conditions-INITIAL_FORMS": "0",
            "change_reason": "   ",
        },
    )
    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["change_reason"]] == ["required"]
    i6.refresh_from_db()
    assert i6.text.startswith("Elevated inflammatory markers")
    assert i6.active
    assert i6.history.count() == versions


def test_trial_save_without_reason_is_refused(root_client, trial):
    url = _url(Trial, "change", trial.pk)
    data = change_form_data(root_client.get(url))
    data.update(status=Trial.Status.CLOSED, change_reason="")
    response = root_client.post(url, data)
    assert response.status_code == HTTPStatus.OK
    assert "change_reason" in response.context["adminform"].form.errors
    trial.refresh_from_db()
    assert trial.status == Trial.Status.RECRUITING


def test_add_criterion_without_reason_creates_nothing(root_client, trial, draft):
    response = root_client.post(
        _url(Criterion, "add"),
        {
            "trial": trial.pk,
            "version": draft.pk,
            "code": "E7",
            "kind": "EXCLUSION",
            "position": "15",
            "text": "Pregnancy",
            "conditions-TOTAL_FORMS": "0",
            "conditions-INITIAL_FORMS": "0",
            "change_reason": "",
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert list(response.context["adminform"].form.errors) == ["change_reason"]
    assert not Criterion.objects.filter(code="E7").exists()


def test_add_criterion_to_an_active_version_is_refused(root_client, trial, active):
    response = root_client.post(
        _url(Criterion, "add"),
        {
            "trial": trial.pk,
            "version": active.pk,
            "code": "E7",
            "kind": "EXCLUSION",
            "position": "15",
            "text": "Pregnancy",
            "conditions-TOTAL_FORMS": "0",
            "conditions-INITIAL_FORMS": "0",
            "change_reason": "Add pregnancy",
        },
    )
    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["version"]] == ["invalid_choice"]
    assert not Criterion.objects.filter(code="E7").exists()


# Done when: an admin changes the CRP threshold from 10 to 5 mg/L (in a draft,
# which screening follows once it is signed into force)


@pytest.mark.criterion("I6")
def test_admin_changes_crp_threshold_with_history_and_engine_follows(
    client, trial_admin, trial, draft, crp
):
    candidate = _inflammation(crp="7")
    before = candidate_assess(trial=trial, data=candidate, today=SCREENING_DAY)
    assert _i6(before.evaluation).outcome is Outcome.NOT_MET
    assert before.evaluation.decision is Decision.INELIGIBLE
    assert before.evaluation.blocking == ("I6",)

    client.force_login(trial_admin)
    url = _url(Condition, "change", crp.pk)
    data = change_form_data(client.get(url))
    assert data["value_low"] == D(10)
    data.update(value_low="5", change_reason="Site lab CRP upper limit is 5 mg/L")
    started = timezone.now()

    response = client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == _url(Condition, "changelist")
    crp.refresh_from_db()
    assert crp.value_low == D(5)
    assert (crp.variable, crp.operator, crp.unit) == ("crp_mg_l", "GT", "mg/L")

    latest = crp.history.latest()
    assert latest.history_type == "~"
    assert latest.history_user == trial_admin
    assert latest.history_change_reason == "Site lab CRP upper limit is 5 mg/L"
    assert started <= latest.history_date <= timezone.now()
    assert latest.value_low == D(5)
    assert latest.prev_record.value_low == D(10)
    delta = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("value_low", D(10), D(5))
    ]

    # Not in force yet: screening still uses the active version 1.
    pending = candidate_assess(trial=trial, data=candidate, today=SCREENING_DAY)
    assert _i6(pending.evaluation).outcome is Outcome.NOT_MET
    assert criteria_current(trial=trial).version.number == 1

    activate(draft, trial_admin)

    assert criteria_current(trial=trial).version == draft
    after = candidate_assess(trial=trial, data=candidate, today=SCREENING_DAY)
    assert _i6(after.evaluation).outcome is Outcome.MET
    assert after.evaluation.decision is Decision.ELIGIBLE


@pytest.mark.criterion("I6")
def test_crp_threshold_change_seen_by_criteria_load_and_engine(
    trial, trial_admin, draft, crp
):
    """The same change, checked on the engine directly from the loaded specs."""
    candidate = _inflammation(crp="7")
    facts = candidate_assess(
        trial=trial, data=candidate, today=SCREENING_DAY
    ).derived.facts
    assert _i6(evaluate(criteria_load(trial=trial).specs, facts)).outcome is (
        Outcome.NOT_MET
    )

    crp.value_low = D(5)
    crp._change_reason = "Site lab CRP upper limit is 5 mg/L"
    crp.full_clean()
    crp.save()

    # The draft's specs have it; the active version's are untouched.
    in_draft = criteria_load(trial=trial, version=draft)
    assert _i6(evaluate(in_draft.specs, facts)).outcome is Outcome.MET
    still = criteria_load(trial=trial)
    assert still.version.number == 1
    assert _i6(evaluate(still.specs, facts)).outcome is Outcome.NOT_MET

    activate(draft, trial_admin)

    criteria = criteria_current(trial=trial)
    assert criteria.version == draft
    (spec,) = [c for s in criteria.specs if s.code == "I6" for c in s.conditions][2:3]
    assert (spec.variable, spec.low) == ("crp_mg_l", D(5))
    assert _i6(evaluate(criteria.specs, facts)).outcome is Outcome.MET
    assert criteria.snapshot[5]["version"] == 2
    assert criteria.snapshot[5]["conditions"][2]["id"] == crp.pk
    assert criteria.snapshot[5]["conditions"][2]["value_low"] == "5"
    assert criteria.snapshot[5]["conditions"][2]["history_id"] == (
        crp.history.latest().history_id
    )


@pytest.mark.criterion("I6")
@pytest.mark.parametrize(
    ("crp_value", "outcome"),
    [("5", Outcome.NOT_MET), ("5.1", Outcome.MET), ("7", Outcome.MET)],
)
def test_lowered_crp_threshold_is_strict(
    trial, trial_admin, draft, crp, crp_value, outcome
):
    Condition.objects.filter(pk=crp.pk).update(value_low=D(5))
    activate(draft, trial_admin)
    assessment = candidate_assess(
        trial=trial, data=_inflammation(crp=crp_value), today=SCREENING_DAY
    )
    assert _i6(assessment.evaluation).outcome is outcome


# Editing a draft's criterion with its conditions inline


def test_criterion_edit_with_inline_conditions_records_the_reason(
    root_client, superuser, i6, crp
):
    url = _url(Criterion, "change", i6.pk)
    data = change_form_data(root_client.get(url))
    assert data["conditions-TOTAL_FORMS"] == 4
    assert data["conditions-INITIAL_FORMS"] == 4
    reason = "Protocol amendment 2: PCT limit"
    pct_row = _inline_prefix(data, "conditions", "variable", "pct_ng_ml")
    data.update(
        {
            "text_zh_hans": "炎症指标升高（IL-6／TNF-α／CRP／PCT等）",
            f"{pct_row}-value_low": "0.5",
            "change_reason": reason,
        }
    )

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    i6.refresh_from_db()
    pct = i6.conditions.get(variable="pct_ng_ml")
    assert pct.value_low == D("0.5")
    assert "PCT" in i6.text_zh_hans
    criterion_version = i6.history.latest()
    condition_version = pct.history.latest()
    for version in (criterion_version, condition_version):
        assert version.history_type == "~"
        assert version.history_change_reason == reason
        assert version.history_user == superuser
    # Untouched inline rows get no new version.
    assert crp.history.count() == 1


def test_criterion_inline_adds_and_deletes_conditions_with_the_reason(
    root_client, superuser, draft
):
    e5 = draft.criteria.get(code="E5")
    diabetes = e5.conditions.get(variable="diabetes")
    url = _url(Criterion, "change", e5.pk)
    data = change_form_data(root_client.get(url))
    diabetes_row = _inline_prefix(data, "conditions", "variable", "diabetes")
    reason = "Diabetes moved to its own criterion"
    data.update(
        {
            f"{diabetes_row}-DELETE": "on",
            "conditions-TOTAL_FORMS": 3,
            "conditions-2-criterion": e5.pk,
            "conditions-2-position": "3",
            "conditions-2-variable": "circulatory_failure",
            "conditions-2-operator": "IS_TRUE",
            "conditions-2-value_low": "",
            "conditions-2-value_high": "",
            "conditions-2-values": "",
            "conditions-2-unit": "",
            "change_reason": reason,
        }
    )

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    assert sorted(e5.conditions.values_list("variable", flat=True)) == [
        "circulatory_failure",
        "severe_comorbidity",
    ]
    deleted = Condition.history.get(id=diabetes.pk, history_type="-")
    added = Condition.history.get(
        criterion_id=e5.pk, variable="circulatory_failure", history_type="+"
    )
    for version in (deleted, added):
        assert version.history_change_reason == reason
        assert version.history_user == superuser


def test_inline_condition_with_a_bad_shape_is_refused(root_client, i6, crp):
    url = _url(Criterion, "change", i6.pk)
    data = change_form_data(root_client.get(url))
    crp_row = _inline_prefix(data, "conditions", "variable", "crp_mg_l")
    data.update({f"{crp_row}-value_high": "20", "change_reason": "Try a range"})

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.OK
    crp.refresh_from_db()
    assert crp.value_high is None
    assert crp.history.count() == 1


def test_version_page_edits_a_criterion_inline_with_the_reason(
    root_client, superuser, active, draft
):
    url = _url(CriteriaVersion, "change", draft.pk)
    data = change_form_data(root_client.get(url))
    e6_row = _inline_prefix(data, "criteria", "code", "E6")
    data.pop(f"{e6_row}-active")
    data["change_reason"] = "E6 judged at consent visit instead"

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    e6 = draft.criteria.get(code="E6")
    assert not e6.active
    assert active.criteria.get(code="E6").active
    version = e6.history.latest()
    assert version.history_change_reason == "E6 judged at consent visit instead"
    assert version.history_user == superuser
    assert Criterion.history.filter(history_type="~").count() == 1


def test_condition_add_page_saves_with_reason(root_client, superuser, draft):
    e4 = draft.criteria.get(code="E4")
    response = root_client.post(
        _url(Condition, "add"),
        {
            "criterion": e4.pk,
            "position": "2",
            "variable": "inr",
            "operator": "GT",
            "value_low": "3",
            "value_high": "",
            "values": "",
            "unit": "",
            "change_reason": "Add INR ceiling",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    added = e4.conditions.get(variable="inr")
    version = added.history.get()
    assert (version.history_type, version.history_user) == ("+", superuser)
    assert version.history_change_reason == "Add INR ceiling"


def test_condition_add_without_operator_shows_a_form_error(root_client, draft):
    e4 = draft.criteria.get(code="E4")
    response = root_client.post(
        _url(Condition, "add"),
        {
            "criterion": e4.pk,
            "position": "2",
            "variable": "inr",
            "operator": "",
            "value_low": "3",
            "change_reason": "Add INR ceiling",
        },
    )
    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["operator"]] == ["required"]


def test_condition_add_to_an_active_criterion_is_refused(root_client, active):
    e4 = active.criteria.get(code="E4")
    response = root_client.post(
        _url(Condition, "add"),
        {
            "criterion": e4.pk,
            "position": "2",
            "variable": "inr",
            "operator": "GT",
            "value_low": "3",
            "change_reason": "Add INR ceiling",
        },
    )
    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["criterion"]] == ["invalid_choice"]
    assert e4.conditions.count() == 1


@pytest.mark.parametrize(
    ("fields", "field_with_error"),
    [
        ({"operator": "GT", "value_low": "", "value_high": ""}, None),
        ({"operator": "BETWEEN", "value_low": "4", "value_high": "3"}, None),
        ({"operator": "IS_TRUE", "value_low": "3", "value_high": ""}, None),
        ({"operator": "GT", "value_low": "3", "values": "x"}, None),
    ],
)
def test_condition_add_with_a_bad_shape_shows_an_error(
    root_client, draft, fields, field_with_error
):
    e4 = draft.criteria.get(code="E4")
    data = {
        "criterion": e4.pk,
        "position": "2",
        "variable": "inr",
        "value_low": "",
        "value_high": "",
        "values": "",
        "unit": "",
        "change_reason": "Add INR condition",
    }
    data.update(fields)
    response = root_client.post(_url(Condition, "add"), data)
    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.non_field_errors()
    assert not e4.conditions.filter(variable="inr").exists()


# A criterion used by a recorded decision cannot be deleted


def test_no_criterion_is_deleted_on_its_own_page(root_client, record, trial):
    """Deactivate instead: the delete page would record no reason."""
    decision = record()
    e4 = Criterion.objects.get(trial=trial, code="E4")
    assert decision.outcomes.filter(criterion=e4).exists()
    url = _url(Criterion, "delete", e4.pk)

    assert root_client.get(url).status_code == HTTPStatus.FORBIDDEN
    assert root_client.post(url, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert Criterion.objects.filter(pk=e4.pk).exists()
    assert e4.conditions.count() == 1


def test_bulk_delete_of_a_used_criterion_is_refused(root_client, record, trial):
    record()
    e4 = Criterion.objects.get(trial=trial, code="E4")
    response = root_client.post(
        _url(Criterion, "changelist"),
        {"action": "delete_selected", "_selected_action": [e4.pk], "post": "yes"},
    )
    assert response.status_code == HTTPStatus.OK
    assert Criterion.objects.filter(pk=e4.pk).exists()


def test_active_version_page_cannot_delete_a_used_criterion(
    root_client, record, active
):
    """The criteria a decision used are the active version's: its page saves nothing."""
    decision = record()
    e4 = active.criteria.get(code="E4")
    assert decision.outcomes.filter(criterion=e4).exists()
    url = _url(CriteriaVersion, "change", active.pk)
    page = root_client.get(url)
    (inline,) = page.context["inline_admin_formsets"]
    assert not inline.has_delete_permission
    assert not inline.has_change_permission
    data = {
        "label": active.label,
        "criteria-TOTAL_FORMS": "1",
        "criteria-INITIAL_FORMS": "1",
        "criteria-0-id": e4.pk,
        "criteria-0-version": active.pk,
        "criteria-0-DELETE": "on",
        "change_reason": "Drop MELD",
    }

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert active.criteria.filter(pk=e4.pk).exists()


def test_draft_copy_of_a_used_criterion_is_deleted_with_the_reason(
    root_client, superuser, record, active, draft
):
    """Replaces deleting a used criterion on the trial page: a decision uses the
    active version's E4, and the draft's E4 is a copy no decision uses."""
    decision = record()
    e4 = draft.criteria.get(code="E4")
    assert not CriterionOutcome.objects.filter(criterion=e4).exists()
    url = _url(CriteriaVersion, "change", draft.pk)
    data = change_form_data(root_client.get(url))
    e4_row = _inline_prefix(data, "criteria", "code", "E4")
    data.update({f"{e4_row}-DELETE": "on", "change_reason": "Drop MELD"})

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    assert not Criterion.objects.filter(pk=e4.pk).exists()
    assert Criterion.history.get(id=e4.pk, history_type="-").history_change_reason == (
        "Drop MELD"
    )
    used = active.criteria.get(code="E4")
    assert decision.outcomes.get(code="E4").criterion == used
    assert CriterionOutcome.objects.filter(criterion=used).exists()


def test_unused_criterion_is_deleted_on_the_version_page_with_the_reason(
    root_client, superuser, draft
):
    e4 = draft.criteria.get(code="E4")
    url = _url(CriteriaVersion, "change", draft.pk)
    data = change_form_data(root_client.get(url))
    e4_row = _inline_prefix(data, "criteria", "code", "E4")
    data.update({f"{e4_row}-DELETE": "on", "change_reason": "E4 withdrawn"})

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    assert not Criterion.objects.filter(pk=e4.pk).exists()
    deleted = Criterion.history.get(id=e4.pk, history_type="-")
    assert (deleted.history_user, deleted.history_change_reason) == (
        superuser,
        "E4 withdrawn",
    )
    removed = Condition.history.filter(criterion_id=e4.pk, history_type="-")
    assert [version.history_user for version in removed] == [superuser]


def test_conditions_removed_with_their_criterion_carry_the_reason(root_client, draft):
    e5 = draft.criteria.get(code="E5")
    url = _url(CriteriaVersion, "change", draft.pk)
    data = change_form_data(root_client.get(url))
    e5_row = _inline_prefix(data, "criteria", "code", "E5")
    data.update({f"{e5_row}-DELETE": "on", "change_reason": "E5 withdrawn"})

    assert root_client.post(url, data).status_code == HTTPStatus.FOUND

    removed = Condition.history.filter(criterion_id=e5.pk, history_type="-")
    assert [version.history_change_reason for version in removed] == [
        "E5 withdrawn",
        "E5 withdrawn",
    ]


def test_trial_admin_has_no_delete_permission_on_criteria(client, trial_admin, i6):
    client.force_login(trial_admin)
    assert not trial_admin.has_perm("trials.delete_criterion")

    response = client.get(_url(Criterion, "delete", i6.pk))
    assert response.status_code == HTTPStatus.FORBIDDEN
    response = client.post(_url(Criterion, "delete", i6.pk), {"post": "yes"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Criterion.objects.filter(pk=i6.pk).exists()

    changelist = client.get(_url(Criterion, "changelist"))
    model_admin = changelist.context["cl"].model_admin
    assert "delete_selected" not in model_admin.get_actions(changelist.wsgi_request)


def test_trial_admin_deactivates_a_criterion_instead(
    client, trial_admin, trial, record, draft
):
    record()
    e4 = draft.criteria.get(code="E4")
    client.force_login(trial_admin)
    url = _url(Criterion, "change", e4.pk)
    data = change_form_data(client.get(url))
    assert data["active"] == "on"
    del data["active"]
    data["change_reason"] = "MELD limit lifted by amendment 3"

    response = client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    e4.refresh_from_db()
    assert not e4.active
    version = e4.history.latest()
    assert (version.history_user, version.history_change_reason) == (
        trial_admin,
        "MELD limit lifted by amendment 3",
    )
    criteria = criteria_load(trial=trial, version=draft)
    assert "E4" not in [spec.code for spec in criteria.specs]
    assert len(criteria.specs) == 13
    sick = eligible_candidate(
        tbil={"value": "600", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"},
        inr="2.6",
        creatinine={"value": "300", "unit": "umol/L"},
    )
    # Until the draft is signed into force, E4 still excludes MELD > 30.
    before = candidate_assess(trial=trial, data=sick, today=SCREENING_DAY)
    assert before.derived.meld > 30
    assert "E4" in before.evaluation.blocking

    activate(draft, trial_admin)

    # A candidate with MELD > 30 is no longer excluded by E4.
    assessment = candidate_assess(trial=trial, data=sick, today=SCREENING_DAY)
    assert assessment.criteria.version == draft
    assert assessment.derived.meld > 30
    assert "E4" not in [r.code for r in assessment.evaluation.criteria]


# Reverting and deleting


def test_threshold_change_can_be_reverted_from_history_with_a_reason(
    client, trial_admin, trial, crp
):
    client.force_login(trial_admin)
    change = _url(Condition, "change", crp.pk)
    data = change_form_data(client.get(change))
    data.update(value_low="5", change_reason="Site lab CRP upper limit is 5 mg/L")
    assert client.post(change, data).status_code == HTTPStatus.FOUND
    original = crp.history.earliest()
    revert = reverse(
        "admin:trials_condition_simple_history", args=[crp.pk, original.history_id]
    )
    data = change_form_data(client.get(revert))
    assert data["value_low"] == D(10)
    data["change_reason"] = "Back to the protocol's default ULN"

    response = client.post(revert, data)

    assert response.status_code == HTTPStatus.FOUND
    crp.refresh_from_db()
    assert crp.value_low == D(10)
    latest = crp.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        trial_admin,
        "Back to the protocol's default ULN",
    )
    assert crp.history.count() == 3


def test_active_condition_is_not_reverted_from_history(client, trial_admin, active_crp):
    client.force_login(trial_admin)
    original = active_crp.history.earliest()
    revert = reverse(
        "admin:trials_condition_simple_history",
        args=[active_crp.pk, original.history_id],
    )
    page = client.get(revert)
    assert page.status_code == HTTPStatus.OK
    assert page.context["revert_disabled"]
    data = change_form_data(page)
    data.update(value_low="5", change_reason="Revert on the active version")

    response = client.post(revert, data)

    assert response.status_code == HTTPStatus.FORBIDDEN
    active_crp.refresh_from_db()
    assert active_crp.value_low == D(10)
    assert active_crp.history.count() == 1


def test_deleting_a_condition_on_its_own_page_needs_a_reason(
    client, trial_admin, trial, crp
):
    client.force_login(trial_admin)
    response = client.post(_url(Condition, "delete", crp.pk), {"post": "yes"})
    if response.status_code == HTTPStatus.FORBIDDEN:
        assert Condition.objects.filter(pk=crp.pk).exists()
    else:
        deleted = Condition.history.get(id=crp.pk, history_type="-")
        assert deleted.history_change_reason


# Versions: the active one is read-only, a draft is a copy of it, scoped per trial


@pytest.mark.parametrize("model", VERSIONED)
def test_active_version_change_pages_are_read_only(admin_client, active, model):
    obj = _object_of(model, active)
    url = _url(model, "change", obj.pk)
    page = admin_client.get(url)
    assert page.status_code == HTTPStatus.OK
    assert not page.context["has_change_permission"]
    assert b'name="_save"' not in page.content
    assert all(
        field.is_readonly
        for fieldset in page.context["adminform"]
        for line in fieldset
        for field in line
    )
    for inline in page.context["inline_admin_formsets"]:
        assert not inline.has_change_permission
        assert not inline.has_add_permission
        assert not inline.has_delete_permission
    versions = obj.history.count()

    response = admin_client.post(
        url,
        {
            "label": "Changed",
            "text": "Changed wording",
            "value_low": "5",
            "change_reason": "Edit the active version",
        },
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert obj.history.count() == versions
    assert model.objects.get(pk=obj.pk) == obj
    assert Condition.objects.get(pk=_object_of(Condition, active).pk).value_low == 10


@pytest.mark.parametrize("model", VERSIONED)
def test_draft_change_pages_can_be_saved(admin_client, draft, model):
    page = admin_client.get(_url(model, "change", _object_of(model, draft).pk))
    assert page.context["has_change_permission"]
    assert "change_reason" in page.context["adminform"].form.fields


def test_signed_draft_is_read_only_before_it_starts(
    client, trial_admin, trial, draft, crp
):
    from datetime import timedelta

    report = impact_report_record(version=draft, user=trial_admin)
    version_activate(
        version=draft,
        user=trial_admin,
        password=TEST_PASSWORD,
        report=report,
        effective_from=timezone.now() + timedelta(days=2),
    )
    draft.refresh_from_db()
    assert draft.state == CriteriaVersion.State.DRAFT
    client.force_login(trial_admin)
    url = _url(Condition, "change", crp.pk)
    assert not client.get(url).context["has_change_permission"]
    response = client.post(url, {"value_low": "7", "change_reason": "Too late"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    crp.refresh_from_db()
    assert crp.value_low == D(10)


def test_copy_action_creates_a_draft_of_the_active_version(
    client, trial_admin, trial, active
):
    client.force_login(trial_admin)
    changelist = _url(CriteriaVersion, "changelist")
    page = client.get(changelist)
    assert "copy_to_draft" in page.context["cl"].model_admin.get_actions(
        page.wsgi_request
    )

    response = client.post(
        changelist, {"action": "copy_to_draft", "_selected_action": [active.pk]}
    )

    assert response.status_code == HTTPStatus.FOUND
    draft = trial.versions.get(number=2)
    assert (draft.state, draft.based_on, draft.created_by) == (
        CriteriaVersion.State.DRAFT,
        active,
        trial_admin,
    )
    assert not hasattr(draft, "activation")

    def rows(version):
        return [
            (
                c.code,
                c.kind,
                c.position,
                c.text,
                c.active,
                [
                    (d.variable, d.operator, d.value_low, d.value_high, d.unit)
                    for d in c.conditions.order_by("position")
                ],
            )
            for c in version.criteria.order_by("position")
        ]

    assert len(rows(draft)) == 14
    assert rows(draft) == rows(active)
    assert not set(draft.criteria.values_list("pk", flat=True)) & set(
        active.criteria.values_list("pk", flat=True)
    )
    copied = draft.criteria.get(code="I6").history.get()
    assert (copied.history_type, copied.history_user) == ("+", trial_admin)
    assert copied.history_change_reason == "Copied from version 1 into a new draft"
    # The copy is editable; the active version is unchanged and still in force.
    assert version_active(trial=trial) == active
    edit = client.get(_url(CriteriaVersion, "change", draft.pk))
    assert edit.context["has_change_permission"]


def test_trial_admin_sees_only_their_trials_versions(
    client, trial_admin, superuser, trial, active
):
    other, theirs = _other_trial()
    client.force_login(trial_admin)
    changelist = _url(CriteriaVersion, "changelist")

    rows = _changelist_rows(client.get(changelist))
    assert [(v.trial, v.number) for v in rows] == [(trial, 1)]
    rows = _changelist_rows(client.get(changelist, {"trial__id__exact": other.pk}))
    assert rows == []
    # Their change page sends back to the index ("does not exist"), their
    # history pages are refused.
    response = client.get(_url(CriteriaVersion, "change", theirs.pk))
    assert response.status_code == HTTPStatus.FOUND
    other_i1 = theirs.criteria.get()
    assert client.get(_url(Criterion, "change", other_i1.pk)).status_code == (
        HTTPStatus.FOUND
    )
    for model, obj in ((CriteriaVersion, theirs), (Criterion, other_i1)):
        history = client.get(_url(model, "history", obj.pk))
        assert history.status_code == HTTPStatus.FORBIDDEN
        version = reverse(
            f"admin:trials_{model._meta.model_name}_simple_history",
            args=[obj.pk, obj.history.earliest().history_id],
        )
        assert client.get(version).status_code == HTTPStatus.FORBIDDEN

    # Nor copy them: the action sees only the versions the list shows.
    client.post(
        changelist, {"action": "copy_to_draft", "_selected_action": [theirs.pk]}
    )
    assert list(other.versions.all()) == [theirs]
    response = client.post(
        _url(CriteriaVersion, "change", theirs.pk),
        {"label": "Taken over", "change_reason": "Not mine"},
    )
    assert response.status_code in {HTTPStatus.FOUND, HTTPStatus.NOT_FOUND}
    theirs.refresh_from_db()
    assert theirs.label == "v1"

    client.force_login(superuser)
    rows = _changelist_rows(client.get(changelist))
    assert {(v.trial.slug, v.number) for v in rows} == {
        ("other", 1),
        (trial.slug, 1),
    }


def test_another_trials_draft_is_not_reverted_from_history(client, trial_admin, trial):
    """Was a bug: the history revert page saved another trial's draft version."""
    other, theirs = _other_trial()
    client.force_login(trial_admin)
    revert = reverse(
        "admin:trials_criteriaversion_simple_history",
        args=[theirs.pk, theirs.history.earliest().history_id],
    )
    response = client.post(revert, {"label": "Taken over", "change_reason": "Mine"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    theirs.refresh_from_db()
    assert theirs.label == "v1"


@pytest.mark.parametrize("user", ["superuser", "trial_admin"])
def test_active_version_is_not_reverted_from_history(client, request, user, active):
    """Was a bug: the revert saved the active version and the trigger made a 500."""
    client.force_login(request.getfixturevalue(user))
    # Its first history row is the draft the protocol load started from.
    first = active.history.earliest()
    assert first.state == CriteriaVersion.State.DRAFT
    revert = reverse(
        "admin:trials_criteriaversion_simple_history",
        args=[active.pk, first.history_id],
    )
    assert client.get(revert).status_code == HTTPStatus.OK
    data = {"label": "Changed", "change_reason": "Revert the active version"}

    response = client.post(revert, data)

    assert response.status_code == HTTPStatus.FORBIDDEN
    active.refresh_from_db()
    assert (active.label, active.state) == (
        "Protocol as registered (v1)",
        CriteriaVersion.State.ACTIVE,
    )


def test_draft_version_is_reverted_from_history_with_a_reason(
    root_client, superuser, draft
):
    change = _url(CriteriaVersion, "change", draft.pk)
    data = change_form_data(root_client.get(change))
    data.update(label="Protocol v2.1", change_reason="Renamed by the sponsor")
    assert root_client.post(change, data).status_code == HTTPStatus.FOUND
    revert = reverse(
        "admin:trials_criteriaversion_simple_history",
        args=[draft.pk, draft.history.earliest().history_id],
    )
    data = change_form_data(root_client.get(revert))
    data["change_reason"] = "Back to the amendment's name"

    assert root_client.post(revert, data).status_code == HTTPStatus.FOUND

    draft.refresh_from_db()
    assert draft.label == "Protocol v2.0 (amendment 1)"
    latest = draft.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        superuser,
        "Back to the amendment's name",
    )


# A draft's own settings, the version of each history row, the signed records


def test_a_drafts_labels_margin_and_window_are_edited_with_a_reason(
    client, trial_admin, draft
):
    client.force_login(trial_admin)
    url = _url(CriteriaVersion, "change", draft.pk)
    page = client.get(url)
    form = page.context["adminform"].form
    for name in ("label_zh_hans", "near_miss_margin_percent", "default_lookback_hours"):
        assert name in form.fields
    data = change_form_data(page)
    assert data["near_miss_margin_percent"] == D(10)
    data.update(
        label_zh_hans="方案第1次修订",
        near_miss_margin_percent="5",
        default_lookback_hours="48",
        change_reason="Amendment 1: near miss within 5 %, values of the last 48 h",
    )

    assert client.post(url, data).status_code == HTTPStatus.FOUND

    draft.refresh_from_db()
    assert (
        draft.label_zh_hans,
        draft.near_miss_margin_percent,
        draft.default_lookback_hours,
    ) == ("方案第1次修订", D(5), 48)
    latest = draft.history.latest()
    assert latest.history_change_reason.startswith("Amendment 1")
    # The database's check and the field's validators refuse a margin over 100.
    data.update(near_miss_margin_percent="150", change_reason="Too wide")
    refused = client.post(url, data)
    assert refused.status_code == HTTPStatus.OK
    errors = refused.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["near_miss_margin_percent"]] == ["max_value"]
    draft.refresh_from_db()
    assert draft.near_miss_margin_percent == D(5)


def test_an_active_versions_margin_and_window_are_read_only(root_client, active):
    page = root_client.get(_url(CriteriaVersion, "change", active.pk))
    shown = {
        field.field["name"]: field.is_readonly
        for fieldset in page.context["adminform"]
        for line in fieldset
        for field in line
    }
    assert shown["near_miss_margin_percent"] is True
    assert shown["default_lookback_hours"] is True
    assert shown["label_zh_hans"] is True
    response = root_client.post(
        _url(CriteriaVersion, "change", active.pk),
        {"near_miss_margin_percent": "5", "change_reason": "Edit the active one"},
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    active.refresh_from_db()
    assert active.near_miss_margin_percent == D(10)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_admin_history_names_the_version_of_each_row(
    root_client, draft, crp, i6, language
):
    crp.value_low = D(5)
    crp._change_reason = "Amendment 1: CRP above 5 mg/L"
    crp.save()
    with translation.override(language):
        name = str(draft)
        column = translation.gettext("version")
    for obj in (i6, crp):
        page = root_client.get(
            _url(type(obj), "history", obj.pk), HTTP_ACCEPT_LANGUAGE=language
        )
        assert page.status_code == HTTPStatus.OK
        assert page.context["history_list_display"] == ["version"]
        records = list(page.context["page_obj"])
        assert records
        assert {str(record.version) for record in records} == {name}
        html = page.content.decode()
        assert f'<th scope="col">{column}</th>' in html
        assert f"<td>{name}</td>" in html
    translation.deactivate()


def test_the_condition_list_names_each_rows_version(root_client, draft, active):
    response = root_client.get(_url(Condition, "changelist"), {"q": "crp"})
    model_admin = response.context["cl"].model_admin
    shown = sorted(model_admin.version(c) for c in _changelist_rows(response))
    assert shown == sorted([str(active), str(draft)])


def test_impact_reports_and_activations_are_shown_read_only(client, trial_admin, draft):
    activation = activate(draft, trial_admin)
    report = ImpactReport.objects.get(version=draft)
    client.force_login(trial_admin)
    for model, obj in ((ImpactReport, report), (VersionActivation, activation)):
        page = client.get(_url(model, "change", obj.pk))
        assert page.status_code == HTTPStatus.OK
        assert not page.context["has_change_permission"]
        fields = [
            field
            for fieldset in page.context["adminform"]
            for line in fieldset
            for field in line
        ]
        # Every field of the record is shown, none can be edited.
        assert {field.field["name"] for field in fields} >= {
            f.name for f in model._meta.concrete_fields if f.name != "id"
        }
        assert all(field.is_readonly for field in fields)
        assert client.get(_url(model, "add")).status_code == HTTPStatus.FORBIDDEN
        assert client.post(
            _url(model, "delete", obj.pk), {"post": "yes"}
        ).status_code == (HTTPStatus.FORBIDDEN)
