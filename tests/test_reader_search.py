"""/search/?q=: full-text search over abnormalities, therapies, sources and claims."""

import pytest
from django.db import connection

from curation.models import Status
from findings.models import Abnormality, Finding
from tests import factories
from treatments.models import Therapy, TherapyEvidence
from treatments.search import SEARCH_CONFIG, _understood, search, search_vector

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


def test_an_empty_search_shows_the_form_and_searches_to_try(client):
    response = client.get("/search/")

    assert response.status_code == 200
    assert response.context["results"] is None
    html = response.content.decode()
    assert '<label for="id_q">Search for</label>' in html
    assert "Search in your own words" in html
    assert 'href="/search/?q=NK+cell+function"' in html
    assert 'href="/glossary/"' in html


def test_a_search_that_finds_nothing_says_so_and_offers_searches_to_try(client):
    html = client.get("/search/?q=zzzz").content.decode()

    assert "Nothing published matches “zzzz”." in html
    assert "Try other words" in html
    assert 'href="/search/?q=poly+I%3AC"' in html


def test_a_lay_phrase_names_the_abnormality_and_lists_every_therapy_with_evidence_on_it(client):
    nk = factories.make_abnormality(
        name="Low NK cell cytotoxicity", slug="low-nk", aliases="low NK cell function"
    )
    ldn = factories.make_therapy(name="Low-dose naltrexone", slug="ldn")
    inosine = factories.make_therapy(name="Inosine pranobex", slug="inosine")
    factories.make_evidence(therapy=ldn, abnormality=nk, level="E", statement="LDN may help.")
    factories.make_evidence(therapy=inosine, abnormality=nk, level="C", statement="A pilot.")
    factories.make_evidence(therapy=factories.make_therapy(), statement="About ME/CFS.")

    response = client.get("/search/?q=NK cell function")

    [understood] = response.context["results"].understood
    assert understood.record == nk
    assert understood.matched == "low NK cell function"
    # The best evidenced first: inosine pranobex's level C before LDN's E.
    assert understood.therapies == [("Inosine pranobex", "inosine"), ("Low-dose naltrexone", "ldn")]
    html = response.content.decode()
    assert "(also called “low NK cell function”)" in html
    assert '<a href="/treatments/inosine/abnormalities/low-nk/">Inosine pranobex</a>' in html
    assert '<a href="/treatments/ldn/abnormalities/low-nk/">Low-dose naltrexone</a>' in html


def test_a_named_abnormality_shows_its_first_therapies_and_links_to_all_of_them(
    client, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr("treatments.search.UNDERSTOOD_THERAPIES", 2)
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")
    other = factories.make_abnormality(name="Low NK cell count", slug="low-nk-count")
    # As the abnormality's page orders them: best level, then most supporting, then name.
    for name, slug, levels in [
        ("Zeta", "zeta", "CC"),
        ("Alpha", "alpha", "C"),
        ("Beta", "beta", "B"),
        ("Gamma", "gamma", "E"),
    ]:
        therapy = factories.make_therapy(name=name, slug=slug)
        for level in levels:
            factories.make_evidence(therapy=therapy, abnormality=nk, level=level)
    factories.make_evidence(therapy=Therapy.objects.get(slug="alpha"), abnormality=other)

    response = client.get("/search/?q=low NK cell")

    by_slug = {u.record.slug: u for u in response.context["results"].understood}
    assert by_slug["low-nk"].therapies == [("Beta", "beta"), ("Zeta", "zeta")]
    assert (by_slug["low-nk"].therapies_total, by_slug["low-nk"].more_therapies) == (4, True)
    assert by_slug["low-nk-count"].therapies == [("Alpha", "alpha")]
    assert not by_slug["low-nk-count"].more_therapies
    html = response.content.decode()
    assert (
        '<a href="/abnormalities/low-nk/#therapies-heading">All 4 therapies with evidence '
        "about Low NK cell cytotoxicity</a>, on its page" in html
    )
    assert "/abnormalities/low-nk-count/#therapies-heading" not in html
    assert '<a href="/treatments/gamma/abnormalities/low-nk/">' not in html
    # The therapies of every named abnormality, however many, in one query.
    with django_assert_num_queries(1):
        _understood("low NK cell", [nk, other], [])


def test_punctuation_between_words_is_a_space_so_poly_i_c_finds_its_other_name(client):
    rintatolimod = factories.make_therapy(
        name="Rintatolimod", slug="rintatolimod", aliases="Ampligen\nPoly I-C"
    )

    results = client.get("/search/", {"q": "poly I:C"}).context["results"]

    assert results.therapies == [rintatolimod]
    assert [(u.record, u.matched) for u in results.understood] == [(rintatolimod, "Poly I-C")]


def test_a_word_matches_only_a_whole_word(client):
    factories.make_source(title="Chronic Fatigue Syndrome (HyperbaricLink condition page)")
    nk = factories.make_abnormality(name="Low NK cell count")
    factories.make_abnormality(name="Ankle swelling", component="Links", summary="Swollen ankles.")

    results = client.get("/search/?q=NK").context["results"]

    assert results.sources == []
    assert results.abnormalities == [nk]


def test_a_plural_finds_the_singular_and_back(client):
    therapy = factories.make_therapy(name="Immunoglobulin", summary="Antibody infusions.")

    assert client.get("/search/?q=infusion").context["results"].therapies == [therapy]


def test_a_contradicted_claim_is_flagged_in_the_results(client):
    claim = factories.make_evidence(statement="Sizofiran is in Phase II trials.", level="E")
    other = factories.make_evidence(statement="No Phase II trial was found.", level="E")
    claim.contradicted_by.add(other)
    finding = factories.make_finding(statement="Phase II claims were checked.")
    hidden = factories.make_evidence(statement="Draft Phase II doubt.", status=Status.DRAFT)
    finding.contradicted_by.add(factories.make_finding(statement="No, they were not."))
    other.contradicted_by.add(hidden)  # a draft contradicts nothing readers can see

    response = client.get("/search/?q=phase")

    flags = {e.statement: e.contradicted for e in response.context["results"].evidence}
    assert flags == {
        "Sizofiran is in Phase II trials.": True,
        "No Phase II trial was found.": False,
    }
    assert [f.contradicted for f in response.context["results"].findings] == [True]
    html = response.content.decode()
    assert html.count('<strong class="contradicted-tag">contradicted</strong>') == 2


def test_the_query_words_keep_inner_hyphens_and_drop_other_punctuation():
    from treatments.search import query_words

    assert query_words("poly I:C") == ["poly", "i", "c"]
    assert query_words("IL-10, NKH1+T3-") == ["il-10", "nkh1", "t3"]
    assert query_words("  ") == []


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
        (Finding, "finding_search"),
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


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="stored documents exist on PostgreSQL only"
)
@pytest.mark.parametrize("make", [factories.make_evidence, factories.make_finding])
def test_a_claims_stored_search_document_follows_its_edits(client, make):
    claim = make(statement="Ampligen raised NK cell function.", plain_summary="", quote="")
    table = type(claim)._meta.db_table

    def document() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT search_document::text, to_tsvector('english', COALESCE(statement, '') "
                f"|| ' ' || COALESCE(plain_summary, '') || ' ' || COALESCE(quote, ''))::text "
                f"FROM {table} WHERE id = %s",
                [claim.pk],
            )
            return cursor.fetchone()

    def found(q: str) -> bool:
        results = search(q)
        return claim in (results.evidence + results.findings)

    assert found("ampligen") and not found("hyperbaric")
    claim.statement = "Hyperbaric oxygen made no difference."
    claim.plain_summary = "It did not help."
    claim.quote = "no significant change"
    claim.save()

    stored, computed = document()
    assert stored == computed and "'hyperbar':1" in stored and "'signific'" in stored
    assert found("hyperbaric") and found("significant") and not found("ampligen")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm exists on PostgreSQL only")
def test_postgresql_finds_a_misspelt_name_or_other_name(client):
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity")
    rintatolimod = factories.make_therapy(name="Rintatolimod", aliases="Ampligen")
    factories.make_therapy(name="Hyperbaric oxygen therapy")

    assert client.get("/search/?q=cytotoxcity").context["results"].abnormalities == [nk]
    assert client.get("/search/?q=Ampligin").context["results"].therapies == [rintatolimod]
    assert client.get("/search/?q=rintatolimd").context["results"].therapies == [rintatolimod]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm exists on PostgreSQL only")
@pytest.mark.parametrize(
    ("model", "field", "index"),
    [
        (Therapy, "name", "therapy_name_trgm"),
        (Therapy, "aliases", "therapy_aliases_trgm"),
        (Abnormality, "name", "abnormality_name_trgm"),
        (Abnormality, "aliases", "abnormality_aliases_trgm"),
    ],
)
def test_postgresql_answers_misspellings_from_the_trigram_indexes(model, field, index):
    queryset = model.objects.filter(**{f"{field}__trigram_word_similar": "ampligin"}).order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = queryset.explain()

    assert index in plan


def test_a_common_word_names_at_most_three_records_of_each_kind(client):
    for n in range(5):
        factories.make_abnormality(name=f"Low marker {n}")
        factories.make_therapy(name=f"Low dose {n}")

    understood = client.get("/search/?q=low").context["results"].understood

    kinds = [type(u.record).__name__ for u in understood]
    assert kinds == ["Abnormality"] * 3 + ["Therapy"] * 3


def test_a_claim_is_found_by_the_words_of_its_plain_summary(client):
    """Readers search in their own words; the plain-language summary is written in them."""
    evidence = factories.make_evidence(
        statement="NK cytotoxicity rose after 12 weeks of treatment.",
        plain_summary="Immune cells that fight viruses worked better after three months.",
    )
    found = client.get("/search/?q=viruses").context["results"].evidence
    assert found == [evidence]


def test_the_api_q_filter_looks_in_the_plain_summary(client):
    evidence = factories.make_evidence(
        statement="NK cytotoxicity rose.", plain_summary="Killer cells worked better."
    )
    rows = client.get("/api/v1/evidence/?q=Killer").json()["results"]
    assert [row["id"] for row in rows] == [evidence.pk]
