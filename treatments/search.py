"""Full-text search over abnormalities, therapies (with aliases), sources and claims.

On PostgreSQL: ``to_tsvector('english', …) @@ websearch_to_tsquery('english', q)``,
served by the GIN expression indexes that migrations findings 0002 and treatments
0003 create with the very same ``SearchVector`` (an index is used only when its
expression matches the query's). On SQLite: every word of the query must appear,
case-insensitively, in one of the same fields.

Retracted claims that match are shown too, apart and flagged, with the editor's reason,
rather than left out: a reader who heard of a claim, or saw it here before, and
searches for it must learn that it was withdrawn and why, not conclude that we never
had it. They are searched separately, so that they never take the place of a
published match, and are left out of the number of results.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import Q, QuerySet, Subquery

from findings.models import Abnormality, Finding, Source
from treatments.models import Therapy, TherapyEvidence

SEARCH_CONFIG = "english"
RESULTS_PER_KIND = 25
# Retracted claims matching the words, per kind: a few, most relevant first.
RETRACTED_PER_KIND = 10
# Matches ranked per kind (see matching()): enough that the best of them are good.
RANK_CANDIDATES = 200
# On SQLite each word is one more LIKE per field: a handful of words is plenty.
MAX_WORDS = 8

# The fields each kind is searched on. The GIN indexes in the migrations are built
# from these exact lists: change one, change the other (tests check the index is used).
SEARCH_FIELDS: dict[type, tuple[str, ...]] = {
    Abnormality: ("name", "aliases", "component", "summary"),
    Therapy: ("name", "aliases", "summary", "mechanism"),
    Source: ("title", "authors", "container"),
    Finding: ("statement", "quote"),
    TherapyEvidence: ("statement", "quote"),
}


def search_vector(model: type) -> SearchVector:
    return SearchVector(*SEARCH_FIELDS[model], config=SEARCH_CONFIG)


def matching(queryset: QuerySet, q: str) -> QuerySet:
    """``queryset`` narrowed to rows matching ``q``, best match first."""
    model = queryset.model
    if connections[queryset.db].vendor == "postgresql":
        vector = search_vector(model)
        query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
        # Ranking needs each match's vector computed again: over every match of a
        # common word (200,000 items at 500k) that takes seconds. The GIN index finds
        # the first RANK_CANDIDATES matches, and only those are ranked.
        candidates = (
            queryset.annotate(search=vector)
            .filter(search=query)
            .order_by()
            .values("pk")[:RANK_CANDIDATES]
        )
        return (
            queryset.filter(pk__in=Subquery(candidates))
            .annotate(rank=SearchRank(vector, query))
            .order_by("-rank", "pk")
        )
    words = q.split()[:MAX_WORDS]
    if not words:
        return queryset.none()
    fields = SEARCH_FIELDS[model]
    each_word = [
        reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields)) for word in words
    ]
    return queryset.filter(reduce(and_, each_word))


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


def search(q: str) -> SearchResults:
    """Seven queries: one per kind, each capped at RESULTS_PER_KIND rows, and one each
    for retracted findings and evidence, capped at RETRACTED_PER_KIND."""
    n, r = RESULTS_PER_KIND, RETRACTED_PER_KIND
    findings = Finding.objects.select_related("abnormality", "lab_test", "source")
    evidence = TherapyEvidence.objects.select_related("therapy", "abnormality", "source")
    return SearchResults(
        abnormalities=list(matching(Abnormality.objects.published(), q)[:n]),
        therapies=list(matching(Therapy.objects.published(), q)[:n]),
        sources=list(matching(Source.objects.published(), q)[:n]),
        findings=list(matching(findings.published(), q)[:n]),
        evidence=list(matching(evidence.published(), q)[:n]),
        retracted_findings=list(matching(findings.retracted(), q)[:r]),
        retracted_evidence=list(matching(evidence.retracted(), q)[:r]),
    )
