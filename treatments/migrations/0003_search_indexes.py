"""GIN indexes for full-text search on PostgreSQL (treatments/search.py).

Created only on PostgreSQL; other databases (SQLite) use the simpler search and get
nothing here. The indexes are built with the same SearchVector expressions the
search query uses, so PostgreSQL can match query and index. They are not declared
in Meta.indexes because SQLite cannot build them; that keeps makemigrations clean.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "english"
INDEXES = {
    "therapy": ("therapy_search", ("name", "aliases", "summary", "mechanism")),
    "therapyevidence": ("evidence_search", ("statement", "quote")),
}
APP = "treatments"


def _indexes(apps):
    for model_name, (index_name, fields) in INDEXES.items():
        model = apps.get_model(APP, model_name)
        yield model, GinIndex(SearchVector(*fields, config=CONFIG), name=index_name)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.add_index(model, index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0002_staff_groups")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
