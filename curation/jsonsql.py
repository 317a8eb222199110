"""JSON text kept by the database as the API's renderer writes it (issue 14).

A list of therapies at scale shows a thousand abnormality summaries, each a small
object read from one stored row. Representing them in Python (a dict per summary and
one per its counts, then orjson) was a fifth of such a list's time; most of each
object's text depends on its row's columns alone, so the database keeps it, in a stored
generated column (``GeneratedField``), and a read splices it in (``orjson.Fragment``,
which the renderer passes through).

``json_members`` is an expression for the text of some members of an object
(``"a":1,"b":"x"``), as orjson writes them (keys in the order given, no spaces), on
every database, made only of ``||``, casts and CASE, as a generated column must be:
whole numbers as their digits, text that needs no escaping (a choice's value, which a
CHECK constraint keeps among its choices) in quotes, JSON text as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import orjson
from django.db.models import Expression, F, Func, TextField, Value
from django.db.models.functions import Cast

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
        prefix = ("," if index else "") + orjson.dumps(key).decode() + ":"
        if kind == "int":
            pieces += [Value(prefix), Cast(expression, TextField())]
        elif kind == "plain":
            pieces += [Value(prefix + '"'), expression, Value('"')]
        else:
            pieces += [Value(prefix), expression]
    return TextJoin(*pieces)
