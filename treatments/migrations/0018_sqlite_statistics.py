"""Statistics for SQLite's query planner (issue 14).

SQLite keeps no statistics until ``ANALYZE`` runs, and nothing ran it: the planner then
guesses that ``status = 'published'`` matches a handful of rows and reads a therapy's
contradicting evidence by walking every published item (2 s for a therapy page at
100,000 items, 0.2 s with statistics). PostgreSQL gathers its own (autovacuum); this
does nothing there."""

from django.db import migrations


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ANALYZE")


class Migration(migrations.Migration):
    # After the sort keys and the order indexes (issue 14): statistics of the final tables.
    dependencies = [
        ("treatments", "0017_order_indexes"),
        ("findings", "0017_order_indexes"),
    ]

    operations = [migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True)]
