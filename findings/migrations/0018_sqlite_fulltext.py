"""Trigram full-text indexes for SQLite's text searches (issue 14): findings/fulltext.py.

SQLite only: a contentless FTS5 table per searched table, kept by triggers and filled
here for the rows already written. PostgreSQL has its GIN indexes (0002, 0015) and this
does nothing there. The columns are those searched (treatments/search.py SEARCH_FIELDS,
and the ``?q=`` filters of findings/filters.py, which search a subset of them)."""

from django.db import migrations

from findings.fulltext import install, uninstall

INDEXES = {
    "findings_abnormality": ("name", "aliases", "component", "summary"),
    "findings_source": ("title", "authors", "container"),
    "findings_finding": ("statement", "plain_summary", "quote"),
}


def forwards(apps, schema_editor):
    for table, columns in INDEXES.items():
        install(schema_editor.connection, table, columns)


def backwards(apps, schema_editor):
    for table in INDEXES:
        uninstall(schema_editor.connection, table)


class Migration(migrations.Migration):
    dependencies = [("findings", "0017_order_indexes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
