"""Export the published rows from PostgreSQL to SQLite, for Datasette (issue 6).

Only what readers may see is exported (the app's ``.published()`` rules, applied
here once, so Datasette's queries need no status joins), with the indexes a Datasette
user would add for these queries and an FTS5 index for search. Also writes the
Datasette metadata with one canned query per scenario (bench/scenarios.py).

    python bench/export_sqlite.py postgres://... bench/results/kb.sqlite3
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import psycopg

from bench.scenarios import PUBLISHED_EVIDENCE, datasette_sql

TABLES = {
    "therapy": (
        "SELECT id, slug, name, kind, stage, summary, aliases, mechanism "
        "FROM treatments_therapy t WHERE status = 'published'",
        "id INTEGER PRIMARY KEY, slug TEXT, name TEXT, kind TEXT, stage TEXT, summary TEXT, "
        "aliases TEXT, mechanism TEXT",
    ),
    "abnormality": (
        "SELECT id, slug, name, category, component, change, summary "
        "FROM findings_abnormality WHERE status = 'published'",
        "id INTEGER PRIMARY KEY, slug TEXT, name TEXT, category TEXT, component TEXT, "
        "change TEXT, summary TEXT",
    ),
    "source": (
        "SELECT id, key, kind, title, authors, container, year "
        "FROM findings_source WHERE status = 'published'",
        "id INTEGER PRIMARY KEY, key TEXT, kind TEXT, title TEXT, authors TEXT, "
        "container TEXT, year INTEGER",
    ),
    "evidence": (
        "SELECT e.id, e.therapy_id, e.abnormality_id, e.source_id, e.level, e.direction, "
        "e.link_kind, e.statement, e.plain_summary, e.quote, e.study_design, e.participants, "
        "e.case_definition "
        f"FROM treatments_therapyevidence e WHERE {PUBLISHED_EVIDENCE}",
        "id INTEGER PRIMARY KEY, therapy_id INTEGER REFERENCES therapy(id), "
        "abnormality_id INTEGER REFERENCES abnormality(id), "
        "source_id INTEGER REFERENCES source(id), level TEXT, direction TEXT, "
        "link_kind TEXT, statement TEXT, plain_summary TEXT, quote TEXT, study_design TEXT, "
        "participants TEXT, "
        "case_definition TEXT",
    ),
}

INDEXES = [
    "CREATE UNIQUE INDEX therapy_slug ON therapy (slug)",
    "CREATE INDEX therapy_name ON therapy (name)",
    "CREATE UNIQUE INDEX abnormality_slug ON abnormality (slug)",
    "CREATE INDEX evidence_abn_therapy ON evidence (abnormality_id, therapy_id)",
    "CREATE INDEX evidence_therapy_level ON evidence (therapy_id, level, direction)",
]


def export(database_url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    lite = sqlite3.connect(partial)
    lite.execute("PRAGMA journal_mode = OFF")
    lite.execute("PRAGMA synchronous = OFF")
    with psycopg.connect(database_url) as pg:
        for table, (select, columns) in TABLES.items():
            lite.execute(f"CREATE TABLE {table} ({columns})")
            marks = ", ".join("?" * len(columns.split(", ")))
            with pg.cursor(name=f"export_{table}") as cursor:
                cursor.itersize = 10_000
                cursor.execute(select)
                while rows := cursor.fetchmany(10_000):
                    lite.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            lite.commit()
    for sql in INDEXES:
        lite.execute(sql)
    lite.execute(
        "CREATE VIRTUAL TABLE evidence_fts USING fts5(statement, content='evidence', "
        "content_rowid='id')"
    )
    lite.execute("INSERT INTO evidence_fts (rowid, statement) SELECT id, statement FROM evidence")
    lite.execute("ANALYZE")
    lite.commit()
    lite.close()
    partial.rename(target)


def write_metadata(path: Path, source: str = "export", database: str = "kb") -> None:
    """Datasette metadata: one canned query per scenario, named like the scenario, over
    the exported rows (``export``) or the app's own SQLite file (``app``); ``database``
    is the name Datasette gives the file (its name without the extension)."""
    metadata = {
        "title": "Synthetic knowledge base (benchmark copy; not medical content)",
        "databases": {
            database: {
                "queries": {name: {"sql": sql} for name, sql in datasette_sql(source).items()}
            }
        },
    }
    path.write_text(json.dumps(metadata, indent=2))


if __name__ == "__main__":
    export(sys.argv[1], Path(sys.argv[2]))
    target = Path(sys.argv[2])
    write_metadata(target.with_name("datasette-metadata.json"), database=target.stem)
