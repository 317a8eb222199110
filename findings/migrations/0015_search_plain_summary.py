"""The finding search index also covers the plain-language summary (treatments/search.py
SEARCH_FIELDS): readers search in their own words, and the summary is written in them.

PostgreSQL only, as in 0002_search_indexes: the GIN index is rebuilt with the new
SearchVector expression, so that query and index still match."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "english"
NAME = "finding_search"
BEFORE = ("statement", "quote")
AFTER = ("statement", "plain_summary", "quote")


def _swap(apps, schema_editor, old, new):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("findings", "finding")
    schema_editor.remove_index(model, GinIndex(SearchVector(*old, config=CONFIG), name=NAME))
    schema_editor.add_index(model, GinIndex(SearchVector(*new, config=CONFIG), name=NAME))


def forwards(apps, schema_editor):
    _swap(apps, schema_editor, BEFORE, AFTER)


def backwards(apps, schema_editor):
    _swap(apps, schema_editor, AFTER, BEFORE)


class Migration(migrations.Migration):
    dependencies = [("findings", "0014_glossary_term")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
