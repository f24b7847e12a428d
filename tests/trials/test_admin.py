"""Django admin for the trial's criteria: pages, filters, reasons, history, deletion."""

from datetime import date
from decimal import Decimal as D
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from screening.assessment import active_criteria, assess
from screening.criteria import criteria_load
from screening.domain.engine import Decision, Outcome, evaluate
from tests.factories import eligible_candidate
from trials.models import Condition, Criterion, Trial

pytestmark = pytest.mark.django_db

SCREENING_DAY = date(2026, 6, 1)

MODELS = [
    pytest.param(Trial, id="trial"),
    pytest.param(Criterion, id="criterion"),
    pytest.param(Condition, id="condition"),
]


def candidate_assess(*, trial, data, today):
    """The pipeline against the trial's current active criteria."""
    return assess(data=data, criteria=active_criteria(trial=trial), today=today)


def _url(model, view, *args):
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def _value(bound_field):
    value = bound_field.value()
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


@pytest.fixture
def crp(trial):
    return Condition.objects.get(criterion__trial=trial, variable="crp_mg_l")


@pytest.fixture
def i6(trial):
    return Criterion.objects.get(trial=trial, code="I6")


def _object_of(model, trial):
    if model is Trial:
        return trial
    if model is Criterion:
        return Criterion.objects.get(trial=trial, code="I6")
    return Condition.objects.get(criterion__trial=trial, variable="crp_mg_l")


# Pages render


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("view", ["changelist", "add"])
def test_list_and_add_pages_render(admin_client, trial, model, view):
    response = admin_client.get(_url(model, view))
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("view", ["change", "history"])
def test_change_and_history_pages_render(admin_client, trial, model, view):
    obj = _object_of(model, trial)
    response = admin_client.get(_url(model, view, obj.pk))
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("model", MODELS)
def test_history_version_page_renders(admin_client, trial, model):
    obj = _object_of(model, trial)
    version = obj.history.earliest()
    url = reverse(
        f"admin:trials_{model._meta.model_name}_simple_history",
        args=[obj.pk, version.history_id],
    )
    response = admin_client.get(url)
    assert response.status_code == HTTPStatus.OK


def test_trial_page_lists_its_criteria_inline(root_client, trial):
    response = root_client.get(_url(Trial, "change", trial.pk))
    sites, inline = response.context["inline_admin_formsets"]
    assert [form.instance.code for form in sites.formset.forms] == ["01"]
    codes = [form.instance.code for form in inline.formset.forms]
    assert codes == [*(f"I{n}" for n in range(1, 9)), *(f"E{n}" for n in range(1, 7))]


def test_criterion_page_lists_its_conditions_inline(root_client, i6):
    response = root_client.get(_url(Criterion, "change", i6.pk))
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


def test_criterion_filter_by_active_shows_deactivated(admin_client, trial):
    Criterion.objects.filter(trial=trial, code="E6").update(active=False)
    response = admin_client.get(_url(Criterion, "changelist"), {"active__exact": "0"})
    assert [c.code for c in _changelist_rows(response)] == ["E6"]


def test_criterion_filter_by_trial(admin_client, admin_user, trial):
    other = Trial.objects.create(
        slug="other", registry_id="NCT00000001", title="t", sponsor="s", site="x"
    )
    Criterion.objects.create(
        trial=other, code="I1", kind="INCLUSION", position=1, text="Other trial's I1"
    )
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


def test_add_criterion_without_reason_creates_nothing(root_client, trial):
    response = root_client.post(
        _url(Criterion, "add"),
        {
            "trial": trial.pk,
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
    assert not Criterion.objects.filter(code="E7").exists()


# Done when: an admin changes the CRP threshold from 10 to 5 mg/L


@pytest.mark.criterion("I6")
def test_admin_changes_crp_threshold_with_history_and_engine_follows(
    client, trial_admin, trial, crp
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

    after = candidate_assess(trial=trial, data=candidate, today=SCREENING_DAY)
    assert _i6(after.evaluation).outcome is Outcome.MET
    assert after.evaluation.decision is Decision.ELIGIBLE


@pytest.mark.criterion("I6")
def test_crp_threshold_change_seen_by_criteria_load_and_engine(trial, crp):
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

    criteria = criteria_load(trial=trial)
    (spec,) = [c for s in criteria.specs if s.code == "I6" for c in s.conditions][2:3]
    assert (spec.variable, spec.low) == ("crp_mg_l", D(5))
    assert _i6(evaluate(criteria.specs, facts)).outcome is Outcome.MET
    assert criteria.snapshot[5]["conditions"][2]["value_low"] == "5"
    assert criteria.snapshot[5]["conditions"][2]["history_id"] == (
        crp.history.latest().history_id
    )


@pytest.mark.criterion("I6")
@pytest.mark.parametrize(
    ("crp_value", "outcome"),
    [("5", Outcome.NOT_MET), ("5.1", Outcome.MET), ("7", Outcome.MET)],
)
def test_lowered_crp_threshold_is_strict(trial, crp, crp_value, outcome):
    Condition.objects.filter(pk=crp.pk).update(value_low=D(5))
    assessment = candidate_assess(
        trial=trial, data=_inflammation(crp=crp_value), today=SCREENING_DAY
    )
    assert _i6(assessment.evaluation).outcome is outcome


# Editing a criterion with its conditions inline


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
    root_client, superuser, trial
):
    e5 = Criterion.objects.get(trial=trial, code="E5")
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


def test_trial_page_edits_a_criterion_inline_with_the_reason(
    root_client, superuser, trial
):
    url = _url(Trial, "change", trial.pk)
    data = change_form_data(root_client.get(url))
    e6_row = _inline_prefix(data, "criteria", "code", "E6")
    data.pop(f"{e6_row}-active")
    data["change_reason"] = "E6 judged at consent visit instead"

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    e6 = Criterion.objects.get(trial=trial, code="E6")
    assert not e6.active
    version = e6.history.latest()
    assert version.history_change_reason == "E6 judged at consent visit instead"
    assert version.history_user == superuser
    assert Criterion.history.filter(history_type="~").count() == 1


def test_condition_add_page_saves_with_reason(root_client, superuser, trial):
    e4 = Criterion.objects.get(trial=trial, code="E4")
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


def test_condition_add_without_operator_shows_a_form_error(root_client, trial):
    e4 = Criterion.objects.get(trial=trial, code="E4")
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
    root_client, trial, fields, field_with_error
):
    e4 = Criterion.objects.get(trial=trial, code="E4")
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


def test_trial_inline_cannot_delete_a_used_criterion(root_client, record, trial):
    record()
    url = _url(Trial, "change", trial.pk)
    data = change_form_data(root_client.get(url))
    e4_row = _inline_prefix(data, "criteria", "code", "E4")
    data.update({f"{e4_row}-DELETE": "on", "change_reason": "Drop MELD"})

    response = root_client.post(url, data)

    assert response.status_code == HTTPStatus.OK
    assert Criterion.objects.filter(trial=trial, code="E4").exists()


def test_unused_criterion_is_deleted_on_the_trial_page_with_the_reason(
    root_client, superuser, trial
):
    e4 = Criterion.objects.get(trial=trial, code="E4")
    url = _url(Trial, "change", trial.pk)
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


def test_conditions_removed_with_their_criterion_carry_the_reason(root_client, trial):
    e5 = Criterion.objects.get(trial=trial, code="E5")
    url = _url(Trial, "change", trial.pk)
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
    client, trial_admin, trial, record
):
    record()
    e4 = Criterion.objects.get(trial=trial, code="E4")
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
    criteria = criteria_load(trial=trial)
    assert "E4" not in [spec.code for spec in criteria.specs]
    assert len(criteria.specs) == 13
    # A candidate with MELD > 30 is no longer excluded by E4.
    sick = eligible_candidate(
        tbil={"value": "600", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"},
        inr="2.6",
        creatinine={"value": "300", "unit": "umol/L"},
    )
    assessment = candidate_assess(trial=trial, data=sick, today=SCREENING_DAY)
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
