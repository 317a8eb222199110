"""Search over abnormalities, therapies (with their other names), sources and claims.

The query is read as words: punctuation between words is a space ("poly I:C" is the
words poly, I, C), a hyphen inside a word stays ("IL-10"). Every word must match, and
only a whole word matches: "NK" finds "NK cells" and "NK-cell", never the "nk" inside
"HyperbaricLink".

On PostgreSQL: ``to_tsvector('english', …) @@ websearch_to_tsquery('english', words)``,
served by the GIN expression indexes that migrations findings 0002 and treatments
0003 create with the very same ``SearchVector`` (an index is used only when its
expression matches the query's); English stemming makes "functions" find "function".
Abnormalities and therapies are also found by a misspelt name or other name
("cytotoxcity", "Ampligin"): pg_trgm's word similarity (``%>``) over ``name`` and
``aliases``, served by the trigram indexes of migration treatments 0012.

On SQLite (development and tests): every word must appear as a whole word, or with a
plural "s"/"es", in one of the same fields (a regular expression per word); there is
no stemming, ranking or typo tolerance (docs/data-model.md, "Search"). The expressions
run only on the rows that an FTS5 trigram index (findings/fulltext.py, migrations
findings 0018 and treatments 0019) finds holding every word of three or more ASCII
letters, anywhere, ignoring case: a superset of the matches, so the results are the
same as a scan's, at a fraction of the cost. A query made only of shorter words is a
scan. For claims, one bounded count of the candidates chooses the plan (``_claims``): a
common word is checked row by row down the list's order index until the page is full,
a rarer one reads its candidates first.

A query that names an abnormality or a therapy by its name or one of its other names
(all its words in one of them: "NK cell function" is an other name of low NK cell
cytotoxicity, "poly I:C" of rintatolimod) is shown as understood: "another name for
…", with, for an abnormality, every therapy with published evidence about it, so that
a reader's own words lead to what was tried.

Retracted claims that match are shown too, apart and flagged, with the editor's reason,
rather than left out: a reader who heard of a claim, or saw it here before, and
searches for it must learn that it was withdrawn and why, not conclude that we never
had it. They are searched separately, so that they never take the place of a
published match, and are left out of the number of results. A published claim that
other published evidence contradicts carries a flag ("contradicted") in the results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import reduce
from operator import and_, or_

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db import connections
from django.db.models import (
    Count,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Greatest, RowNumber

from curation.models import Status
from curation.rest import page_rows
from findings import fulltext
from findings.models import Abnormality, Finding, Source
from findings.views import THERAPIES_TIED_ORDER
from treatments.models import PairCertainty, Therapy, TherapyEvidence

SEARCH_CONFIG = "english"
RESULTS_PER_KIND = 25
# Retracted claims matching the words, per kind: a few, most relevant first.
RETRACTED_PER_KIND = 10
# Matches ranked per kind (see matching()): enough that the best of them are good.
RANK_CANDIDATES = 200
# On SQLite each word is one more pattern per field: a handful of words is plenty.
MAX_WORDS = 8
# Abnormalities (with their therapies) and therapies a query is understood to name.
UNDERSTOOD_PER_KIND = 3
# The therapies shown under an abnormality the query names, the best evidenced first
# (in its page's order, ``THERAPIES_TIED_ORDER``); its page lists them all ("all N
# therapies" links there). At 2,000 therapies a common
# abnormality's list made a page of 475 kB.
UNDERSTOOD_THERAPIES = 10

# The fields each kind is searched on. The GIN indexes in the migrations are built
# from these exact lists: change one, change the other (tests check the index is used).
SEARCH_FIELDS: dict[type, tuple[str, ...]] = {
    Abnormality: ("name", "aliases", "component", "summary"),
    Therapy: ("name", "aliases", "summary", "mechanism"),
    Source: ("title", "authors", "container"),
    # The plain-language summary is in readers' own words (findings 0015, treatments 0015).
    Finding: ("statement", "plain_summary", "quote"),
    TherapyEvidence: ("statement", "plain_summary", "quote"),
}
# Searched by trigram similarity on PostgreSQL (the indexes of treatments 0012).
NAME_FIELDS: dict[type, tuple[str, ...]] = {
    Abnormality: ("name", "aliases"),
    Therapy: ("name", "aliases"),
}

# A word: letters and digits, with hyphens or apostrophes inside ("IL-10", "Th1/Th2" is
# two words). Everything else separates words.
WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")


def query_words(q: str) -> list[str]:
    """The words of a query, lower-cased, at most MAX_WORDS."""
    return WORD.findall(q.lower())[:MAX_WORDS]


# The claim tables keep their search document (``SEARCH_FIELDS``' vector) in a column
# PostgreSQL computes when a row is written (treatments 0022), indexed by GIN.
STORED_DOCUMENTS = frozenset({Finding, TherapyEvidence})


class StoredDocument(Expression):
    """A claim's ``search_document`` column (treatments 0022), of the query's own table:
    the vector a search checks candidates against and ranks by, read instead of computed
    for each one (0.1 ms a claim). PostgreSQL only; the model does not declare it."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{table}.{connection.ops.quote_name('search_document')}", []


def search_vector(model: type) -> SearchVector | StoredDocument:
    if model in STORED_DOCUMENTS:
        return StoredDocument()
    return SearchVector(*SEARCH_FIELDS[model], config=SEARCH_CONFIG)


def _whole_word(word: str) -> str:
    """A regular expression matching ``word`` as a whole word, or with a plural ending."""
    return rf"(?<!\w){re.escape(word)}(?:e?s)?(?!\w)"


def matching(queryset: QuerySet, q: str, *, drive: bool = True) -> QuerySet:
    """``queryset`` narrowed to rows matching ``q``, best match first (on SQLite, in its
    own order). On SQLite, ``drive`` is how the trigram candidates are used
    (findings/fulltext.py ``narrowed``)."""
    model = queryset.model
    words = query_words(q)
    if not words:
        return queryset.none()
    if connections[queryset.db].vendor == "postgresql":
        text = " ".join(words)
        vector = search_vector(model)
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        found = Q(search=query)
        rank = SearchRank(vector, query)
        if names := NAME_FIELDS.get(model):
            # A misspelt name or other name: word similarity over the trigram indexes.
            found |= reduce(or_, (Q(**{f"{name}__trigram_word_similar": text}) for name in names))
            rank = Greatest(rank, *(TrigramWordSimilarity(text, name) for name in names))
        # Ranking reads each match's vector (computed again, but for the claims'
        # stored documents): over every match of a common word (200,000 items at
        # 500k) that takes seconds. The indexes find the first RANK_CANDIDATES
        # matches, and only those are ranked.
        candidates = (
            queryset.annotate(search=vector).filter(found).order_by().values("pk")[:RANK_CANDIDATES]
        )
        return (
            queryset.filter(pk__in=Subquery(candidates)).annotate(rank=rank).order_by("-rank", "pk")
        )
    fields = SEARCH_FIELDS[model]
    each_word = [
        reduce(or_, (Q(**{f"{field}__iregex": _whole_word(word)}) for field in fields))
        for word in words
    ]
    # A whole word is a substring too: the trigram index finds the rows holding each word
    # (of three letters or more) and the expressions decide on those alone. A word with
    # a letter outside ASCII may have case variants the index does not fold: scanned.
    candidates = fulltext.narrowed(queryset, lookup_words(words), drive=drive)
    return candidates.filter(reduce(and_, each_word))


def lookup_words(words: list[str]) -> list[str]:
    """The words the trigram index may look up on SQLite: a word with a letter outside
    ASCII may have case variants the index does not fold, so it is scanned."""
    return [word for word in words if word.isascii()]


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _word_set(text: str) -> set[str]:
    """The words of ``text`` and the parts of its hyphenated words ("I-C": i-c, i, c)."""
    words = set()
    for word in WORD.findall(text.lower()):
        words.add(_stem(word))
        words.update(_stem(part) for part in re.split(r"['\u2019-]", word))
    return words


def named_by(record: Abnormality | Therapy, q: str) -> str:
    """The name or other name of ``record`` that holds every word of ``q`` (the first
    such), or ""."""
    wanted = {_stem(word) for word in query_words(q)}
    if not wanted:
        return ""
    for name in (record.name, *record.alias_list):
        if wanted <= _word_set(name):
            return name
    return ""


@dataclass
class Understood:
    """A record the query names: ``matched`` is the name or other name it used, and for
    an abnormality ``therapies`` the first UNDERSTOOD_THERAPIES therapies with counted
    evidence about it, the best evidenced first (``[(therapy name, therapy slug), …]``),
    of ``therapies_total``."""

    record: Abnormality | Therapy
    matched: str
    therapies: list[tuple[str, str]] = field(default_factory=list)
    therapies_total: int = 0

    @property
    def more_therapies(self) -> bool:
        return self.therapies_total > len(self.therapies)

    @property
    def is_other_name(self) -> bool:
        return self.matched != self.record.name

    @property
    def is_abnormality(self) -> bool:
        return isinstance(self.record, Abnormality)


@dataclass
class SearchResults:
    abnormalities: list
    therapies: list
    sources: list
    findings: list
    evidence: list
    # Shown apart, with the reason; counted nowhere.
    retracted_findings: list
    retracted_evidence: list
    # Abnormalities and therapies the query names, shown first.
    understood: list[Understood] = field(default_factory=list)

    @property
    def retracted(self) -> list:
        return [*self.retracted_evidence, *self.retracted_findings]

    @property
    def retracted_total(self) -> int:
        return len(self.retracted)

    @property
    def total(self) -> int:
        """Published matches only."""
        return sum(
            len(group)
            for group in (
                self.abnormalities,
                self.therapies,
                self.sources,
                self.findings,
                self.evidence,
            )
        )


def _understood(q: str, abnormalities: list, therapies: list) -> list[Understood]:
    """Records among the matches that the query names; for the abnormalities, their
    first therapies and how many there are, in one query of the pairs' counts stored on
    publish (treatments/counts.py; none when no abnormality is named)."""
    named = []
    for group in (abnormalities, therapies):
        found = [Understood(record=r, matched=m) for r in group if (m := named_by(r, q))]
        # The best matches only: a word as common as "low" names many records.
        named += found[:UNDERSTOOD_PER_KIND]
    wanted = {u.record.pk: u for u in named if isinstance(u.record, Abnormality)}
    if wanted:
        per_abnormality = {"partition_by": F("abnormality_id")}
        rows = (
            PairCertainty.objects.public()
            .filter(abnormality_id__in=wanted)
            .exclude(evidence_best_level="")
            .annotate(
                rank=Window(RowNumber(), order_by=THERAPIES_TIED_ORDER, **per_abnormality),
                of=Window(Count("pk"), **per_abnormality),
            )
            .filter(rank__lte=UNDERSTOOD_THERAPIES)
            .order_by("abnormality_id", "rank")
            .values_list("abnormality_id", "therapy__name", "therapy__slug", "of")
        )
        for abnormality_id, name, slug, total in rows:
            understood = wanted[abnormality_id]
            understood.therapies.append((name, slug))
            understood.therapies_total = total
    return named


def _flagged(evidence: QuerySet) -> QuerySet:
    """Each claim with ``contradicted``: published evidence or findings contradict it."""
    model = evidence.model
    contradicted = Exists(model.objects.published().filter(contradicts=OuterRef("pk")))
    if model is TherapyEvidence:
        by_findings = Exists(
            Finding.objects.published().filter(contradicts_evidence=OuterRef("pk"))
        )
        return evidence.annotate(contradicted=contradicted, contradicted_by_finding=by_findings)
    return evidence.annotate(contradicted=contradicted)


def _claims(
    model: type, related: tuple[str, ...], q: str, n: int, *, retracted: bool, walk: bool
) -> list:
    """The first ``n`` published (or retracted) claims of ``model`` matching ``q``; the
    published ones flagged (``_flagged``).

    On SQLite they are read as a page of the API's lists is (curation/rest.py
    ``page_rows``): the keys first, in a narrow query whose parents are tested row by
    row (``linked_visible_to``), then the rows by key. With the parents' joins and the
    related records in one query, SQLite started from the therapies and sorted every
    match; now, with ``walk`` (a common word: ``fulltext.common``), it walks the order
    index and stops after the n-th match, and for a rarer word the candidates drive."""
    if connections[model.objects.db].vendor != "sqlite":  # ``walk`` is False there
        rows = model.objects.select_related(*related)
        found = matching(rows.retracted() if retracted else rows.published(), q)
        return list((found if retracted else _flagged(found))[:n])
    reader = AnonymousUser()
    if retracted:
        rows = model.objects.listed_visible_to(reader, retracted=True)
        rows = rows.filter(status=Status.RETRACTED)  # few rows: its index may drive
    elif walk:
        # Only the row-by-row test, no status in the outer query: SQLite would start
        # from the status index for a query of two words and sort every match.
        rows = model.objects.linked_visible_to(reader)
    else:
        rows = model.objects.listed_visible_to(reader)
    if walk and (keys := _walked_keys(rows, q, n)) is not None:
        if not keys:
            return []
        found = rows.filter(pk__in=keys).select_related(*related)
        return list(found if retracted else _flagged(found))
    found = matching(rows, q, drive=not walk).select_related(*related)
    return list(page_rows(found if retracted else _flagged(found), 0, n))


# How far down its list a common word's first matches are looked for row by row
# (``_walked_keys``) before the candidates are read instead.
WALK_ROWS = 1000


def _walked_keys(rows: QuerySet, q: str, n: int) -> list | None:
    """The keys of the first ``n`` rows of ``rows``, in its order, that match ``q``, or
    None when its first WALK_ROWS rows hold fewer than ``n`` matches and it has more.

    For a common word on SQLite: the rows are read in the list's order, a few at a time,
    and each is tested here with the expressions ``matching`` gives SQLite (the same
    patterns, as SQLite's REGEXP applies them: a match anywhere in the field, case
    ignored), stopping at the n-th match. Reading the candidates of a word in 40 % of
    100,000 claims took about 20 ms per query; the first 25 matches, walked, under 1 ms.
    A word found as a part of other words everywhere and as a whole word almost nowhere
    would walk the whole list: past WALK_ROWS rows the candidates decide, as before."""
    fields = SEARCH_FIELDS[rows.model]
    patterns = [re.compile("(?i)" + _whole_word(word)) for word in query_words(q)]
    keys: list = []
    walked = 0
    for pk, *texts in rows.values_list("pk", *fields)[:WALK_ROWS].iterator(chunk_size=n):
        walked += 1
        if all(any(text is not None and p.search(text) for text in texts) for p in patterns):
            keys.append(pk)
            if len(keys) == n:
                return keys
    return keys if walked < WALK_ROWS else None


def search(q: str) -> SearchResults:
    """Seven queries: one per kind, each capped at RESULTS_PER_KIND rows, and one each
    for retracted findings and evidence, capped at RETRACTED_PER_KIND; an eighth when
    the query names an abnormality (its therapies). On SQLite, when a word can be looked
    up in the trigram index, one bounded count of its candidates more for findings and
    one for evidence (``fulltext.common``: which plan ``_claims`` reads them by)."""
    n, r = RESULTS_PER_KIND, RETRACTED_PER_KIND
    words = lookup_words(query_words(q))
    walk = {
        model: fulltext.common(model.objects.all(), words) for model in (Finding, TherapyEvidence)
    }
    finding_parents = ("abnormality", "lab_test", "source")
    evidence_parents = ("therapy", "abnormality", "source")
    abnormalities = list(matching(Abnormality.objects.published(), q)[:n])
    therapies = list(matching(Therapy.objects.published(), q)[:n])
    return SearchResults(
        abnormalities=abnormalities,
        therapies=therapies,
        sources=list(matching(Source.objects.published(), q)[:n]),
        findings=_claims(Finding, finding_parents, q, n, retracted=False, walk=walk[Finding]),
        evidence=_claims(
            TherapyEvidence, evidence_parents, q, n, retracted=False, walk=walk[TherapyEvidence]
        ),
        retracted_findings=_claims(
            Finding, finding_parents, q, r, retracted=True, walk=walk[Finding]
        ),
        retracted_evidence=_claims(
            TherapyEvidence, evidence_parents, q, r, retracted=True, walk=walk[TherapyEvidence]
        ),
        understood=_understood(q, abnormalities, therapies),
    )
