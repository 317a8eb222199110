"""Claims keep their search document in a column on PostgreSQL (issue 14).

Search (treatments/search.py) found claims by a GIN index on the expression
``to_tsvector('english', statement || ' ' || plain_summary || ' ' || quote)`` and ranked
them with ``ts_rank`` over the same expression. Nothing kept the expression's value, so
PostgreSQL computed it again for every candidate it checked and again for every match it
ranked: about 0.1 ms a claim, 40-50 ms of each of the search page's four claim queries at
500,000 claims (its published and its retracted findings and evidence), most of the
page's time.

Now each claim table has ``search_document``, a generated column (``GENERATED ALWAYS AS
… STORED``) that PostgreSQL computes when a row is written, from the same expression,
and the GIN index (same name) is on that column. Search reads the column
(``search.StoredDocument``). The model does not declare it: SQLite has no
``to_tsvector`` (it searches by its own full-text tables, findings/fulltext.py), and
nothing in Django writes it. Only on PostgreSQL; at 500,000 rows the table is rewritten
once (about a minute per table)."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "english"
COLUMN = "search_document"
FIELDS = ("statement", "plain_summary", "quote")
TABLES = {
    ("treatments", "therapyevidence"): "evidence_search",
    ("findings", "finding"): "finding_search",
}


def _document() -> str:
    # As Django's SearchVector writes it (the index it replaces was built from that).
    joined = " || ' ' || ".join(f"COALESCE({name}, '')" for name in FIELDS)
    return f"to_tsvector('{CONFIG}'::regconfig, {joined})"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for (app, model_name), index in TABLES.items():
        model = apps.get_model(app, model_name)
        table = quote(model._meta.db_table)
        schema_editor.remove_index(
            model, GinIndex(SearchVector(*FIELDS, config=CONFIG), name=index)
        )
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN {quote(COLUMN)} tsvector "
            f"GENERATED ALWAYS AS ({_document()}) STORED"
        )
        schema_editor.execute(f"CREATE INDEX {quote(index)} ON {table} USING gin ({quote(COLUMN)})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for (app, model_name), index in TABLES.items():
        model = apps.get_model(app, model_name)
        schema_editor.execute(f"DROP INDEX {quote(index)}")
        schema_editor.execute(
            f"ALTER TABLE {quote(model._meta.db_table)} DROP COLUMN {quote(COLUMN)}"
        )
        schema_editor.add_index(model, GinIndex(SearchVector(*FIELDS, config=CONFIG), name=index))


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0021_contains_trigram_indexes"),
        ("findings", "0018_sqlite_fulltext"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
