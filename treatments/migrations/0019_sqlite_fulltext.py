"""Trigram full-text indexes for SQLite's text searches (issue 14): findings/fulltext.py.

As findings 0018, for therapies and therapy evidence (treatments/search.py SEARCH_FIELDS;
the therapy ``?q=`` filter searches a subset of these columns). SQLite only."""

from django.db import migrations

from findings.fulltext import install, uninstall

INDEXES = {
    "treatments_therapy": ("name", "aliases", "summary", "mechanism"),
    "treatments_therapyevidence": ("statement", "plain_summary", "quote"),
}


def forwards(apps, schema_editor):
    for table, columns in INDEXES.items():
        install(schema_editor.connection, table, columns)


def backwards(apps, schema_editor):
    for table in INDEXES:
        uninstall(schema_editor.connection, table)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0018_sqlite_statistics"),
        ("findings", "0018_sqlite_fulltext"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
