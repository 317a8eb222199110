"""Check constraints without a query per constraint (issue 14).

Constraints that only say a field holds one of its choices are judged by the field:
``validate_constraints`` no longer asks the database about them (a savepoint and a query
each), because ``clean_fields`` has refused every value they refuse. The other check
constraints are decided in Python where that is certain (curation/checks.py) and by the
database otherwise. These tests hold both promises for every model (the same verdict as
the database's over a grid of values), keep the database's own check, and pin what a
saved claim costs."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from curation.checks import Undecided, condition_truth
from curation.models import Moderated, Status, choices_judged_by_field
from curation.services import record_create, record_edit
from findings.models import Direction, Level, Source
from tests import factories
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db


def check(condition: Q) -> models.CheckConstraint:
    return models.CheckConstraint(condition=condition, name="t")


@pytest.mark.parametrize(
    ("model", "constraint", "judged"),
    [
        (TherapyEvidence, check(Q(status__in=Status.values)), True),
        (TherapyEvidence, check(Q(level__in=Level.values)), True),
        (TherapyEvidence, check(Q(direction__in=Direction.values)), True),
        # More values than the choices: still nothing the field lets through is refused.
        (TherapyEvidence, check(Q(level__in=[*Level.values, "Z"])), True),
        # A choice missing from the constraint: the field would let it through.
        (TherapyEvidence, check(Q(level__in=Level.values[:-1])), False),
        # link_kind may be blank: "" must be allowed by the constraint too.
        (TherapyEvidence, check(Q(link_kind__in=["rationale", "selected", "measured"])), False),
        (TherapyEvidence, check(Q(link_kind__in=["", "rationale", "selected", "measured"])), True),
        # Not a field's choices: other fields, negations, compounds, other lookups.
        (TherapyEvidence, check(~Q(level__in=Level.values)), False),
        (TherapyEvidence, check(Q(level__in=Level.values) | Q(level="")), False),
        (TherapyEvidence, check(Q(level__in=Level.values, direction="supports")), False),
        (TherapyEvidence, check(Q(level=Level.A)), False),
        (TherapyEvidence, check(Q(statement__in=["a"])), False),  # no choices
        (TherapyEvidence, check(Q(therapy__in=[1])), False),  # a relation
        (TherapyEvidence, check(Q(no_such_field__in=["a"])), False),
        (Source, check(Q(notice_kind="") | Q(notice_kind__in=["x"])), False),
        (TherapyEvidence, models.UniqueConstraint(fields=["statement"], name="u"), False),
    ],
)
def test_which_constraints_the_field_judges(model, constraint, judged):
    assert choices_judged_by_field(model, constraint) is judged


def judged_constraints():
    """(model, field name) of every constraint left to the field, on every curated model."""
    found = []
    for model in apps.get_models():
        if not issubclass(model, Moderated):
            continue
        # Every constraint the model declares (Model's own list, before any model leaves
        # some to the fields).
        for owner, constraints in models.Model.get_constraints(model()):
            for constraint in constraints:
                if choices_judged_by_field(owner, constraint):
                    name = constraint.condition.children[0][0].removesuffix("__in")
                    found.append((model, name))
    return found


def test_every_curated_model_leaves_its_status_to_the_field():
    judged = judged_constraints()
    for model, name in judged:  # and validate_constraints leaves each of them out
        kept = [c for _, cs in model().get_constraints() for c in cs]
        assert not any(
            f"{name}__in" == c.condition.children[0][0]
            for c in kept
            if isinstance(c, models.CheckConstraint)
            and len(c.condition) == 1
            and isinstance(c.condition.children[0], tuple)
        )
    models_with_status = {m for m in apps.get_models() if issubclass(m, Moderated)}
    assert {m for m, name in judged if name == "status"} == models_with_status
    assert (TherapyEvidence, "level") in judged
    assert (TherapyEvidence, "direction") in judged
    assert (TherapyEvidence, "case_definition") in judged


@pytest.mark.parametrize(("model", "name"), judged_constraints())
def test_the_field_refuses_what_the_constraint_refuses(model, name):
    """What validate_constraints no longer asks the database, clean_fields refuses, at
    the field; the database still refuses it on a save that skips validation."""
    record = model()
    setattr(record, name, "not-a-choice")
    with pytest.raises(ValidationError) as caught:
        record.clean_fields()
    assert name in caught.value.message_dict
    assert "not a valid choice" in " ".join(caught.value.message_dict[name])


def test_the_database_still_checks_a_judged_constraint():
    evidence = factories.make_evidence()
    with pytest.raises(IntegrityError), transaction.atomic():
        TherapyEvidence.objects.filter(pk=evidence.pk).update(level="Z")
    evidence.refresh_from_db()
    assert evidence.level == Level.B


@pytest.mark.parametrize(
    ("field", "value"),
    [("level", "Z"), ("direction", "maybe"), ("case_definition", "mine"), ("status", "gone")],
)
def test_a_service_write_with_a_bad_choice_is_refused_at_the_field(curator, field, value):
    """The services (every door's write) still refuse a value outside the choices, with
    the message at the field, and write nothing."""
    base = {
        "therapy": factories.make_therapy().pk,
        "source": factories.make_source().pk,
        "statement": "A claim.",
        "direction": Direction.DESCRIBES,
        "level": Level.E,
    }
    before = TherapyEvidence.objects.count()
    with pytest.raises(ValidationError) as caught:
        record_create(model=TherapyEvidence, fields={**base, field: value}, user=curator)
    assert field in caught.value.message_dict
    assert TherapyEvidence.objects.count() == before


def test_saving_a_claim_asks_the_database_no_check_constraint(curator):
    """A new draft's and an edit's validation: the choices-only constraints judged by
    their fields, the rest (link kind with abnormality) decided in Python; no savepoint
    and SELECT per constraint."""
    base = {
        "therapy": factories.make_therapy().pk,
        "abnormality": factories.make_abnormality().pk,
        "link_kind": "rationale",
        "source": factories.make_source().pk,
        "statement": "A claim.",
        "direction": Direction.DESCRIBES,
        "level": Level.E,
    }
    with CaptureQueriesContext(connection) as queries:
        evidence = record_create(model=TherapyEvidence, fields=base, user=curator)
    assert not [q["sql"] for q in queries.captured_queries if '"_check"' in q["sql"]]
    with CaptureQueriesContext(connection) as edit_queries:
        record_edit(record=evidence, fields={"curator_note": "Edited."}, user=curator)
    assert not [q["sql"] for q in edit_queries.captured_queries if '"_check"' in q["sql"]]


# ---------------------------------------------------------------------------------------
# The other check constraints, decided in Python (curation/checks.py): the same verdict
# as the database's, for every constraint of every model, over a grid of values.
# ---------------------------------------------------------------------------------------


def candidates(field) -> list:
    """Values to try for ``field``: empty, every choice, a stranger, boundaries."""
    values = [None] if field.null else []
    if field.many_to_one:
        return [*values, 1]
    if field.choices:
        return [*values, "", *[v for v, _ in field.flatchoices], "not-a-choice"]
    if isinstance(field, models.DecimalField):
        return [*values, Decimal("-1"), Decimal("0"), Decimal("1.5"), Decimal("2")]
    if isinstance(field, models.IntegerField):
        return [*values, -1, 0, 1, 1799, 1800, 2100, 2101]
    if isinstance(field, models.BooleanField):
        return [*values, True, False]
    if isinstance(field, models.CharField | models.TextField):
        return [*values, "", "x", "HTTP://X", "10.1/abc", "10.1/ABC"]
    return values


def referenced(condition: Q) -> set[str]:
    names = set()
    for child in condition.children:
        if isinstance(child, Q):
            names |= referenced(child)
        else:
            names.add(child[0].split("__")[0])
    return names


def every_check_constraint():
    for model in apps.get_models():
        for owner, constraints in models.Model.get_constraints(model()):
            for constraint in constraints:
                if isinstance(constraint, models.CheckConstraint):
                    yield pytest.param(
                        owner,
                        constraint,
                        id=constraint.name
                        % {
                            "app_label": owner._meta.app_label,
                            "class": owner._meta.model_name,
                        },
                    )


# Constraints (by the end of their name) that Python decides for every value: those a
# curator's save meets.
DECIDED_IN_PYTHON = (
    "treatments_evidence_link_kind_with_abnormality",
    "treatments_evidence_selected_agrees_with_link_kind",
    "findings_source_year_range",
    "findings_source_notice_kind_valid",
    "about_something",
    "patients_at_least_one",
    "controls_at_least_one",
    "follow_up_positive",
    "effect_value_has_measure",
    "effect_ci_complete",
    "risk_of_bias_has_reason",
    "has_reason",
    "status_valid",
)


@pytest.mark.parametrize(("model", "constraint"), list(every_check_constraint()))
def test_python_and_the_database_agree(model, constraint):
    names = sorted(referenced(constraint.condition))
    fields = []
    for name in names:
        try:
            fields.append(model._meta.get_field(name))
        except FieldDoesNotExist:
            pytest.fail(f"{constraint.name}: no field {name}")
    grid = list(itertools.product(*(candidates(field) for field in fields)))
    decided = 0
    for combination in grid:
        values = dict(zip(names, combination, strict=True))
        try:
            in_python = condition_truth(constraint.condition, values)
        except Undecided:
            continue
        decided += 1
        against = {
            name: Value(value, field)
            for (name, value), field in zip(values.items(), fields, strict=True)
        }
        in_database = Q(constraint.condition).check(against)
        assert (in_python is not False) == in_database, (constraint.name, values, in_python)
    if constraint.name.endswith(DECIDED_IN_PYTHON):
        assert decided == len(grid), (constraint.name, decided, len(grid))
    # Which constraints stay with the database (a function, another field's value, a
    # regular expression): they must say so, not pass unchecked.
    if decided == 0:
        with pytest.raises(Undecided):
            condition_truth(constraint.condition, dict(zip(names, grid[0], strict=True)))


UNDECIDED_HERE = [
    ("doi", Lower("doi")),  # a function of a field
    ("effect_ci_low__lte", F("effect_value")),  # another field
    ("label__regex", "^[0-9]"),  # a lookup left to the database
    ("therapy__status", "published"),  # across a relation
    ("year__gte", "1800"),  # text against a number
    ("effect_value__gte", 1.5),  # a float against a decimal
    ("year__in", []),  # nothing to compare with
]


@pytest.mark.parametrize(("lookup", "wanted"), UNDECIDED_HERE)
def test_what_python_cannot_decide_is_left_to_the_database(lookup, wanted):
    values = {
        "doi": "10.1/x",
        "effect_ci_low": 1,
        "effect_value": Decimal("2"),
        "label": "v1",
        "therapy": 1,
        "year": 2000,
    }
    with pytest.raises(Undecided):
        condition_truth(Q((lookup, wanted)), values)


@pytest.mark.parametrize(
    ("link_kind", "with_abnormality", "valid"),
    [
        ("", False, True),
        ("measured", True, True),
        ("measured", False, False),
        ("", True, False),
    ],
)
def test_a_link_kind_without_an_abnormality_is_refused_with_the_constraints_message(
    curator, link_kind, with_abnormality, valid
):
    evidence = TherapyEvidence(
        therapy=factories.make_therapy(),
        abnormality=factories.make_abnormality() if with_abnormality else None,
        link_kind=link_kind,
        source=factories.make_source(),
        statement="A claim.",
        direction=Direction.DESCRIBES,
        level=Level.E,
        status=Status.DRAFT,
    )
    with CaptureQueriesContext(connection) as queries:
        try:
            evidence.validate_constraints()
            refused = None
        except ValidationError as exc:
            refused = exc
    assert not queries.captured_queries
    if valid:
        assert refused is None
    else:
        assert refused.message_dict == {
            "__all__": ["Give a link kind when an abnormality is named, and none when it is not."]
        }
