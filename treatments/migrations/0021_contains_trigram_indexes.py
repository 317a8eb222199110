"""Trigram indexes for the claim lists' text filter on PostgreSQL (issue 14).

``?q=`` on the evidence and findings lists keeps the claims whose statement, plain
summary or quote contains the words, as Django writes ``icontains`` there:
``UPPER(column) LIKE UPPER('%words%')``. Without an index on ``UPPER(column)`` every
such filter read the whole table (1 s at 500,000 claims, twice: the page and its count),
and PostgreSQL, keeping no statistics of the expression, guessed that a few dozen rows
match: a common word ("cytotoxicity", in a third of the claims) then had every match
read and sorted for a page of 50 (1.2 s) instead of the list's order index walked until
the page's last row (7 ms).

A GIN trigram index on each ``UPPER(column)`` (pg_trgm's ``gin_trgm_ops``, which serves
``LIKE '%…%'``) gives both: a rare word's rows found by the index (1,840 of 500,000: 20
ms, not 0.9 s), and statistics of the expression, which ``ANALYZE`` keeps for an
expression index, so the planner knows a common word for one. Only on PostgreSQL, and
not in Meta.indexes, as in 0012 (the extension is created there); SQLite narrows the
same filter by its full-text tables (findings/fulltext.py)."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import migrations
from django.db.models.functions import Upper

MODELS = {("treatments", "therapyevidence"): "evidence", ("findings", "finding"): "finding"}
COLUMNS = ("statement", "plain_summary", "quote")


def _indexes(apps):
    for (app, model_name), prefix in MODELS.items():
        model = apps.get_model(app, model_name)
        for column in COLUMNS:
            expression = OpClass(Upper(column), name="gin_trgm_ops")
            yield model, GinIndex(expression, name=f"{prefix}_{column}_trgm")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.add_index(model, index)
    for model in {model for model, _index in _indexes(apps)}:
        # Statistics of the new expressions now, not at autovacuum's next round.
        schema_editor.execute(f"ANALYZE {schema_editor.quote_name(model._meta.db_table)}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0020_paircertainty_listed_by_level"),
        ("findings", "0018_sqlite_fulltext"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
