"""JSON written by the database as the API's renderer writes it (issue 14).

A list of therapies at scale shows a thousand abnormality summaries, each a small
object read from one stored row. Representing them in Python (a dict per summary and
one per its counts, then orjson) was a fifth of such a list's time; the database writes
the same text in the query that reads the rows, and the renderer passes it through as
it is (``orjson.Fragment``).

Two pieces, both as orjson writes JSON (keys in the order given, no spaces):

- ``json_members`` is an expression for the text of some members of an object
  (``"a":1,"b":"x"``), on every database, made only of ``||``, casts and CASE,
  so that a stored generated column can hold it (``GeneratedField``): whole numbers as
  their digits, text that needs no escaping (a choice's value, which a CHECK
  constraint keeps among its choices) in quotes, JSON text as it is. The database
  keeps it current as the row's columns change; a read splices it in.
- ``JSONObjectText`` is the text of one object, written by PostgreSQL as it reads the
  rows: any value through ``to_json`` (strings escaped as orjson escapes them), whole
  numbers as their digits, NULL as null, JSON text as it is (``JSONText``, another
  ``JSONObjectText``) and members text spliced in (key None). ``json_build_object``
  would put spaces around its colons; ``CONCAT`` of the pieces is also several times
  faster than chaining ``||`` (a new text per piece). Callers use it where the
  connection is PostgreSQL and read rows as before elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import orjson
from django.db import NotSupportedError
from django.db.models import Expression, F, Func, IntegerField, TextField, Value
from django.db.models.functions import Cast

_KEY = re.compile(r"[a-z_][a-z0-9_]*\Z")


def _key(key: str) -> str:
    if not _KEY.match(key):  # keys go into the SQL as literals
        raise ValueError(f"not a plain key: {key!r}")
    return orjson.dumps(key).decode()


class JSONText(Func):
    """An expression whose value is JSON text already (it goes in as it is)."""

    template = "%(expressions)s"
    output_field = TextField()


# How json_members writes a value: "int" a whole number (never NULL), "plain" text
# that needs no escaping (a choice's value: no quote, backslash or control character),
# "json" JSON text already.
Kind = Literal["int", "plain", "json"]


class TextJoin(Func):
    """Texts joined with ``||``, flat (Django's ``Concat`` nests a pair of pieces in each
    other, with a COALESCE round each: forty pieces deep, SQLite's parser runs out of
    stack). Each piece must be text and never NULL."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()


def json_members(members: Sequence[tuple[str, Kind, Expression | str]]) -> TextJoin:
    """The text ``"key":value,...`` of ``members`` (key, kind, expression or column)."""
    pieces: list[Expression] = []
    for index, (key, kind, value) in enumerate(members):
        expression = F(value) if isinstance(value, str) else value
        prefix = ("," if index else "") + _key(key) + ":"
        if kind == "int":
            pieces += [Value(prefix), Cast(expression, TextField())]
        elif kind == "plain":
            pieces += [Value(prefix + '"'), expression, Value('"')]
        else:
            pieces += [Value(prefix), expression]
    return TextJoin(*pieces)


class JSONObjectText(Func):
    """The compact JSON text of an object of ``members``: (key, expression) pairs, in
    order, where a key None splices in an expression's members text (``json_members``)."""

    output_field = TextField()

    def __init__(self, members: Sequence[tuple[str | None, Expression]]):
        self.keys = tuple(None if key is None else _key(key) for key, _value in members)
        super().__init__(*(value for _key_, value in members))

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("JSONObjectText is written by PostgreSQL only")

    def as_postgresql(self, compiler, connection, **extra_context):
        parts, params = [], []
        expressions = self.get_source_expressions()
        for index, (key, expression) in enumerate(zip(self.keys, expressions, strict=True)):
            sql, value_params = compiler.compile(expression)
            comma = "," if index else ""
            if key is None:
                if comma:
                    parts.append("','")
            else:
                parts.append(f"'{comma}{key}:'")
                if isinstance(expression, JSONText | JSONObjectText):
                    pass  # JSON already
                elif isinstance(expression.output_field, IntegerField):
                    sql = f"COALESCE(({sql})::text, 'null')"
                else:
                    sql = f"COALESCE(to_json({sql})::text, 'null')"
            parts.append(sql)
            params.extend(value_params)
        return "CONCAT('{', " + ", ".join([*parts, "'}'"]) + ")", params
