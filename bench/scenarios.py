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

PUBLISHED_FINDING = """
    e.status = 'published'
    AND EXISTS (SELECT 1 FROM findings_source s WHERE s.id = e.source_id
                AND s.status = 'published')
    AND (e.abnormality_id IS NULL OR EXISTS (SELECT 1 FROM findings_abnormality a2
         WHERE a2.id = e.abnormality_id AND a2.status = 'published'))
"""

THERAPY_COLUMNS = "t.id, t.slug, t.name, t.kind, t.stage, t.summary"

# The therapy list: a page of therapies with their evidence summary over all
# published evidence (best level, supporting and not-supporting counts).
THERAPY_SUMMARY = f"""
    (SELECT e.level FROM treatments_therapyevidence e
      WHERE e.therapy_id = t.id AND {PUBLISHED_EVIDENCE} ORDER BY e.level LIMIT 1) AS best_level,
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


def _page_pairs(page_sql: str) -> str:
    """The abnormalities each therapy of a page is tied to (the API's ``abnormalities``)."""
    return f"""WITH page AS ({page_sql})
        SELECT e.therapy_id, a.slug, a.name, min(e.level) AS best_level, count(*) AS total,
               count(*) FILTER (WHERE e.direction = 'supports') AS supporting,
               count(*) FILTER (WHERE e.direction = 'does_not_support') AS not_supporting
        FROM treatments_therapyevidence e JOIN findings_abnormality a ON a.id = e.abnormality_id
        WHERE e.therapy_id IN (SELECT id FROM page) AND {PUBLISHED_EVIDENCE}
        GROUP BY e.therapy_id, a.slug, a.name ORDER BY e.therapy_id, best_level, a.name"""


def _therapy_page(where: str, order: str = "t.name", limit: str = f"LIMIT {PAGE}") -> str:
    return f"""SELECT {THERAPY_COLUMNS}, {THERAPY_SUMMARY} FROM treatments_therapy t
        WHERE t.status = 'published' {where} ORDER BY {order} {limit}"""


def _therapy_ids(where: str, order: str = "t.name", limit: str = f"LIMIT {PAGE}") -> str:
    return f"""SELECT t.id FROM treatments_therapy t
        WHERE t.status = 'published' {where} ORDER BY {order} {limit}"""


ONE = f"AND {_tied_to('abn1')}"
TWO = f"AND {_tied_to('abn1')} AND {_tied_to('abn2')}"
BY_EVIDENCE = "best_level NULLS LAST, t.name, t.id"
BEST_LEVEL = f"""(SELECT e.level FROM treatments_therapyevidence e
      WHERE e.therapy_id = t.id AND {PUBLISHED_EVIDENCE} ORDER BY e.level LIMIT 1)"""


def _search(table: str, fields: tuple[str, ...], published: str, label: str) -> str:
    """As treatments/search.py: the first 200 published matches found by the GIN index,
    ranked, best 25."""
    joined = " || ' ' || ".join(f"COALESCE(x.{name}, '')" for name in fields)
    # As Django's SearchVector writes it, so that the GIN expression index matches.
    vector = f"to_tsvector('english'::regconfig, {joined})"
    query = "websearch_to_tsquery('english', %(q)s)"
    return f"""SELECT '{label}' AS kind, x.id, ts_rank({vector}, {query}) AS rank
        FROM {table} x
        WHERE x.id IN (SELECT x.id FROM {table} x WHERE {vector} @@ {query} AND {published}
                       LIMIT 200)
        ORDER BY rank DESC, x.id LIMIT 25"""


EVIDENCE_ROWS = """SELECT e.id, e.level, e.direction, e.link_kind, e.statement, e.quote,
               e.study_design, e.participants, e.case_definition, e.curator_note,
               th.slug AS therapy, a.slug AS abnormality, s.id AS source, s.key, s.title,
               s.authors, s.container, s.year, s.doi, s.pmid, s.url
        FROM treatments_therapyevidence e
        JOIN treatments_therapy th ON th.id = e.therapy_id
        JOIN findings_source s ON s.id = e.source_id
        LEFT JOIN findings_abnormality a ON a.id = e.abnormality_id"""
EVIDENCE_ORDER = "ORDER BY e.level, s.year DESC, e.id"
TEXT = """(e.statement ILIKE '%%' || %(q)s || '%%' OR e.plain_summary ILIKE '%%' || %(q)s || '%%'
        OR e.quote ILIKE '%%' || %(q)s || '%%')"""


def _evidence_page(where: str, offset: int = 0) -> str:
    return f"""{EVIDENCE_ROWS}
        WHERE {where} {PUBLISHED_EVIDENCE} {EVIDENCE_ORDER} LIMIT {PAGE} OFFSET {offset}"""


FLOOR_SQL: dict[str, list[str]] = {
    # Hand-written statements, used only where the app's own SQL was not captured.
    "evidence_by_abnormality": [_evidence_page("a.slug = %(abn1)s AND")],
    "evidence_list": [_evidence_page("")],
    "evidence_page50": [_evidence_page("", offset=49 * PAGE)],
    "evidence_search": [_evidence_page(f"{TEXT} AND")],
    "therapies_by_abnormality": [_therapy_page(ONE), _page_pairs(_therapy_ids(ONE))],
    "therapies_by_two_all": [_therapy_page(TWO), _page_pairs(_therapy_ids(TWO))],
    "evidence_by_therapy_level": [
        _evidence_page("th.slug = %(therapy1)s AND e.level <= %(level)s AND")
    ],
    "therapy_detail": [
        f"""SELECT {THERAPY_COLUMNS}, t.aliases, t.mechanism, {THERAPY_SUMMARY}
        FROM treatments_therapy t WHERE t.slug = %(therapy1)s AND t.status = 'published'""",
        _page_pairs("SELECT id FROM treatments_therapy WHERE slug = %(therapy1)s"),
        # Its harms (issue 13), published with their sources, as the page shows them.
        """SELECT h.id, h.kind, h.effect, h.frequency, h.severity, h.control_comparison,
               h.population, h.statement, h.quote, h.curator_note, s.id AS source, s.key,
               s.title, s.authors, s.year
        FROM treatments_harm h
        JOIN treatments_therapy th ON th.id = h.therapy_id
        JOIN findings_source s ON s.id = h.source_id
        WHERE th.slug = %(therapy1)s AND h.status = 'published' AND s.status = 'published'
        ORDER BY h.id""",
    ],
    "search": [
        _search(
            "findings_abnormality",
            ("name", "aliases", "component", "summary"),
            "x.status = 'published'",
            "abnormality",
        ),
        _search(
            "treatments_therapy",
            ("name", "aliases", "summary", "mechanism"),
            "x.status = 'published'",
            "therapy",
        ),
        _search(
            "findings_source",
            ("title", "authors", "container"),
            "x.status = 'published'",
            "source",
        ),
        _search(
            "findings_finding",
            ("statement", "quote"),
            "x.status = 'published' AND EXISTS (SELECT 1 FROM findings_source s "
            "WHERE s.id = x.source_id AND s.status = 'published') AND (x.abnormality_id IS "
            "NULL OR EXISTS (SELECT 1 FROM findings_abnormality a WHERE a.id = "
            "x.abnormality_id AND a.status = 'published'))",
            "finding",
        ),
        _search(
            "treatments_therapyevidence",
            ("statement", "quote"),
            PUBLISHED_EVIDENCE.replace("e.", "x."),
            "evidence",
        ),
    ],
    "matrix": [
        "SELECT id, slug, name FROM findings_abnormality WHERE status = 'published' ORDER BY name",
        "SELECT id, slug, name FROM treatments_therapy WHERE status = 'published' ORDER BY name",
        f"""SELECT e.therapy_id, e.abnormality_id, min(e.level) AS best_level,
               count(*) AS total,
               count(*) FILTER (WHERE e.direction = 'supports') AS supporting,
               count(*) FILTER (WHERE e.direction = 'does_not_support') AS not_supporting
        FROM treatments_therapyevidence e
        WHERE e.abnormality_id IS NOT NULL AND {PUBLISHED_EVIDENCE}
        GROUP BY e.therapy_id, e.abnormality_id""",
    ],
    "csv_export": [
        _therapy_page(ONE, order=BY_EVIDENCE, limit=""),
        _page_pairs(_therapy_ids(ONE, order=f"{BEST_LEVEL} NULLS LAST, t.name", limit="")),
    ],
    "treatments_html": [
        _therapy_page("", order=BY_EVIDENCE, limit="LIMIT 20"),
        _page_pairs(_therapy_ids("", order=f"{BEST_LEVEL} NULLS LAST, t.name", limit="LIMIT 20")),
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
# The API's per-therapy "abnormalities" list, as one JSON column.
DATASETTE_TIES = """
    (SELECT json_group_array(json_object('slug', slug, 'name', name, 'best_level', best,
            'total', total, 'supporting', sup, 'not_supporting', nsup))
     FROM (SELECT a.slug, a.name, min(e.level) AS best, count(*) AS total,
                  sum(e.direction = 'supports') AS sup,
                  sum(e.direction = 'does_not_support') AS nsup
           FROM evidence e JOIN abnormality a ON a.id = e.abnormality_id
           WHERE e.therapy_id = t.id GROUP BY a.id ORDER BY best, a.name)) AS abnormalities
"""


def _ds_tied_to(param: str) -> str:
    return f"""EXISTS (SELECT 1 FROM evidence e JOIN abnormality a ON a.id = e.abnormality_id
        WHERE e.therapy_id = t.id AND a.slug = :{param})"""


def _ds_therapies(where: str, order: str = "t.name", limit: str = f"LIMIT {PAGE}") -> str:
    return f"""SELECT {THERAPY_COLUMNS}, {DATASETTE_SUMMARY}, {DATASETTE_TIES}
        FROM therapy t WHERE 1 = 1 {where} ORDER BY {order} {limit}"""


DS_BY_EVIDENCE = "best_level IS NULL, best_level, t.name, t.id"

DS_EVIDENCE_ROWS = """SELECT e.id, e.level, e.direction, e.link_kind, e.statement, e.quote,
               e.study_design, e.participants, e.case_definition,
               th.slug AS therapy, a.slug AS abnormality, s.id AS source, s.key, s.title,
               s.authors, s.container, s.year
        FROM evidence e JOIN therapy th ON th.id = e.therapy_id
        JOIN source s ON s.id = e.source_id
        LEFT JOIN abnormality a ON a.id = e.abnormality_id"""
DS_EVIDENCE_ORDER = f"ORDER BY e.level, s.year DESC, e.id LIMIT {PAGE}"
# Page 50 by keyset (Datasette's way of paging, as its ``_next`` token does on a table):
# the rows after the last one of page 49, whose key the harness reads once from the file
# (KEYSET_SQL) and passes as parameters.
DS_AFTER = """(e.level > :after_level OR (e.level = :after_level AND (s.year < :after_year
        OR (s.year = :after_year AND e.id > :after_id))))"""
KEYSET_SQL = f"""SELECT e.level, s.year, e.id FROM evidence e JOIN source s ON s.id = e.source_id
        ORDER BY e.level, s.year DESC, e.id LIMIT 1 OFFSET {49 * PAGE - 1}"""
DS_TEXT = """(e.statement LIKE '%' || :q || '%' OR e.plain_summary LIKE '%' || :q || '%'
        OR e.quote LIKE '%' || :q || '%')"""

DATASETTE_SQL: dict[str, str] = {
    "therapies_by_abnormality": _ds_therapies(f"AND {_ds_tied_to('abn1')}"),
    "therapies_by_two_all": _ds_therapies(f"AND {_ds_tied_to('abn1')} AND {_ds_tied_to('abn2')}"),
    "evidence_by_therapy_level": f"""SELECT e.id, e.level, e.direction, e.link_kind,
               e.statement, e.study_design, e.participants, e.case_definition,
               th.slug AS therapy, a.slug AS abnormality, s.id AS source, s.key, s.title,
               s.authors, s.container, s.year
        FROM evidence e JOIN therapy th ON th.id = e.therapy_id
        JOIN source s ON s.id = e.source_id
        LEFT JOIN abnormality a ON a.id = e.abnormality_id
        WHERE th.slug = :therapy1 AND e.level <= :level
        ORDER BY e.level, s.year DESC, e.id LIMIT {PAGE}""",
    "therapy_detail": _ds_therapies("AND t.slug = :therapy1", limit=""),
    "evidence_by_abnormality": f"{DS_EVIDENCE_ROWS} WHERE a.slug = :abn1 {DS_EVIDENCE_ORDER}",
    "evidence_list": f"{DS_EVIDENCE_ROWS} {DS_EVIDENCE_ORDER}",
    "evidence_page50": f"{DS_EVIDENCE_ROWS} WHERE {DS_AFTER} {DS_EVIDENCE_ORDER}",
    "evidence_page50_cursor": f"{DS_EVIDENCE_ROWS} WHERE {DS_AFTER} {DS_EVIDENCE_ORDER}",
    "evidence_search": f"{DS_EVIDENCE_ROWS} WHERE {DS_TEXT} {DS_EVIDENCE_ORDER}",
    "search": """SELECT e.id, e.statement, th.slug AS therapy, rank
        FROM evidence_fts f JOIN evidence e ON e.id = f.rowid
        JOIN therapy th ON th.id = e.therapy_id
        WHERE evidence_fts MATCH :q ORDER BY rank LIMIT 25""",
    "matrix": """SELECT e.therapy_id, e.abnormality_id, min(e.level) AS best_level,
               count(*) AS total, sum(e.direction = 'supports') AS supporting,
               sum(e.direction = 'does_not_support') AS not_supporting
        FROM evidence e WHERE e.abnormality_id IS NOT NULL
        GROUP BY e.therapy_id, e.abnormality_id""",
    # A list's cost before its rows (a page of one), and the least answer of each server
    # (no rows at all): what every request pays, set beside the scenarios above.
    "evidence_by_abnormality_one": f"""{DS_EVIDENCE_ROWS} WHERE a.slug = :abn1
        ORDER BY e.level, s.year DESC, e.id LIMIT 1""",
    "least_answer": "SELECT 1 AS one",
    "csv_export": _ds_therapies(f"AND {_ds_tied_to('abn1')}", order=DS_BY_EVIDENCE, limit=""),
    "treatments_html": _ds_therapies("", order=DS_BY_EVIDENCE, limit="LIMIT 20"),
}

# Datasette on the app's own SQLite file (the SQLite runs): the same queries over the
# app's tables, each table seen through the same visibility rules as the export applies
# (bench/export_sqlite.py), written as CTEs that SQLite folds into the query like views
# (NOT MATERIALIZED), so the status checks run per query as they do in the app.
APP_FILE_VIEWS = f"""WITH
    therapy AS NOT MATERIALIZED (SELECT id, slug, name, kind, stage, summary, aliases,
        mechanism FROM treatments_therapy WHERE status = 'published'),
    abnormality AS NOT MATERIALIZED (SELECT id, slug, name, aliases, category, component, change,
        summary FROM findings_abnormality WHERE status = 'published'),
    source AS NOT MATERIALIZED (SELECT id, key, kind, title, authors, container, year
        FROM findings_source WHERE status = 'published'),
    evidence AS NOT MATERIALIZED (SELECT e.id, e.therapy_id, e.abnormality_id, e.source_id,
        e.level, e.direction, e.link_kind, e.statement, e.plain_summary, e.quote,
        e.study_design, e.participants, e.case_definition
        FROM treatments_therapyevidence e WHERE {PUBLISHED_EVIDENCE}),
    finding AS NOT MATERIALIZED (SELECT e.id, e.statement, e.plain_summary, e.quote
        FROM findings_finding e WHERE {PUBLISHED_FINDING})
"""


def _app_file_kind(kind: str, table: str, fields: tuple[str, ...], order: str) -> str:
    found = " OR ".join(f"x.{name} LIKE '%' || :q || '%'" for name in fields)
    return f"""SELECT * FROM (SELECT '{kind}' AS kind, x.id FROM {table} x WHERE {found}
        ORDER BY {order} LIMIT 25)"""


# No FTS5 table in the app's file: the five kinds by substring on the fields the app
# searches (treatments/search.py SEARCH_FIELDS), 25 of each, as the app does on SQLite
# (it matches whole words with REGEXP, which SQLite has only where Django defines it).
_APP_FILE_SEARCH = " UNION ALL ".join(
    [
        _app_file_kind(
            "abnormality", "abnormality", ("name", "aliases", "component", "summary"), "x.name"
        ),
        _app_file_kind("therapy", "therapy", ("name", "aliases", "summary", "mechanism"), "x.name"),
        _app_file_kind("source", "source", ("title", "authors", "container"), "x.id"),
        _app_file_kind("finding", "finding", ("statement", "plain_summary", "quote"), "x.id"),
        _app_file_kind(
            "evidence", "evidence", ("statement", "plain_summary", "quote"), "x.level, x.id"
        ),
    ]
)


def datasette_sql(source: str) -> dict[str, str]:
    """The canned queries for Datasette reading ``export`` (published rows exported from
    PostgreSQL) or ``app`` (the app's own SQLite file)."""
    if source == "export":
        return dict(DATASETTE_SQL)
    queries = {**DATASETTE_SQL, "search": _APP_FILE_SEARCH}
    return {name: APP_FILE_VIEWS + sql for name, sql in queries.items()}


def keyset_sql(source: str) -> str:
    return KEYSET_SQL if source == "export" else APP_FILE_VIEWS + KEYSET_SQL


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


KEYSET_PARAMS = {key: "{" + key + "}" for key in ("after_level", "after_year", "after_id")}

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
        "evidence_by_abnormality",
        "evidence filtered by one abnormality (API)",
        "/api/v1/evidence/?abnormality={abn1}",
        {"abn1": "{abn1}"},
        api_list=True,
    ),
    Scenario(
        "evidence_by_abnormality_one",
        "evidence filtered by one abnormality, a page of 1 (API: the list before its rows)",
        "/api/v1/evidence/?abnormality={abn1}&page_size=1",
        {"abn1": "{abn1}"},
    ),
    Scenario(
        "least_answer",
        "the least answer (app: DRF's API root, no rows; Datasette: a canned SELECT 1)",
        "/api/v1/",
        {},
    ),
    Scenario("evidence_list", "the evidence list, unfiltered (API)", "/api/v1/evidence/"),
    Scenario(
        "evidence_page50",
        "page 50 of the evidence list (API ?page=50; Datasette by keyset)",
        "/api/v1/evidence/?page=50",
        KEYSET_PARAMS,
    ),
    Scenario(
        "evidence_page50_cursor",
        "page 50 of the evidence list by the app's cursor link (API; Datasette by keyset)",
        "{cursor50}",
        KEYSET_PARAMS,
    ),
    Scenario(
        "evidence_search",
        "evidence whose text contains a word (API ?q=)",
        "/api/v1/evidence/?q={q}",
        {"q": "{q}"},
        api_list=True,
    ),
    Scenario(
        "therapy_detail",
        "therapy detail (API)",
        "/api/v1/therapies/{therapy1}/",
        {"therapy1": "{therapy1}"},
    ),
    Scenario("search", "search (HTML page, five kinds of record)", "/search/?q={q}", {"q": "{q}"}),
    Scenario("matrix", "the / matrix page (HTML)", "/", {}),
    Scenario(
        "csv_export",
        "CSV export of the therapies tied to one abnormality",
        "/treatments/?abnormality={abn1}&format=csv",
        {"abn1": "{abn1}"},
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
