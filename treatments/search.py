"""Full-text search over abnormalities, therapies (with aliases), sources and claims.

On PostgreSQL: ``to_tsvector('english', …) @@ websearch_to_tsquery('english', q)``,
served by the GIN expression indexes that migrations findings 0002 and treatments
0003 create with the very same ``SearchVector`` (an index is used only when its
expression matches the query's). On SQLite: every word of the query must appear,
case-insensitively, in one of the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import Q, QuerySet

from findings.models import Abnormality, Finding, Source
from treatments.models import Therapy, TherapyEvidence

SEARCH_CONFIG = "english"
RESULTS_PER_KIND = 25
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
        return (
            queryset.annotate(search=vector)
            .filter(search=query)
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

    @property
    def total(self) -> int:
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
    """Five queries, one per kind, each capped at RESULTS_PER_KIND rows."""
    n = RESULTS_PER_KIND
    return SearchResults(
        abnormalities=list(matching(Abnormality.objects.published(), q)[:n]),
        therapies=list(matching(Therapy.objects.published(), q)[:n]),
        sources=list(matching(Source.objects.published(), q)[:n]),
        findings=list(
            matching(
                Finding.objects.published().select_related("abnormality", "lab_test", "source"), q
            )[:n]
        ),
        evidence=list(
            matching(
                TherapyEvidence.objects.published().select_related(
                    "therapy", "abnormality", "source"
                ),
                q,
            )[:n]
        ),
    )
