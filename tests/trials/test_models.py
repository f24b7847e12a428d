"""Trial, Criterion and Condition: what the database refuses and what clean() says."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from screening.domain.engine import ConditionSpec, Operator
from trials.models import Condition, Criterion, Trial
from trials.services import version_draft_create

pytestmark = pytest.mark.django_db

# The ways a condition row can be malformed, each with the database constraint(s)
# that must refuse it. Where a row breaks the shape of the operator and also names
# an unregistered variable, either constraint may be the one the database reports.
BAD_CONDITIONS = [
    pytest.param(
        {"variable": "pta_percent", "operator": "BETWEEN", "value_low": D(20)},
        {"condition_between_bounds_ordered"},
        id="between-without-upper-bound",
    ),
    pytest.param(
        {"variable": "pta_percent", "operator": "BETWEEN", "value_high": D(40)},
        {"condition_between_bounds_ordered"},
        id="between-without-lower-bound",
    ),
    pytest.param(
        {
            "variable": "pta_percent",
            "operator": "BETWEEN",
            "value_low": D(40),
            "value_high": D(20),
        },
        {"condition_between_bounds_ordered"},
        id="between-bounds-reversed",
    ),
    pytest.param(
        {
            "variable": "inr",
            "operator": "BETWEEN",
            "value_low": D("2.6"),
            "value_high": D("2.5999"),
        },
        {"condition_between_bounds_ordered"},
        id="between-bounds-reversed-by-one-step",
    ),
    pytest.param(
        {
            "variable": "inr",
            "operator": "BETWEEN",
            "value_low": D("1.5"),
            "value_high": D("2.6"),
            "values": "1.5,2.6",
        },
        {"condition_between_bounds_ordered"},
        id="between-with-categories",
    ),
    pytest.param(
        {
            "variable": "liver_failure_stage",
            "operator": "BETWEEN",
            "value_low": D(1),
            "value_high": D(2),
        },
        {"condition_between_bounds_ordered"},
        id="between-on-category",
    ),
    pytest.param(
        {
            "variable": "pt_prolongation_s",
            "operator": "GT_LT",
            "value_low": D(5),
            "value_high": D(5),
        },
        {"condition_open_range_bounds_ordered"},
        id="open-range-equal-bounds",
    ),
    pytest.param(
        {
            "variable": "pt_prolongation_s",
            "operator": "GT_LT",
            "value_low": D(20),
            "value_high": D(5),
        },
        {"condition_open_range_bounds_ordered"},
        id="open-range-bounds-reversed",
    ),
    pytest.param(
        {"variable": "pt_prolongation_s", "operator": "GT_LT", "value_low": D(5)},
        {"condition_open_range_bounds_ordered"},
        id="open-range-without-upper-bound",
    ),
    pytest.param(
        {
            "variable": "liver_failure_stage",
            "operator": "GT_LT",
            "value_low": D(1),
            "value_high": D(2),
        },
        {"condition_open_range_bounds_ordered"},
        id="open-range-on-category",
    ),
    pytest.param(
        {"variable": "meld", "operator": "GT"},
        {"condition_comparison_shape"},
        id="gt-without-value",
    ),
    pytest.param(
        {"variable": "meld", "operator": "GT", "value_low": D(30), "value_high": D(40)},
        {"condition_comparison_shape"},
        id="gt-with-upper-bound",
    ),
    pytest.param(
        {"variable": "tbil_umol_l", "operator": "GTE", "value_high": D(171)},
        {"condition_comparison_shape"},
        id="gte-with-only-upper-bound",
    ),
    pytest.param(
        {
            "variable": "he_grade",
            "operator": "LTE",
            "value_low": D(2),
            "values": "2",
        },
        {"condition_comparison_shape"},
        id="lte-with-categories",
    ),
    pytest.param(
        {"variable": "diabetes", "operator": "LT", "value_low": D(1)},
        {"condition_comparison_shape"},
        id="lt-on-checklist-item",
    ),
    pytest.param(
        {
            "variable": "liver_failure_stage",
            "operator": "GTE",
            "value_low": D(1),
        },
        {"condition_comparison_shape"},
        id="gte-on-category",
    ),
    pytest.param(
        {"variable": "crp_mg_l", "operator": "IS_TRUE"},
        {"condition_boolean_shape"},
        id="is-true-on-number",
    ),
    pytest.param(
        {"variable": "liver_failure_stage", "operator": "IS_FALSE"},
        {"condition_boolean_shape"},
        id="is-false-on-category",
    ),
    pytest.param(
        {"variable": "dic", "operator": "IS_TRUE", "value_low": D(1)},
        {"condition_boolean_shape"},
        id="is-true-with-value",
    ),
    pytest.param(
        {"variable": "dic", "operator": "IS_TRUE", "value_high": D(1)},
        {"condition_boolean_shape"},
        id="is-true-with-upper-bound",
    ),
    pytest.param(
        {"variable": "diabetes", "operator": "IS_FALSE", "values": "yes"},
        {"condition_boolean_shape"},
        id="is-false-with-categories",
    ),
    pytest.param(
        {"variable": "liver_failure_stage", "operator": "IN", "values": ""},
        {"condition_in_shape"},
        id="in-without-categories",
    ),
    pytest.param(
        {"variable": "meld", "operator": "IN", "values": "30,31"},
        {"condition_in_shape"},
        id="in-on-number",
    ),
    pytest.param(
        {
            "variable": "liver_failure_stage",
            "operator": "IN",
            "values": "early",
            "value_low": D(1),
        },
        {"condition_in_shape"},
        id="in-with-value",
    ),
    pytest.param(
        {"variable": "liver_failure_stage", "operator": "EQ", "values": ""},
        {"condition_equals_shape"},
        id="eq-on-category-without-categories",
    ),
    pytest.param(
        {"variable": "meld", "operator": "EQ"},
        {"condition_equals_shape"},
        id="eq-on-number-without-value",
    ),
    pytest.param(
        {"variable": "meld", "operator": "EQ", "value_low": D(30), "value_high": D(31)},
        {"condition_equals_shape"},
        id="eq-on-number-with-upper-bound",
    ),
    pytest.param(
        {"variable": "dic", "operator": "EQ", "values": "true"},
        {"condition_equals_shape"},
        id="eq-on-checklist-item",
    ),
    pytest.param(
        {"variable": "alt_u_l", "operator": "GT", "value_low": D(40)},
        {"condition_variable_registered", "condition_comparison_shape"},
        id="unregistered-variable",
    ),
    pytest.param(
        {"variable": "", "operator": "IS_TRUE"},
        {"condition_variable_registered", "condition_boolean_shape"},
        id="empty-variable",
    ),
    pytest.param(
        {"variable": "meld", "operator": "NE", "value_low": D(30)},
        {"condition_operator_valid"},
        id="unregistered-operator",
    ),
    pytest.param(
        {"variable": "meld", "operator": "", "value_low": D(30)},
        {"condition_operator_valid"},
        id="empty-operator",
    ),
]

GOOD_CONDITIONS = [
    pytest.param(
        {
            "variable": "pta_percent",
            "operator": "BETWEEN",
            "value_low": D(20),
            "value_high": D(40),
        },
        id="between",
    ),
    pytest.param(
        {
            "variable": "inr",
            "operator": "BETWEEN",
            "value_low": D("2.6"),
            "value_high": D("2.6"),
        },
        id="between-equal-bounds",
    ),
    pytest.param(
        {
            "variable": "pt_prolongation_s",
            "operator": "GT_LT",
            "value_low": D(5),
            "value_high": D("5.0001"),
        },
        id="open-range-one-step-wide",
    ),
    pytest.param({"variable": "meld", "operator": "GT", "value_low": D(30)}, id="gt"),
    pytest.param(
        {"variable": "tbil_umol_l", "operator": "GTE", "value_low": D(171)}, id="gte"
    ),
    pytest.param({"variable": "inr", "operator": "LT", "value_low": D(3)}, id="lt"),
    pytest.param(
        {"variable": "he_grade", "operator": "LTE", "value_low": D(0)}, id="lte-zero"
    ),
    pytest.param(
        {"variable": "meld", "operator": "EQ", "value_low": D(30)}, id="eq-on-number"
    ),
    pytest.param(
        {"variable": "liver_failure_stage", "operator": "EQ", "values": "late"},
        id="eq-on-category",
    ),
    pytest.param(
        {
            "variable": "liver_failure_stage",
            "operator": "IN",
            "values": "early,intermediate",
        },
        id="in-on-category",
    ),
    pytest.param({"variable": "dic", "operator": "IS_TRUE"}, id="is-true"),
    pytest.param({"variable": "diabetes", "operator": "IS_FALSE"}, id="is-false"),
]

# Shapes whose variable field is itself invalid: Django skips the constraints then.
CODED_WITHOUT_CONSTRAINTS = {"unregistered-variable", "empty-variable"}
BAD_OPERATORS = {"unregistered-operator", "empty-operator"}


def _draft(trial):
    """The trial's draft version (only drafts can be changed), made on first use."""
    draft = trial.versions.filter(state="DRAFT").first()
    return draft or version_draft_create(trial=trial, user=None, label="Test draft")


@pytest.fixture
def criterion(trial):
    return Criterion.objects.get(version=_draft(trial), code="I6")


@pytest.fixture
def other_trial(db):
    return Trial.objects.create(
        slug="nct00000000",
        registry_id="NCT00000000",
        title="Another trial",
        sponsor="Someone",
        site="Somewhere",
    )


def _criterion_row(trial, **fields):
    values = {
        "trial": trial,
        "version": _draft(trial),
        "code": "I9",
        "kind": Criterion.Kind.INCLUSION,
        "position": 99,
        "text": "An added criterion",
    }
    values.update(fields)
    return values


def _fields_of(params, keep):
    """The condition fields of BAD_CONDITIONS whose id passes ``keep``."""
    return [pytest.param(p.values[0], id=p.id) for p in params if keep(p.id)]


def _condition(criterion, fields):
    values = {"values": "", "unit": ""}
    values.update(fields)
    return Condition(criterion=criterion, **values)


def _codes(error: ValidationError) -> list:
    return [e.code for errors in error.error_dict.values() for e in errors]


# Criterion: database constraints


def test_criterion_code_is_unique_per_trial(trial):
    with pytest.raises(IntegrityError, match="code"), transaction.atomic():
        Criterion.objects.create(**_criterion_row(trial, code="I6"))
    assert Criterion.objects.filter(version=_draft(trial), code="I6").count() == 1


def test_criterion_code_is_unique_per_trial_in_bulk(trial):
    rows = [Criterion(**_criterion_row(trial, code="I9")) for _ in range(2)]
    with pytest.raises(IntegrityError), transaction.atomic():
        Criterion.objects.bulk_create(rows)
    assert not Criterion.objects.filter(code="I9").exists()


def test_same_code_is_allowed_in_another_trial(trial, other_trial):
    Criterion.objects.create(**_criterion_row(other_trial, code="I6"))
    assert Criterion.objects.filter(code="I6").count() == 2


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("E9", Criterion.Kind.INCLUSION),
        ("I9", Criterion.Kind.EXCLUSION),
        ("X1", Criterion.Kind.INCLUSION),
        ("9", Criterion.Kind.EXCLUSION),
        ("", Criterion.Kind.INCLUSION),
    ],
)
def test_criterion_code_prefix_must_match_kind(trial, code, kind):
    with (
        pytest.raises(IntegrityError, match="criterion_code_matches_kind"),
        transaction.atomic(),
    ):
        Criterion.objects.create(**_criterion_row(trial, code=code, kind=kind))


@pytest.mark.parametrize(
    ("code", "kind"),
    [("i9", Criterion.Kind.INCLUSION), ("e7", Criterion.Kind.EXCLUSION)],
)
def test_criterion_code_prefix_is_case_sensitive(trial, code, kind):
    with (
        pytest.raises(IntegrityError, match="criterion_code_matches_kind"),
        transaction.atomic(),
    ):
        Criterion.objects.create(**_criterion_row(trial, code=code, kind=kind))


def test_criterion_kind_must_be_a_choice(trial):
    with (
        pytest.raises(
            IntegrityError, match="criterion_kind_valid|criterion_code_matches_kind"
        ),
        transaction.atomic(),
    ):
        Criterion.objects.create(**_criterion_row(trial, code="I9", kind="OTHER"))


@pytest.mark.parametrize(
    ("code", "kind"),
    [("I9", Criterion.Kind.INCLUSION), ("E7", Criterion.Kind.EXCLUSION)],
)
def test_criterion_with_matching_prefix_is_stored(trial, code, kind):
    Criterion.objects.create(**_criterion_row(trial, code=code, kind=kind))
    assert Criterion.objects.get(trial=trial, code=code).kind == kind


# Criterion: model validation


def test_criterion_full_clean_refuses_duplicate_code(trial):
    with pytest.raises(ValidationError) as caught:
        Criterion(**_criterion_row(trial, code="E4", kind="EXCLUSION")).full_clean()
    assert "unique_together" in _codes(caught.value)


def test_criterion_full_clean_refuses_code_of_the_other_kind(trial):
    with pytest.raises(ValidationError):
        Criterion(**_criterion_row(trial, code="E9", kind="INCLUSION")).full_clean()


def test_criterion_full_clean_error_carries_a_code(trial):
    with pytest.raises(ValidationError) as caught:
        Criterion(**_criterion_row(trial, code="E9", kind="INCLUSION")).full_clean()
    assert None not in _codes(caught.value)


def test_criterion_full_clean_accepts_a_valid_row(trial):
    Criterion(**_criterion_row(trial, code="E7", kind="EXCLUSION")).full_clean()


# Condition: database constraints


@pytest.mark.parametrize(("fields", "constraints"), BAD_CONDITIONS)
def test_database_refuses_malformed_condition(criterion, fields, constraints):
    before = Condition.objects.count()
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Condition.objects.create(criterion=criterion, **({"values": ""} | fields))
    assert any(name in str(caught.value) for name in constraints), caught.value
    assert Condition.objects.count() == before


@pytest.mark.parametrize(("fields", "constraints"), BAD_CONDITIONS)
def test_database_refuses_malformed_condition_in_bulk(criterion, fields, constraints):
    good = _condition(criterion, {"variable": "dic", "operator": "IS_TRUE"})
    before = Condition.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        Condition.objects.bulk_create([good, _condition(criterion, fields)])
    assert Condition.objects.count() == before


@pytest.mark.parametrize("fields", GOOD_CONDITIONS)
def test_database_stores_well_formed_condition(criterion, fields):
    stored = Condition.objects.create(criterion=criterion, **fields)
    stored.refresh_from_db()
    assert stored.variable == fields["variable"]
    assert stored.value_low == fields.get("value_low")
    assert stored.value_high == fields.get("value_high")


def test_database_refuses_update_that_breaks_the_shape(criterion):
    crp = criterion.conditions.get(variable="crp_mg_l")
    with (
        pytest.raises(IntegrityError, match="condition_comparison_shape"),
        transaction.atomic(),
    ):
        Condition.objects.filter(pk=crp.pk).update(value_low=None)
    crp.refresh_from_db()
    assert crp.value_low == D(10)


# Condition: model validation


@pytest.mark.parametrize(
    "fields", _fields_of(BAD_CONDITIONS, lambda id_: id_ not in BAD_OPERATORS)
)
def test_full_clean_refuses_malformed_condition(criterion, fields):
    with pytest.raises(ValidationError):
        _condition(criterion, fields).full_clean()


@pytest.mark.parametrize("operator", ["NE", ""])
def test_full_clean_refuses_unregistered_operator_with_validation_error(
    criterion, operator
):
    row = _condition(
        criterion, {"variable": "meld", "operator": operator, "value_low": D(30)}
    )
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert caught.value.error_dict["operator"][0].code in {"invalid_choice", "blank"}


# Shapes that the engine's spec itself rejects: clean() names the problem.
SHAPE_ERRORS = {
    "between-without-upper-bound",
    "between-without-lower-bound",
    "between-bounds-reversed",
    "between-bounds-reversed-by-one-step",
    "between-on-category",
    "open-range-equal-bounds",
    "open-range-bounds-reversed",
    "open-range-without-upper-bound",
    "open-range-on-category",
    "gt-without-value",
    "gte-with-only-upper-bound",
    "lt-on-checklist-item",
    "gte-on-category",
    "is-true-on-number",
    "is-false-on-category",
    "in-without-categories",
    "in-on-number",
    "eq-on-category-without-categories",
    "eq-on-number-without-value",
    "eq-on-checklist-item",
    "unregistered-variable",
    "empty-variable",
}


@pytest.mark.parametrize(
    "fields", _fields_of(BAD_CONDITIONS, lambda id_: id_ in SHAPE_ERRORS)
)
def test_full_clean_names_the_condition_shape(criterion, fields):
    with pytest.raises(ValidationError) as caught:
        _condition(criterion, fields).full_clean()
    assert "condition_shape" in _codes(caught.value)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(
            p.values[0],
            id=p.id,
        )
        for p in BAD_CONDITIONS
        if p.id not in BAD_OPERATORS
    ],
)
def test_full_clean_errors_all_carry_a_code(criterion, fields):
    with pytest.raises(ValidationError) as caught:
        _condition(criterion, fields).full_clean()
    assert None not in _codes(caught.value)


def test_full_clean_refuses_unknown_category(criterion):
    row = _condition(
        criterion,
        {"variable": "liver_failure_stage", "operator": "IN", "values": "early,acute"},
    )
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert caught.value.error_dict["values"][0].code == "unknown_category"


def test_full_clean_refuses_several_values_for_equals(criterion):
    row = _condition(
        criterion,
        {"variable": "liver_failure_stage", "operator": "EQ", "values": "early,late"},
    )
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert _codes(caught.value) == ["condition_shape"]


@pytest.mark.parametrize("fields", GOOD_CONDITIONS)
def test_full_clean_accepts_well_formed_condition(criterion, fields):
    _condition(criterion, fields).full_clean()


# Condition.to_spec()


def test_to_spec_of_every_loaded_condition_round_trips(trial):
    conditions = list(Condition.objects.filter(criterion__trial=trial))
    assert len(conditions) == 21
    for stored in conditions:
        spec = stored.to_spec()
        rebuilt = Condition(
            criterion=stored.criterion,
            variable=spec.variable,
            operator=spec.operator,
            value_low=spec.low,
            value_high=spec.high,
            values=",".join(spec.values),
            unit=spec.unit,
            supporting=spec.supporting,
            lookback_hours=spec.lookback_hours,
            relative_to_uln=spec.relative_to_uln,
            lab_uln_replaces=spec.lab_uln_replaces,
        )
        rebuilt.full_clean()
        assert rebuilt.to_spec() == spec


def test_to_spec_carries_every_value(criterion):
    stored = Condition.objects.create(
        criterion=criterion,
        position=5,
        variable="inr",
        operator="BETWEEN",
        value_low=D("1.5"),
        value_high=D("2.6"),
        unit="",
    )
    stored.refresh_from_db()
    assert stored.to_spec() == ConditionSpec(
        variable="inr",
        operator=Operator.BETWEEN,
        low=D("1.5"),
        high=D("2.6"),
        values=(),
        unit="",
    )
    # Stored with four places, handed to the engine without trailing zeros.
    assert str(stored.to_spec().low) == "1.5"


def test_to_spec_splits_and_trims_categories(criterion):
    row = _condition(
        criterion,
        {
            "variable": "liver_failure_stage",
            "operator": "IN",
            "values": " early , intermediate ,",
        },
    )
    spec = row.to_spec()
    assert spec.values == ("early", "intermediate")
    assert spec.low is None
    assert spec.high is None
    assert spec.operator is Operator.IN


@pytest.mark.parametrize(
    ("variable", "shown"),
    [
        ("crp_mg_l", "crp_mg_l > 10 mg/L"),
        ("pct_ng_ml", "pct_ng_ml > 0.05 ng/mL"),
    ],
)
def test_str_of_a_stored_condition_shows_its_threshold(criterion, variable, shown):
    stored = Condition.objects.get(criterion=criterion, variable=variable)
    assert str(stored) == shown
