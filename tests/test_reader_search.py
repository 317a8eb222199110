"""/search/?q=: full-text search over abnormalities, therapies, sources and claims."""

import pytest
from django.db import connection

from curation.models import Status
from findings.models import Abnormality
from tests import factories
from treatments.models import Therapy, TherapyEvidence
from treatments.search import SEARCH_CONFIG, search_vector

pytestmark = pytest.mark.django_db


def test_a_brand_name_finds_the_therapy(client):
    factories.make_therapy(
        name="Rintatolimod", slug="rintatolimod", aliases="Ampligen\nPoly I:C12U"
    )
    factories.make_therapy(name="Low-dose naltrexone")

    response = client.get("/search/?q=Ampligen")

    assert response.status_code == 200
    assert [t.name for t in response.context["results"].therapies] == ["Rintatolimod"]
    assert '<a href="/treatments/rintatolimod/">Rintatolimod</a>' in response.content.decode()


def test_it_finds_abnormalities_sources_and_claims(client):
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity", aliases="LNKS")
    source = factories.make_source(title="Natural killer cell function in fatigue")
    factories.make_finding(abnormality=nk, statement="Cytotoxicity was lower in patients.")
    factories.make_evidence(statement="Naltrexone restored receptor signalling.")

    results = client.get("/search/?q=cytotoxicity").context["results"]
    assert [a.name for a in results.abnormalities] == ["Low NK cell cytotoxicity"]
    assert [f.statement for f in results.findings] == ["Cytotoxicity was lower in patients."]
    assert client.get("/search/?q=LNKS").context["results"].abnormalities == [nk]
    assert client.get("/search/?q=killer").context["results"].sources == [source]
    evidence = client.get("/search/?q=receptor").context["results"].evidence
    assert [e.statement for e in evidence] == ["Naltrexone restored receptor signalling."]


def test_every_word_must_match(client):
    factories.make_therapy(name="Inosine pranobex", summary="An immune modulator.")
    factories.make_therapy(name="Inosine alone", summary="Something else.")

    results = client.get("/search/?q=inosine modulator").context["results"]

    assert [t.name for t in results.therapies] == ["Inosine pranobex"]


def test_drafts_never_appear_in_search(client):
    factories.make_therapy(name="Secret draft therapy", status=Status.DRAFT)
    factories.make_abnormality(name="Secret draft abnormality", status=Status.DRAFT)
    factories.make_source(title="Secret draft source", status=Status.DRAFT)
    factories.make_evidence(statement="Secret draft claim", status=Status.DRAFT)
    hidden_therapy = factories.make_therapy(status=Status.DRAFT)
    factories.make_evidence(therapy=hidden_therapy, statement="Secret claim on a draft therapy")

    response = client.get("/search/?q=secret")

    assert response.context["results"].total == 0
    assert "Nothing published matches" in response.content.decode()


def test_an_empty_search_shows_only_the_form(client):
    response = client.get("/search/")

    assert response.status_code == 200
    assert response.context["results"] is None
    assert '<label for="id_q">Search for</label>' in response.content.decode()


def test_a_query_longer_than_200_characters_is_refused_with_a_reason(client):
    response = client.get("/search/", {"q": "a" * 5000})

    assert response.status_code == 400
    html = response.content.decode()
    assert "<strong>Search for</strong> (<code>q</code>)" in html
    assert "at most 200 characters" in html


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="GIN indexes exist on PostgreSQL only"
)
@pytest.mark.parametrize(
    ("model", "index"),
    [
        (Therapy, "therapy_search"),
        (Abnormality, "abnormality_search"),
        (TherapyEvidence, "evidence_search"),
    ],
)
def test_postgresql_answers_searches_from_the_gin_index(model, index):
    from django.contrib.postgres.search import SearchQuery

    query = SearchQuery("ampligen", search_type="websearch", config=SEARCH_CONFIG)
    # Unordered: with Meta.ordering the planner may walk the name's b-tree and filter.
    queryset = model.objects.annotate(search=search_vector(model)).filter(search=query).order_by()
    with connection.cursor() as cursor:
        # With a handful of rows the planner would rather scan a table or a b-tree;
        # forbid both to see whether the GIN index matches the query's expression.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = queryset.explain()

    assert index in plan
