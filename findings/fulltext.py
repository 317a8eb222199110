"""Full-text candidates on SQLite: FTS5 trigram indexes that narrow text searches.

On SQLite a text search is an exact condition per row: ``icontains`` (``LIKE``) for the
``?q=`` filters, a whole-word regular expression for the search page
(treatments/search.py). Both are scans: 2 s for a search over 100,000 items. Each
searched table has a contentless FTS5 table, ``<table>_fts``, with the ``trigram``
tokenizer: it finds the rows that hold a string of three or more characters anywhere in
their searched fields, ignoring case. Those rows are a superset of the rows the exact
condition matches, so the exact condition still decides, on the candidates only, and
results, order and counts stay what the scan gave. Shorter strings cannot be looked up
in a trigram index: they leave the query as it was (a scan).

Why a superset: SQLite's ``LIKE`` ignores the case of ASCII letters only, and the
tokenizer folds the case of every letter, so a row that ``LIKE`` matches holds the string
in the index too. Python's case-insensitive regular expressions (Django's ``iregex`` on
SQLite) also take the dotted capital I and the dotless i (U+0130, U+0131) for an "i",
which the tokenizer does not: both are written "i" in the index and in what is looked up
(``NORMALISE``). A word with any other
character outside ASCII may have case variants the tokenizer does not fold (the Greek
final sigma): the search page looks such a word up by scanning, as before.

The index is kept by triggers (insert, delete, update of the searched fields), so the
ORM, ``loaddata``, bulk updates, the seed loaders and writes from outside Django all keep
it right. Django's SQLite schema editor rebuilds a table to alter it, which drops its
triggers: after every ``migrate``, ``ensure_indexes`` puts back any that are missing and
refills that index. PostgreSQL has its GIN indexes instead (the search migrations), and
nothing here runs there.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Func, IntegerField, QuerySet
from django.db.models.expressions import RawSQL

# The trigram tokenizer needs SQLite 3.34; a trigram index cannot look up less than this.
MIN_LENGTH = 3
# What Python's re takes for an "i" ignoring case, which the tokenizer does not fold.
NORMALISE = (("\u0130", "i"), ("\u0131", "i"))

# table -> searched columns. The migrations that create the indexes copy their own lists
# (findings 0018, treatments 0019); change one, change the other and add a migration.
INDEXED: dict[str, tuple[str, ...]] = {}


def register(table: str, columns: tuple[str, ...]) -> None:
    INDEXED[table] = columns


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _normalised(sql: str) -> str:
    for char, replacement in NORMALISE:
        sql = f"replace({sql}, '{char}', '{replacement}')"
    return sql


def _normalise(text: str) -> str:
    for char, replacement in NORMALISE:
        text = text.replace(char, replacement)
    return text


def fts_table(table: str) -> str:
    return f"{table}_fts"


def _triggers(table: str) -> list[str]:
    return [f"{fts_table(table)}_{event}" for event in ("ai", "ad", "au")]


def install(connection: BaseDatabaseWrapper, table: str, columns: tuple[str, ...]) -> None:
    """(Re)create the index of ``table`` over ``columns``, its triggers, and fill it."""
    if connection.vendor != "sqlite":
        return
    fts = _quote(fts_table(table))
    names = ", ".join(_quote(c) for c in columns)

    def values(row: str) -> str:
        return ", ".join(_normalised(f"{row}.{_quote(c)}") for c in columns)

    delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {values('old')});"
    insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {values('new')});"
    ai, ad, au = (_quote(name) for name in _triggers(table))
    with connection.cursor() as cursor:
        uninstall(connection, table)
        # Contentless: the text stays in the table only; the index holds trigrams.
        cursor.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='', "
            "tokenize='trigram case_sensitive 0')"
        )
        cursor.execute(f"CREATE TRIGGER {ai} AFTER INSERT ON {_quote(table)} BEGIN {insert} END")
        cursor.execute(f"CREATE TRIGGER {ad} AFTER DELETE ON {_quote(table)} BEGIN {delete} END")
        cursor.execute(
            f"CREATE TRIGGER {au} AFTER UPDATE OF {names} ON {_quote(table)} "
            f"BEGIN {delete} {insert} END"
        )
        select = ", ".join(_normalised(_quote(c)) for c in columns)
        cursor.execute(
            f"INSERT INTO {fts}(rowid, {names}) SELECT id, {select} FROM {_quote(table)}"
        )


def uninstall(connection: BaseDatabaseWrapper, table: str) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for trigger in _triggers(table):
            cursor.execute(f"DROP TRIGGER IF EXISTS {_quote(trigger)}")
        cursor.execute(f"DROP TABLE IF EXISTS {_quote(fts_table(table))}")


def ensure_indexes(using: str = "default", **kwargs) -> None:
    """Put back the index of any table that lost a trigger (a post_migrate receiver)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'table')")
        present = {row[0] for row in cursor.fetchall()}
    for table, columns in INDEXED.items():
        if fts_table(table) not in present or table not in present:
            continue  # not migrated this far (a migration creates it)
        if not set(_triggers(table)) <= present:
            install(connection, table, columns)


def _can_look_up(string: str) -> bool:
    if len(string) < MIN_LENGTH or not string.strip() or "\x00" in string:
        return False
    try:
        string.encode()
    except UnicodeEncodeError:  # a lone surrogate: left to the exact condition
        return False
    return True


def _match(queryset: QuerySet, strings: Iterable[str]) -> str | None:
    """The FTS5 query for ``strings`` over ``queryset``'s table, or None where nothing is
    looked up (PostgreSQL, a table without an index, no string long enough)."""
    table = queryset.model._meta.db_table
    if connections[queryset.db].vendor != "sqlite" or table not in INDEXED:
        return None
    phrases = [_normalise(s) for s in strings if _can_look_up(s)]
    if not phrases:
        return None
    # Each string is one quoted phrase: no character in it is an FTS5 operator.
    return " AND ".join('"' + phrase.replace('"', '""') + '"' for phrase in phrases)


def narrowed(queryset: QuerySet, strings: Iterable[str], drive: bool = True) -> QuerySet:
    """``queryset`` kept to the rows whose indexed fields hold every one of ``strings``
    (ignoring case) that is long enough to look up; unchanged on PostgreSQL, or when no
    string is. The caller's exact condition still applies: this only narrows."""
    match = _match(queryset, strings)
    if match is None:
        return queryset
    fts = _quote(fts_table(queryset.model._meta.db_table))
    candidates = RawSQL(f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s", (match,))
    if not drive:
        # "+id": SQLite then keeps the plan it had (the order index, stopping at the page's
        # last row) and only checks each row against the candidates.
        pk = Func(F("pk"), template="+%(expressions)s", output_field=IntegerField())
        return queryset.alias(fulltext_pk=pk).filter(fulltext_pk__in=candidates)
    return queryset.filter(pk__in=candidates)


# Past this many candidates, a search reads its first rows by walking its order index
# (``common``).
COMMON = 2000


def common(queryset: QuerySet, strings: Iterable[str], limit: int | None = None) -> bool:
    """Whether more than ``limit`` rows of the table hold every one of ``strings``: one
    count of the index, bounded (about 1 ms at 100,000 rows). For the first rows of a
    list in its order, ``narrowed(drive=False)`` is then the plan: the order index
    walked, each row checked against the candidates, stopping after the last one
    wanted; the candidates driving would run the exact condition on every one of them
    first (a word in 40 % of 100,000 claims: 290 ms, against 25). For fewer, the
    candidates drive: a rare word walked in order would read the whole index. False
    where nothing is looked up. ``limit``: ``COMMON`` by default."""
    match = _match(queryset, strings)
    if match is None:
        return False
    limit = COMMON if limit is None else limit
    fts = _quote(fts_table(queryset.model._meta.db_table))
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {fts} WHERE {fts} MATCH %s LIMIT %s)",
            (match, limit + 1),
        )
        return cursor.fetchone()[0] > limit
