"""The benchmark scenarios, in one table: the app's URL, the floor's SQL and Datasette's
equivalent query for each (issue 6).

URLs and parameters use ``{placeholders}`` filled by run.py from the data (the
synthetic records with the most evidence, so every scenario is the heavy case).
A scenario whose ``app`` URL is None, or answers 404, is reported as not available.

The floor runs *the same SQL the app should run* (published rows only, the same
joins, the same page of 50), through psycopg and orjson in a bare WSGI app. Datasette
serves the published rows exported to SQLite (export_sqlite.py) and runs the
equivalent SQLite query as a canned query; page sizes match (50).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAGE = 50

# Published evidence: the item, its therapy, its source and (if any) its abnormality.
PUBLISHED_EVIDENCE = """
    e.status = 'published'
    AND EXISTS (SELECT 1 FROM treatments_therapy t2 WHERE t2.id = e.therapy_id
                AND t2.status = 'published')
    AND EXISTS (SELECT 1 FROM findings_source s WHERE s.id = e.source_id
                AND s.status = 'published')
    AND (e.abnormality_id IS NULL OR EXISTS (SELECT 1 FROM findings_abnormality a2
         WHERE a2.id = e.abnormality_id AND a2.status = 'published'))
"""

THERAPY_COLUMNS = "t.id, t.slug, t.name, t.kind, t.stage, t.summary"

# The therapy list: a page of therapies with their evidence summary over all
# published evidence (best level, supporting and not-supporting counts).
THERAPY_SUMMARY = f"""
    (SELECT min(e.level) FROM treatments_therapyevidence e
      WHERE e.therapy_id = t.id AND {PUBLISHED_EVIDENCE}) AS best_level,
    (SELECT count(*) FROM treatments_therapyevidence e
      WHERE e.therapy_id = t.id AND e.direction = 'supports' AND {PUBLISHED_EVIDENCE})
      AS supporting,
    (SELECT count(*) FROM treatments_therapyevidence e
      WHERE e.therapy_id = t.id AND e.direction = 'does_not_support' AND {PUBLISHED_EVIDENCE})
      AS not_supporting
"""


def _tied_to(param: str) -> str:
    return f"""EXISTS (SELECT 1 FROM treatments_therapyevidence e
        JOIN findings_abnormality a ON a.id = e.abnormality_id
        WHERE e.therapy_id = t.id AND a.slug = %({param})s AND {PUBLISHED_EVIDENCE})"""


FLOOR_SQL: dict[str, list[str]] = {
    "therapies_by_abnormality": [
        f"""SELECT {THERAPY_COLUMNS}, {THERAPY_SUMMARY} FROM treatments_therapy t
        WHERE t.status = 'published' AND {_tied_to("abn1")}
        ORDER BY t.name LIMIT {PAGE}"""
    ],
    "therapies_by_two_all": [
        f"""SELECT {THERAPY_COLUMNS}, {THERAPY_SUMMARY} FROM treatments_therapy t
        WHERE t.status = 'published' AND {_tied_to("abn1")} AND {_tied_to("abn2")}
        ORDER BY t.name LIMIT {PAGE}"""
    ],
    "evidence_by_therapy_level": [
        f"""SELECT e.id, e.level, e.direction, e.link_kind, e.statement, e.study_design,
               e.participants, th.slug AS therapy, a.slug AS abnormality, s.key AS source,
               s.year AS source_year
        FROM treatments_therapyevidence e
        JOIN treatments_therapy th ON th.id = e.therapy_id
        JOIN findings_source s ON s.id = e.source_id
        LEFT JOIN findings_abnormality a ON a.id = e.abnormality_id
        WHERE th.slug = %(therapy1)s AND e.level <= %(level)s AND {PUBLISHED_EVIDENCE}
        ORDER BY e.level, s.year DESC, e.id LIMIT {PAGE}"""
    ],
    "therapy_detail": [
        f"""SELECT {THERAPY_COLUMNS}, t.aliases, t.mechanism, t.harms
        FROM treatments_therapy t WHERE t.slug = %(therapy1)s AND t.status = 'published'""",
        f"""SELECT a.slug, a.name, min(e.level) AS best_level, count(*) AS total,
               count(*) FILTER (WHERE e.direction = 'supports') AS supporting,
               count(*) FILTER (WHERE e.direction = 'does_not_support') AS not_supporting
        FROM treatments_therapyevidence e
        JOIN treatments_therapy th ON th.id = e.therapy_id
        LEFT JOIN findings_abnormality a ON a.id = e.abnormality_id
        WHERE th.slug = %(therapy1)s AND {PUBLISHED_EVIDENCE}
        GROUP BY a.slug, a.name ORDER BY best_level, a.name""",
    ],
    "search": [
        f"""SELECT e.id, e.statement, th.slug AS therapy
        FROM treatments_therapyevidence e JOIN treatments_therapy th ON th.id = e.therapy_id
        WHERE to_tsvector('english', e.statement) @@ plainto_tsquery('english', %(q)s)
          AND {PUBLISHED_EVIDENCE}
        ORDER BY e.id LIMIT {PAGE}"""
    ],
    "matrix": [
        f"""SELECT e.therapy_id, e.abnormality_id, min(e.level) AS best_level,
               count(*) AS total
        FROM treatments_therapyevidence e
        WHERE e.abnormality_id IS NOT NULL AND {PUBLISHED_EVIDENCE}
        GROUP BY e.therapy_id, e.abnormality_id"""
    ],
    "csv_export": [
        f"""SELECT e.id, th.slug AS therapy, a.slug AS abnormality, e.level, e.direction,
               e.link_kind, s.key AS source, e.statement
        FROM treatments_therapyevidence e
        JOIN treatments_therapy th ON th.id = e.therapy_id
        JOIN findings_source s ON s.id = e.source_id
        LEFT JOIN findings_abnormality a ON a.id = e.abnormality_id
        WHERE th.slug = %(therapy1)s AND {PUBLISHED_EVIDENCE}
        ORDER BY e.id"""
    ],
    "treatments_html": [
        f"""SELECT {THERAPY_COLUMNS}, {THERAPY_SUMMARY} FROM treatments_therapy t
        WHERE t.status = 'published' ORDER BY t.name LIMIT {PAGE}"""
    ],
}

# Datasette: the same questions over the exported published rows (SQLite dialect).
# Export tables: therapy, abnormality, source, evidence (published only) and
# evidence_fts (FTS5 over evidence.statement).
DATASETTE_SUMMARY = """
    (SELECT min(e.level) FROM evidence e WHERE e.therapy_id = t.id) AS best_level,
    (SELECT count(*) FROM evidence e WHERE e.therapy_id = t.id
       AND e.direction = 'supports') AS supporting,
    (SELECT count(*) FROM evidence e WHERE e.therapy_id = t.id
       AND e.direction = 'does_not_support') AS not_supporting
"""


def _ds_tied_to(param: str) -> str:
    return f"""EXISTS (SELECT 1 FROM evidence e JOIN abnormality a ON a.id = e.abnormality_id
        WHERE e.therapy_id = t.id AND a.slug = :{param})"""


DATASETTE_SQL: dict[str, str] = {
    "therapies_by_abnormality": f"""SELECT {THERAPY_COLUMNS}, {DATASETTE_SUMMARY}
        FROM therapy t WHERE {_ds_tied_to("abn1")} ORDER BY t.name LIMIT {PAGE}""",
    "therapies_by_two_all": f"""SELECT {THERAPY_COLUMNS}, {DATASETTE_SUMMARY}
        FROM therapy t WHERE {_ds_tied_to("abn1")} AND {_ds_tied_to("abn2")}
        ORDER BY t.name LIMIT {PAGE}""",
    "evidence_by_therapy_level": f"""SELECT e.id, e.level, e.direction, e.link_kind,
               e.statement, e.study_design, e.participants, th.slug AS therapy,
               a.slug AS abnormality, s.key AS source, s.year AS source_year
        FROM evidence e JOIN therapy th ON th.id = e.therapy_id
        JOIN source s ON s.id = e.source_id
        LEFT JOIN abnormality a ON a.id = e.abnormality_id
        WHERE th.slug = :therapy1 AND e.level <= :level
        ORDER BY e.level, s.year DESC, e.id LIMIT {PAGE}""",
    "therapy_detail": """SELECT t.slug AS therapy, t.name AS therapy_name, t.summary,
               a.slug, a.name, min(e.level) AS best_level, count(*) AS total,
               sum(e.direction = 'supports') AS supporting,
               sum(e.direction = 'does_not_support') AS not_supporting
        FROM therapy t JOIN evidence e ON e.therapy_id = t.id
        LEFT JOIN abnormality a ON a.id = e.abnormality_id
        WHERE t.slug = :therapy1 GROUP BY a.slug, a.name ORDER BY best_level, a.name""",
    "search": f"""SELECT e.id, e.statement, th.slug AS therapy
        FROM evidence_fts f JOIN evidence e ON e.id = f.rowid
        JOIN therapy th ON th.id = e.therapy_id
        WHERE evidence_fts MATCH :q ORDER BY e.id LIMIT {PAGE}""",
    "matrix": """SELECT e.therapy_id, e.abnormality_id, min(e.level) AS best_level,
               count(*) AS total
        FROM evidence e WHERE e.abnormality_id IS NOT NULL
        GROUP BY e.therapy_id, e.abnormality_id""",
    "csv_export": """SELECT e.id, th.slug AS therapy, a.slug AS abnormality, e.level,
               e.direction, e.link_kind, s.key AS source, e.statement
        FROM evidence e JOIN therapy th ON th.id = e.therapy_id
        JOIN source s ON s.id = e.source_id
        LEFT JOIN abnormality a ON a.id = e.abnormality_id
        WHERE th.slug = :therapy1 ORDER BY e.id""",
    "treatments_html": f"""SELECT {THERAPY_COLUMNS}, {DATASETTE_SUMMARY}
        FROM therapy t ORDER BY t.name LIMIT {PAGE}""",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    # The app's URL (None until the page or API exists).
    app: str | None
    # Query-string parameters for the floor and Datasette (placeholders allowed).
    params: dict[str, str] = field(default_factory=dict)
    # Datasette's output format for the canned query: json, csv or html.
    datasette_format: str = "json"
    # Whether the scenario is a filtered API list (the ≤ 30 ms p95 target).
    api_list: bool = False


SCENARIOS: list[Scenario] = [
    Scenario(
        "therapies_by_abnormality",
        "therapies filtered by one abnormality (API)",
        "/api/v1/therapies/?abnormality={abn1}",
        {"abn1": "{abn1}"},
        api_list=True,
    ),
    Scenario(
        "therapies_by_two_all",
        "therapies by two abnormalities, match=all (API)",
        "/api/v1/therapies/?abnormality={abn1}&abnormality={abn2}&match=all",
        {"abn1": "{abn1}", "abn2": "{abn2}"},
        api_list=True,
    ),
    Scenario(
        "evidence_by_therapy_level",
        "evidence filtered by therapy + level (API)",
        "/api/v1/evidence/?therapy={therapy1}&level=B",
        {"therapy1": "{therapy1}", "level": "B"},
        api_list=True,
    ),
    Scenario(
        "therapy_detail",
        "therapy detail (API)",
        "/api/v1/therapies/{therapy1}/",
        {"therapy1": "{therapy1}"},
    ),
    Scenario("search", "search (HTML page)", "/search/?q={q}", {"q": "{q}"}),
    Scenario("matrix", "the / matrix page (HTML)", "/", {}),
    Scenario(
        "csv_export",
        "CSV export (one therapy's evidence)",
        "/api/v1/evidence/?therapy={therapy1}&format=csv",
        {"therapy1": "{therapy1}"},
        datasette_format="csv",
    ),
    Scenario(
        "treatments_html",
        "the /treatments/ HTML page",
        "/treatments/",
        {},
        datasette_format="html",
    ),
]

BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}
