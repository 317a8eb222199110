"""Typo-tolerant search on PostgreSQL (treatments/search.py): the pg_trgm extension and
GIN trigram indexes on the names and other names of abnormalities and therapies.

``TrigramExtension`` does nothing on other databases; the indexes are created only on
PostgreSQL, and not declared in Meta.indexes because SQLite cannot build them (as in
findings 0002 and treatments 0003). Creating the extension needs a role allowed to
(the database owner on PostgreSQL 13+, where pg_trgm is a trusted extension);
docs/deploy.md says so. The search's ``%>`` operator (word similarity) is served by
``gin_trgm_ops``.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    ("findings", "abnormality"): ("abnormality_name_trgm", "abnormality_aliases_trgm"),
    ("treatments", "therapy"): ("therapy_name_trgm", "therapy_aliases_trgm"),
}


def _indexes(apps):
    for (app, model_name), (name_index, aliases_index) in INDEXES.items():
        model = apps.get_model(app, model_name)
        yield model, GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name=name_index)
        yield model, GinIndex(fields=["aliases"], opclasses=["gin_trgm_ops"], name=aliases_index)


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
    dependencies = [
        ("treatments", "0011_therapy_alias_sources"),
        ("findings", "0013_abnormality_alias_sources"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
