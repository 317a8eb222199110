"""Every reader page runs a fixed number of queries, the same with 1 row as with 50
(STYLE.md §14). Each count comes with the list of the queries it expects.

The pages only read: the rows are built once for all the pages of each size, in a
transaction rolled back after the module (each test still runs in its own savepoint)."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from curation.models import Status
from findings.models import Direction
from tests import factories
from treatments.certainty import certainty_recompute


def build(rows: int):
    """``rows`` of everything each page lists, all tied to one abnormality, one therapy
    and one source, so that every page has ``rows`` items to show, and as many
    retracted ones (shown apart, with their reasons)."""
    abnormality = factories.make_abnormality(slug="target", aliases="target name")
    main = factories.make_therapy(slug="main")
    source = factories.make_source()
    # Rated once at the end (the recompute below rates every therapy again anyway): the
    # stored ratings are what rating after each item would leave, for one recompute
    # instead of one per evidence item.
    with factories.rated_once():
        for i in range(rows):
            therapy = main if i == 0 else factories.make_therapy()
            other = abnormality if i == 0 else factories.make_abnormality()
            evidence = factories.make_evidence(
                therapy=main, abnormality=abnormality, source=source, statement=f"plain claim {i}"
            )
            factories.make_evidence(
                therapy=therapy,
                abnormality=other,
                source=source,
                direction=Direction.DOES_NOT_SUPPORT,
            )
            factories.make_evidence(therapy=main, abnormality=None, source=source)
            factories.make_regulatory_status(therapy=therapy, source=source)
            factories.make_harm(therapy=therapy, source=source)
            finding = factories.make_finding(abnormality=abnormality, source=source)
            factories.make_lab_test().abnormalities.add(abnormality)
            evidence.contradicting_findings.add(finding)
            factories.make_source()
            retracted = {
                "status": Status.RETRACTED,
                "reviewed_at": timezone.now(),
                "review_note": "Withdrawn.",
                "source": source,
            }
            factories.make_evidence(
                therapy=main, abnormality=abnormality, statement=f"plain withdrawn {i}", **retracted
            )
            factories.make_evidence(therapy=main, abnormality=None, **retracted)
            factories.make_finding(
                abnormality=abnormality, statement=f"plain gone {i}", **retracted
            )
            factories.make_regulatory_status(therapy=main, **retracted)
            factories.make_harm(therapy=main, **retracted)
    certainty_recompute()
    return source


# (url, expected queries, what they are). "{source}" is filled in with the source's id.
# Every page, feed and export reads the data version once (the footer, the file name,
# the X-Data-Version header: mecfs_kb/data_version.py).
# On SQLite the search counts the trigram candidates of findings and of evidence, bounded,
# to choose how it reads them (treatments/search.py ``_claims``, findings/fulltext.py).
SEARCH_PLANS = 2 if connection.vendor == "sqlite" else 0

PAGES = [
    (
        "/",
        7,
        "published abnormalities; published therapies; how many pairs each abnormality "
        "and each therapy is in (two); the stored counts and certainty of the pairs shown; "
        "years of the earliest and latest published sources; data version",
    ),
    (
        "/treatments/",
        6,
        "count; page of therapies with summary subqueries; pair summary of the page with "
        "abnormality names; their regulatory statuses; abnormality choices of the form; "
        "data version",
    ),
    (
        "/treatments/?abnormality=target&level=E&sort=name",
        7,
        "abnormality slug validation; count; page; pair summary with abnormality names; "
        "regulatory statuses; abnormality choices of the form; data version",
    ),
    (
        "/treatments/main/",
        9,
        "therapy; pair summary with abnormality names; its strongest evidence per "
        "abnormality with source and abnormality; contradicting evidence (prefetch); "
        "contradicting findings (prefetch); regulatory statuses with source; harms with "
        "source (each published and retracted together); glossary terms; data version",
    ),
    (
        "/treatments/main/abnormalities/target/",
        9,
        "therapy; abnormality; its stored rating with counts (also the page count) and "
        "override; a page of the pair's evidence with source; contradicting evidence; "
        "contradicting findings; the pair's most recently retracted evidence with source; "
        "glossary terms; data version",
    ),
    ("/abnormalities/", 3, "count; page with finding-count subqueries; data version"),
    (
        "/abnormalities/target/",
        9,
        "abnormality; its published findings counted by group (kept until the next publish "
        "where the public cache is on); the page of findings with source and lab test; its "
        "most recently retracted findings; its lab tests; therapies grouped by level; its "
        "most recently retracted therapy evidence with therapy and source; glossary terms; "
        "data version",
    ),
    ("/sources/", 3, "count; page of sources; data version"),
    (
        "/sources/{source}/",
        11,
        "source; its published findings counted, and its therapy evidence (each kept until "
        "the next publish where the public cache is on); the page's findings; the page's "
        "therapy evidence with therapy and abnormality; its most recently retracted findings, "
        "and therapy evidence; its regulatory statuses with therapy; its harms with therapy "
        "(each published and retracted together); glossary terms; data version",
    ),
    (
        "/search/?q=plain",
        9 + SEARCH_PLANS,
        "abnormalities; therapies; the stored counts of the therapies found; sources; "
        "findings; therapy evidence (each with whether it is contradicted, as subqueries); "
        "retracted findings; retracted therapy evidence; data version; on SQLite, a bounded "
        "count of the trigram candidates for findings and one for evidence",
    ),
    (
        "/search/?q=target+name",
        9 + SEARCH_PLANS,
        "the eight above, and the therapies with evidence about the abnormality the query names",
    ),
    ("/glossary/", 2, "published glossary terms with their sources; data version"),
    ("/feeds/evidence/", 2, "latest evidence with therapy, abnormality and source; data version"),
    (
        "/treatments/?format=csv",
        5,
        "all therapies with summaries; pair summary with abnormality names; regulatory "
        "statuses; harms with source; data version",
    ),
    ("/treatments/?format=json&abnormality=target", 6, "slug validation + the five above"),
    ("/abnormalities/?format=json", 2, "all abnormalities with finding counts; data version"),
    ("/sources/?format=csv", 2, "all sources; data version"),
    # The evidence behind a detail page: the page's own queries, no more.
    ("/treatments/main/?format=csv", 8, "as /treatments/main/"),
    ("/treatments/main/abnormalities/target/?format=json", 8, "as the pair page"),
    ("/abnormalities/target/?format=csv", 8, "as /abnormalities/target/"),
]


@pytest.fixture(scope="module")
def built(request, django_db_setup, django_db_blocker):
    """``build(rows)`` once for every page of that size (``indirect`` parametrisation:
    pytest runs the pages of one size together); rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        source = build(request.param)
        factories.gather_statistics()
        yield source
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.parametrize("built", [1, 50], indirect=True)
@pytest.mark.parametrize(("url", "queries", "what"), PAGES, ids=[page[0] for page in PAGES])
def test_each_page_runs_the_same_queries_with_1_and_50_rows(
    client, django_assert_num_queries, monkeypatch, built, url, queries, what
):
    # Every claim of the source on its first page, both kinds (a page that shows one kind
    # only runs one query fewer: tests/test_reader_scale.py).
    monkeypatch.setattr("findings.views.SOURCE_PAGE_SIZE", 1000)
    source = built
    with django_assert_num_queries(queries):
        response = client.get(url.format(source=source.pk))
    assert response.status_code == 200
