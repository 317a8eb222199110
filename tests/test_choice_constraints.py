"""Constraints that only say a field holds one of its choices are judged by the field
(issue 14): ``validate_constraints`` no longer asks the database about them (a savepoint
and a query each), because ``clean_fields`` has refused every value they refuse. These
tests hold that promise for every curated model, keep the database's own check, and pin
what a saved claim costs."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

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


def test_saving_a_claim_asks_the_database_only_what_the_field_cannot_judge(curator):
    """A new draft's validation: the four foreign keys exist (created_by, therapy,
    abnormality, source), the year of its source, and the one compound constraint (link
    kind with abnormality) in its savepoint; none of the choices-only constraints."""
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
    checks = [q["sql"] for q in queries.captured_queries if '"_check"' in q["sql"]]
    assert len(checks) == 1, checks
    assert "rationale" in checks[0]
    with CaptureQueriesContext(connection) as edit_queries:
        record_edit(record=evidence, fields={"curator_note": "Edited."}, user=curator)
    edit_checks = [q["sql"] for q in edit_queries.captured_queries if '"_check"' in q["sql"]]
    assert len(edit_checks) == 1, edit_checks
