"""SQLite's trigram indexes (findings/fulltext.py) narrow text searches without changing
what they find: the search page and the ``?q=`` filters give, with the index, exactly
what the scan gave. On PostgreSQL the index does not exist and these compare the scan
with itself (the trigger tests are skipped)."""

import random
from importlib import import_module

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from curation.models import Status
from curation.services import record_retract
from findings import fulltext
from findings.models import Abnormality, Finding, Source
from tests import factories
from treatments import search as search_module
from treatments.models import Therapy, TherapyEvidence
from treatments.search import SEARCH_FIELDS, matching, search

pytestmark = pytest.mark.django_db

only_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the trigram indexes are SQLite's"
)

# Words, short words, hyphens, punctuation, plurals, unicode, quotes and every FTS5
# operator: none may raise or change what a query means.
QUERIES = [
    "cytotoxicity",
    "NK",
    "nk cell",
    "IL-10",
    "il-10 levels",
    "poly I:C",
    "I:C",
    "cells",
    "cell",
    "Interleukin",
    "INTERLEUKIN 6",
    "naïve",
    "NAÏVE T",
    "Ørsted",
    "ß",
    "İL-10",
    "\u0131l-10",
    "\u03c3-factor",
    "\u212ailler",
    "'quoted'",
    '"cells"',
    '"',
    '""',
    'cell"s',
    "cell*",
    "*",
    "NEAR",
    "NEAR(nk cell)",
    "nk OR cell",
    "OR",
    "AND",
    "NOT cell",
    "-cell",
    "--",
    "^cell",
    "(cell)",
    "((",
    "cell:",
    "statement:cell",
    "{statement}: cell",
    "a",
    "ab",
    "abc",
    "   ",
    "%",
    "_",
    "100%",
    "cell_",
    "\\",
    "it's",
    "it\u2019s",
    "Th1/Th2",
    "\x00cell",
    "cel\x00l",
]

WORDS = [
    "NK", "nk-cell", "cells", "cell", "Cytotoxicity", "IL-10", "il-6", "interleukin",
    "poly", "I:C", "naïve", "NAÏVE", "Ørsted", "ß", "İL-10", "\u0131l",
    "\u03c3", "\u03c2", "\u03a3", "\u212a", "\u017f", "it's", "it\u2019s", "OR", "NEAR",
    "AND", "\"quoted\"", "100%", "under_score",
    "killer", "Killers", "Th1/Th2", "(paren)", "a", "ab", "abc", "statement:", "*star",
]  # fmt: skip


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 8)))


@pytest.fixture
def generated():
    """Published and retracted records of every searched kind, with random texts."""
    rng = random.Random(14)
    for _ in range(6):
        factories.make_abnormality(
            name=_text(rng) or "x", aliases=_text(rng), component=_text(rng), summary=_text(rng)
        )
        factories.make_therapy(
            name=_text(rng) or "x", aliases=_text(rng), summary=_text(rng), mechanism=_text(rng)
        )
        factories.make_source(title=_text(rng) or "x", authors=_text(rng), container=_text(rng))
    for _ in range(40):
        status = rng.choice([Status.PUBLISHED, Status.PUBLISHED, Status.RETRACTED])
        text = {"statement": _text(rng) or "x", "plain_summary": _text(rng), "quote": _text(rng)}
        factories.make_finding(status=status, **text)
        factories.make_evidence(status=status, **text)
    factories.gather_statistics()


def _without_index(monkeypatch):
    monkeypatch.setattr(fulltext, "INDEXED", {})


def _found(q: str) -> dict:
    return {
        model.__name__: list(matching(model.objects.all(), q).values_list("pk", flat=True))
        for model in SEARCH_FIELDS
    }


def _results(q: str) -> list:
    r = search(q)
    flags = ("contradicted", "contradicted_by_finding")
    return [
        [(x.pk, *(getattr(x, flag, None) for flag in flags)) for x in group]
        for group in (
            r.abnormalities,
            r.therapies,
            r.sources,
            r.findings,
            r.evidence,
            r.retracted_findings,
            r.retracted_evidence,
        )
    ]


API_LISTS = ["/api/v1/evidence/", "/api/v1/findings/", "/api/v1/abnormalities/"]
API_LISTS += ["/api/v1/therapies/"]


def _get(client, path: str, params: dict):
    # A clean cache each time: no throttle, and no response served from the cache.
    cache.clear()
    return client.get(path, params)


def _api_bodies(client, q: str) -> list[tuple[int, bytes]]:
    requests = [(path, {"q": q}) for path in API_LISTS]
    requests.append(("/api/v1/evidence/", {"q": q, "status": "retracted"}))
    return [
        (response.status_code, response.content)
        for response in (_get(client, path, params) for path, params in requests)
    ]


# How many candidates make a word common (findings/fulltext.py ``common``): 1, every
# word the index finds is common here, and the search walks the list (treatments/search.py
# ``_walked_keys``), as far as WALK_ROWS rows: the default, past every row here, or 3,
# so that a walk mostly ends short of its matches and the order index is walked with the
# candidates instead; the default, no word is common, and the candidates drive.
WALKS = [(1, search_module.WALK_ROWS), (1, 3), (fulltext.COMMON, search_module.WALK_ROWS)]


@pytest.mark.parametrize("common, walk_rows", WALKS)
def test_the_search_finds_with_the_index_what_the_scan_found(
    generated, monkeypatch, common, walk_rows
):
    monkeypatch.setattr(fulltext, "COMMON", common)
    monkeypatch.setattr(search_module, "WALK_ROWS", walk_rows)
    with_index = {q: (_found(q), _results(q)) for q in QUERIES}
    _without_index(monkeypatch)
    without = {q: (_found(q), _results(q)) for q in QUERIES}
    assert with_index == without
    # The comparison compares something: most queries find rows.
    assert sum(1 for found, _ in without.values() if any(found.values())) > len(QUERIES) // 2


def test_the_api_filters_give_with_the_index_the_bodies_the_scan_gave(
    generated, api_client, monkeypatch
):
    with_index = {q: _api_bodies(api_client, q) for q in QUERIES}
    _without_index(monkeypatch)
    without = {q: _api_bodies(api_client, q) for q in QUERIES}
    assert with_index == without
    assert all(status in (200, 400) for bodies in without.values() for status, _ in bodies)


def test_no_query_is_a_server_error(generated, client, api_client):
    for q in QUERIES:
        assert _get(client, "/search/", {"q": q}).status_code in (200, 400), q
        for path in API_LISTS:
            assert _get(api_client, path, {"q": q}).status_code in (200, 400), (path, q)


@pytest.mark.parametrize("common, walk_rows", WALKS)
def test_with_the_seed_the_index_changes_no_result(monkeypatch, common, walk_rows):
    monkeypatch.setattr(fulltext, "COMMON", common)
    monkeypatch.setattr(search_module, "WALK_ROWS", walk_rows)
    call_command("load_seed", verbosity=0)
    call_command("load_literature", verbosity=0)
    factories.gather_statistics()
    queries = [*QUERIES, "low NK cell cytotoxicity", "rintatolimod", "mast cell", "B cells"]
    queries += ["Ampligen", "naltrexone", "autoantibodies", "function", "POTS"]
    with_index = {q: (_found(q), _results(q)) for q in queries}
    _without_index(monkeypatch)
    without = {q: (_found(q), _results(q)) for q in queries}
    assert with_index == without
    assert any(any(found.values()) for found, _ in without.values())


@only_sqlite
def test_the_index_narrows_the_search_to_the_rows_holding_the_words():
    finding = factories.make_finding(statement="Cytotoxicity was lower.")
    factories.make_finding(statement="Nothing to see.")
    narrowed = fulltext.narrowed(Finding.objects.all(), ["CYTOTOX"])
    assert "MATCH" in str(narrowed.query)
    assert list(narrowed) == [finding]
    # Too short to look up in a trigram index: the query is left as it was.
    assert "MATCH" not in str(fulltext.narrowed(Finding.objects.all(), ["nk"]).query)


def _indexed(model, text: str) -> list:
    return list(fulltext.narrowed(model.objects.all(), [text]).values_list("pk", flat=True))


@only_sqlite
def test_triggers_keep_the_index_right_on_create_edit_status_change_and_delete():
    evidence = factories.make_evidence(statement="Zorbulin helped.", status=Status.DRAFT)
    assert _indexed(TherapyEvidence, "zorbulin") == [evidence.pk]

    evidence.statement = "Quarnex helped."
    evidence.save()
    assert _indexed(TherapyEvidence, "zorbulin") == []
    assert _indexed(TherapyEvidence, "quarnex") == [evidence.pk]

    TherapyEvidence.objects.filter(pk=evidence.pk).update(quote="Plimsoll quote")
    assert _indexed(TherapyEvidence, "plimsoll") == [evidence.pk]
    assert _indexed(TherapyEvidence, "quarnex") == [evidence.pk]

    TherapyEvidence.objects.filter(pk=evidence.pk).update(status=Status.PUBLISHED)
    assert _indexed(TherapyEvidence, "quarnex") == [evidence.pk]
    assert [e.pk for e in search("quarnex").evidence] == [evidence.pk]

    evidence.delete()
    assert _indexed(TherapyEvidence, "quarnex") == []
    assert _indexed(TherapyEvidence, "plimsoll") == []


@only_sqlite
def test_a_retracted_claim_is_still_found_as_retracted(editor):
    finding = factories.make_finding(statement="Vexillum levels rose.")
    record_retract(record=finding, user=editor, note="The source was withdrawn.")
    results = search("vexillum")
    assert results.findings == []
    assert [f.pk for f in results.retracted_findings] == [finding.pk]


@only_sqlite
def test_every_searched_kind_is_indexed_on_its_searched_fields():
    for model, fields in SEARCH_FIELDS.items():
        assert fulltext.INDEXED[model._meta.db_table] == fields
    for model, text in (
        (Abnormality, factories.make_abnormality(component="Gribblex").pk),
        (Therapy, factories.make_therapy(mechanism="Gribblex").pk),
        (Source, factories.make_source(container="Gribblex").pk),
    ):
        assert _indexed(model, "gribblex") == [text]


@only_sqlite
def test_a_table_that_lost_its_triggers_gets_them_back_after_migrate():
    finding = factories.make_finding(statement="Before the rebuild.")
    table = Finding._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TRIGGER "{table}_fts_ai"')
    fulltext.ensure_indexes(using="default")
    later = factories.make_finding(statement="After the rebuild.")
    assert _indexed(Finding, "before the") == [finding.pk]
    assert _indexed(Finding, "after the") == [later.pk]


def test_the_migrations_index_the_registered_columns():
    for app, name in (("findings", "0018_sqlite_fulltext"), ("treatments", "0019_sqlite_fulltext")):
        migration = import_module(f"{app}.migrations.{name}")
        for table, columns in migration.INDEXES.items():
            assert fulltext.INDEXED[table] == columns


@only_sqlite
def test_a_word_is_common_past_the_limit_of_candidates():
    for n in range(3):
        factories.make_finding(statement=f"Perforin {n} rose.")
    factories.make_finding(statement="Granzyme fell.")
    rows = Finding.objects.all()
    assert fulltext.common(rows, ["perforin"], limit=2)
    assert not fulltext.common(rows, ["perforin"], limit=3)
    assert not fulltext.common(rows, ["granzyme"], limit=1)
    assert not fulltext.common(rows, ["perforin", "granzyme"], limit=0)  # both: none
    assert not fulltext.common(rows, ["nk"], limit=0)  # too short to look up


def test_the_search_makes_as_many_queries_with_the_index(django_assert_num_queries):
    for n in range(3):
        factories.make_finding(statement=f"Interleukin {n} rose.")
        factories.make_evidence(statement=f"Interleukin {n} fell.", status=Status.RETRACTED)
    # One per kind (5), one each for retracted findings and evidence (2), and on SQLite
    # one bounded count of the candidates for findings and one for evidence (which plan
    # reads them); otherwise the index is a subquery of each. (No record is named: no
    # eighth.)
    counts = 2 if connection.vendor == "sqlite" else 0
    with django_assert_num_queries(7 + counts):
        search("interleukin")
    with django_assert_num_queries(7 + counts):
        search("interleukin rose")
    with django_assert_num_queries(7):
        search("il 6")  # no word the index can look up: no count


@only_sqlite
def test_a_common_word_walks_the_list_and_reads_only_the_matches(
    django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(fulltext, "COMMON", 1)
    for n in range(3):
        factories.make_finding(statement=f"Interleukin {n} rose.")
        factories.make_evidence(statement=f"Interleukin {n} fell.", status=Status.RETRACTED)
    # For a common word each claim query is the walk (keys) and then the rows by key; a
    # walk that matches nothing reads no rows (published evidence, retracted findings).
    # The counts, and one query per other kind, as before.
    with django_assert_num_queries(2 + 3 + 2 + 1 + 1 + 2):
        results = search("interleukin")
    assert len(results.findings) == 3 and len(results.retracted_evidence) == 3


@only_sqlite
@pytest.mark.parametrize("walk_rows", [1, 2, 3, 4, 5, 6, 1000])
def test_a_walk_finds_the_first_matches_in_the_lists_order_or_gives_way(monkeypatch, walk_rows):
    monkeypatch.setattr(search_module, "WALK_ROWS", walk_rows)
    # The list's order: level, then the newest source first, then id.
    texts = ["Perforin fell.", "No match.", "PERFORINS rose.", "perforinx", "perforin"]
    levels = ["A", "A", "B", "C", "C"]
    rows = [
        factories.make_finding(statement=text, level=level)
        for text, level in zip(texts, levels, strict=True)
    ]
    listed = Finding.objects.published()
    matches = [rows[0].pk, rows[2].pk, rows[4].pk]  # whole words, plurals, any case

    def walked(n):
        return search_module._walked_keys(listed, "perforin", n)

    # The first n matches, once the walk meets the n-th within WALK_ROWS rows.
    for n in (1, 2, 3):
        position = [1, 3, 5][n - 1]  # the n-th match's place in the list
        assert walked(n) == (matches[:n] if position <= walk_rows else None)
    # Fewer matches than asked for: all of them, once the walk read the whole list (it
    # has 5 rows); a walk stopped by WALK_ROWS before the end gives way (None).
    assert walked(25) == (matches if walk_rows > 5 else None)
    # Every word must match, in any of the fields.
    rows[2].plain_summary = "about granzyme"
    rows[2].save()
    assert search_module._walked_keys(listed, "granzyme perforins", 25) == (
        [rows[2].pk] if walk_rows > 5 else None
    )
