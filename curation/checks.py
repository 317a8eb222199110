"""Check constraints decided in Python where that is certain (issue 14).

Django's ``Model.validate_constraints`` asks the database about each ``CheckConstraint``
(a savepoint, a ``SELECT`` and a release: three statements per constraint per save). Most
of ours compare a field with plain values (``link_kind=""``, ``year__gte=1800``,
``abnormality__isnull=True``) joined by AND, OR and NOT; those are decided here with
SQL's three-valued logic (a comparison with NULL is unknown, and an unknown condition
passes, as Django's ``Coalesce(condition, True)`` lets it). Anything else (a reference
to another field, a function such as ``Lower``, a lookup across a relation, a
transform, values of mixed kinds) is left to the database, exactly as before.
``tests/test_constraint_checks.py`` holds both ways to the same answer over every
constraint of every curated model.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Undecided(Exception):
    """The condition needs the database (an expression, a relation, an unknown lookup)."""


_COMPARISONS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}
_NUMBERS = (int, float, decimal.Decimal)


def _same_kind(value: Any, wanted: Any) -> bool:
    """Whether Python compares the two as SQL does: text with text, numbers with numbers
    (not booleans), dates with dates of the same type."""
    if isinstance(value, str) and isinstance(wanted, str):
        return True
    if isinstance(value, bool) or isinstance(wanted, bool):
        return isinstance(value, bool) and isinstance(wanted, bool)
    if isinstance(value, _NUMBERS) and isinstance(wanted, _NUMBERS):
        return not (isinstance(value, float) or isinstance(wanted, float))
    if isinstance(value, datetime.date | datetime.time):
        return type(value) is type(wanted)
    return False


def _lookup_truth(lookup: str, wanted: Any, values: dict[str, Any]) -> bool | None:
    name, _, operator = lookup.partition("__")
    operator = operator or "exact"
    if name not in values or "__" in operator or hasattr(wanted, "resolve_expression"):
        raise Undecided(lookup)
    value = values[name]
    if operator == "isnull":
        if not isinstance(wanted, bool):
            raise Undecided(lookup)
        return (value is None) == wanted
    if operator == "exact" and wanted is None:
        return value is None  # Django writes `field=None` as IS NULL
    if operator == "in":
        if not isinstance(wanted, list | tuple | set | frozenset):
            raise Undecided(lookup)
        wanted = [w for w in wanted if w is not None]  # Django leaves NULLs out of IN
        if not wanted or not all(_same_kind(value, w) for w in wanted if value is not None):
            raise Undecided(lookup)
        return None if value is None else value in wanted
    if operator == "exact" or operator in _COMPARISONS:
        if value is None:
            return None  # NULL compared with anything: unknown
        if not _same_kind(value, wanted):
            raise Undecided(lookup)
        if operator == "exact":
            return value == wanted
        return _COMPARISONS[operator](value, wanted)
    raise Undecided(lookup)


def condition_truth(condition: Q, values: dict[str, Any]) -> bool | None:
    """``condition`` over the field values ``values`` ({field name: value}), in SQL's
    three-valued logic: True, False, or None (unknown). Raises ``Undecided`` for what
    only the database can judge."""
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(condition_truth(child, values))
        elif isinstance(child, tuple) and len(child) == 2 and isinstance(child[0], str):
            results.append(_lookup_truth(child[0], child[1], values))
        else:
            raise Undecided(repr(child))
    if condition.connector == Q.AND:
        result = False if False in results else (None if None in results else True)
    elif condition.connector == Q.OR:
        result = True if True in results else (None if None in results else False)
    else:
        raise Undecided(condition.connector)
    if condition.negated and result is not None:
        result = not result
    return result


class DecidedInPython:
    """A ``CheckConstraint`` as ``Model.validate_constraints`` uses it, validated without
    a query when its condition can be decided here, by the database otherwise. Only
    ``validate`` differs: every other attribute is the constraint's own."""

    def __init__(self, constraint: models.CheckConstraint):
        self.constraint = constraint

    def __getattr__(self, name):
        return getattr(self.constraint, name)

    def validate(self, model, instance, exclude=None, using=None):
        values = {}
        for field in model._meta.local_concrete_fields:
            if exclude and field.name in exclude:
                continue
            value = getattr(instance, field.attname)
            if field.generated or hasattr(value, "resolve_expression"):
                return self._in_database(model, instance, exclude, using)
            values[field.name] = value
        try:
            passes = condition_truth(self.constraint.condition, values) is not False
        except Undecided:
            return self._in_database(model, instance, exclude, using)
        if not passes:
            raise ValidationError(
                self.constraint.get_violation_error_message(),
                code=self.constraint.violation_error_code,
            )

    def _in_database(self, model, instance, exclude, using):
        kwargs = {"exclude": exclude}
        if using is not None:
            kwargs["using"] = using
        return self.constraint.validate(model, instance, **kwargs)
