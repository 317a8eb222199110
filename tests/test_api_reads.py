"""Reading the REST API: every resource, its filters, visibility, errors and HTTP caching."""

import pytest

from curation.models import Status
from tests.factories import (
    make_abnormality,
    make_evidence,
    make_finding,
    make_harm,
    make_lab_test,
    make_regulatory_status,
    make_source,
    make_therapy,
    make_user,
    rated_once,
)
from treatments.certainty import certainty_recompute
from treatments.models import CertaintyOverride, Stage, TherapyKind


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def slugs(response) -> list[str]:
    return [item["slug"] for item in results(response)]


def ids(response) -> list[int]:
    return [item["id"] for item in results(response)]


def assert_error(response, status: int, code: str) -> dict:
    """Every 4xx has one body shape: status, code, detail, errors."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}
    assert body["status"] == status
    assert body["code"] == code
    assert body["detail"]
    return body


# ---------------------------------------------------------------------------
# Therapies
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_finds_therapies_tied_to_an_abnormality_by_evidence_of_level_b_or_better(api_client):
    low_nk = make_abnormality(slug="low-nk-cell-cytotoxicity", name="Low NK cell cytotoxicity")
    controlled = make_evidence(abnormality=low_nk, level="B").therapy
    replicated = make_evidence(abnormality=low_nk, level="A").therapy
    make_evidence(abnormality=low_nk, level="C")  # too weak
    make_evidence(level="A")  # strong, but about another abnormality
    # Level B about something else and level C about low NK: no single item is both.
    mixed = make_therapy()
    make_evidence(therapy=mixed, level="B")
    make_evidence(therapy=mixed, abnormality=low_nk, level="C")

    response = api_client.get("/api/v1/therapies/?abnormality=low-nk-cell-cytotoxicity&level=B")

    assert sorted(slugs(response)) == sorted([controlled.slug, replicated.slug])


@pytest.mark.django_db
def test_a_therapy_carries_its_aliases_and_best_level_per_abnormality(api_client):
    therapy = make_therapy(
        name="Rintatolimod", slug="rintatolimod", aliases="Ampligen\nPoly I:C12U"
    )
    nk = make_abnormality(name="Low NK cell cytotoxicity")
    rnase = make_abnormality(name="RNase L pathway dysfunction")
    make_evidence(therapy=therapy, abnormality=nk, level="C")
    make_evidence(therapy=therapy, abnormality=nk, level="B", direction="does_not_support")
    make_evidence(therapy=therapy, abnormality=rnase, level="D")
    make_evidence(therapy=therapy, abnormality=None, level="A")
    make_evidence(therapy=therapy, abnormality=rnase, level="A", status=Status.DRAFT)

    body = api_client.get("/api/v1/therapies/rintatolimod/").json()

    assert body["aliases"] == ["Ampligen", "Poly I:C12U"]
    assert body["best_level"] == "A"  # the general evidence counts for the therapy
    assert body["supporting"] == 3
    assert body["not_supporting"] == 1
    keys = ["slug", "name", "best_level", "best_level_label", "best_level_direction"]
    keys += ["total", "supporting", "not_supporting"]
    assert [{key: row[key] for key in keys} for row in body["abnormalities"]] == [
        {
            "slug": nk.slug,
            "name": nk.name,
            "best_level": "B",
            "best_level_label": "Controlled",
            # The B item is the one that does not support it.
            "best_level_direction": "against",
            "total": 2,
            "supporting": 1,
            "not_supporting": 1,
        },
        {
            "slug": rnase.slug,
            "name": rnase.name,
            "best_level": "D",
            "best_level_label": "Preclinical or indirect",
            "best_level_direction": "for",
            "total": 1,
            "supporting": 1,
            "not_supporting": 0,
        },
    ]
    # The stored counts in full, the same as the pair's rating at /api/v1/pairs/.
    assert body["abnormalities"][0]["counts"] == {
        "best_level": "B",
        "best_level_direction": "against",
        "supporting": 1,
        "not_supporting": 1,
        "other": 0,
        "contested": 0,
        "total": 2,
        "held": 0,
        "studies": 0,
        "clinical_studies": 0,
        "controlled_studies": 0,
    }
    assert body["counts"]["total"] == 4
    assert body["rating"]["counts"] == body["counts"]


@pytest.mark.django_db
def test_match_all_asks_for_evidence_about_every_abnormality(api_client):
    a, b = make_abnormality(), make_abnormality()
    both = make_therapy()
    make_evidence(therapy=both, abnormality=a)
    make_evidence(therapy=both, abnormality=b)
    only_a = make_evidence(abnormality=a).therapy

    url = f"/api/v1/therapies/?abnormality={a.slug}&abnormality={b.slug}"
    assert sorted(slugs(api_client.get(url))) == sorted([both.slug, only_a.slug])
    assert slugs(api_client.get(url + "&match=all")) == [both.slug]


@pytest.mark.django_db
def test_it_filters_therapies_by_kind_stage_direction_and_text(api_client):
    drug = make_therapy(kind=TherapyKind.DRUG, stage=Stage.OFF_LABEL, name="Low-dose naltrexone")
    procedure = make_therapy(kind=TherapyKind.PROCEDURE, aliases="HBOT")
    make_evidence(therapy=procedure, direction="does_not_support")

    assert slugs(api_client.get("/api/v1/therapies/?kind=procedure")) == [procedure.slug]
    assert slugs(api_client.get("/api/v1/therapies/?stage=off_label")) == [drug.slug]
    assert slugs(api_client.get("/api/v1/therapies/?q=naltrex")) == [drug.slug]
    assert slugs(api_client.get("/api/v1/therapies/?q=hbot")) == [procedure.slug]
    response = api_client.get("/api/v1/therapies/?direction=does_not_support")
    assert slugs(response) == [procedure.slug]


@pytest.mark.django_db
def test_it_sorts_therapies_by_name_or_evidence(api_client):
    weak = make_evidence(therapy=make_therapy(name="Alpha"), level="D").therapy
    strong = make_evidence(therapy=make_therapy(name="Beta"), level="A").therapy

    assert slugs(api_client.get("/api/v1/therapies/?sort=-name")) == [strong.slug, weak.slug]
    # Descending evidence is the strongest first, as its description says (issue 16).
    assert slugs(api_client.get("/api/v1/therapies/?sort=-evidence")) == [strong.slug, weak.slug]
    assert slugs(api_client.get("/api/v1/therapies/?sort=evidence")) == [weak.slug, strong.slug]


# ---------------------------------------------------------------------------
# Visibility
# ---------------------------------------------------------------------------


def _published_draft_and_unrelated(kind: str):
    """A published record, a draft and an unrelated published one of a resource: returns
    the lookup key and the three keys (published, draft, unrelated)."""
    if kind == "therapies":
        pub, draft, other = make_therapy(), make_therapy(status=Status.DRAFT), make_therapy()
        return "slug", pub.slug, draft.slug, other.slug
    if kind == "abnormalities":
        pub, other = make_abnormality(), make_abnormality()
        draft = make_abnormality(status=Status.DRAFT)
        return "slug", pub.slug, draft.slug, other.slug
    if kind == "lab-tests":
        pub, other = make_lab_test(), make_lab_test()
        draft = make_lab_test(status=Status.SUBMITTED)
        return "slug", pub.slug, draft.slug, other.slug
    if kind == "sources":
        pub, draft, other = make_source(), make_source(status=Status.DRAFT), make_source()
        return "id", pub.pk, draft.pk, other.pk
    if kind == "evidence":
        pub, other = make_evidence(), make_evidence()
        draft = make_evidence(status=Status.DRAFT)
        make_evidence(source=make_source(status=Status.DRAFT))  # its source is a draft
        return "id", pub.pk, draft.pk, other.pk
    if kind == "findings":
        pub, other = make_finding(), make_finding()
        draft = make_finding(status=Status.REJECTED)
        return "id", pub.pk, draft.pk, other.pk
    if kind == "harms":
        pub, other = make_harm(), make_harm()
        draft = make_harm(status=Status.SUBMITTED)
        make_harm(source=make_source(status=Status.DRAFT))  # its source is a draft
        make_harm(therapy=make_therapy(status=Status.DRAFT))  # its therapy is a draft
        return "id", pub.pk, draft.pk, other.pk
    pub, other = make_regulatory_status(), make_regulatory_status()
    draft = make_regulatory_status(status=Status.DRAFT)
    make_regulatory_status(therapy=make_therapy(status=Status.DRAFT))  # its therapy is a draft
    return "id", pub.pk, draft.pk, other.pk


RESOURCES = [
    "therapies",
    "abnormalities",
    "lab-tests",
    "sources",
    "evidence",
    "findings",
    "regulatory-statuses",
    "harms",
]


@pytest.mark.django_db
@pytest.mark.parametrize("resource", RESOURCES)
def test_it_hides_drafts_from_anonymous_clients(api_client, resource):
    key, published, draft, unrelated = _published_draft_and_unrelated(resource)

    listed = [item[key] for item in results(api_client.get(f"/api/v1/{resource}/"))]

    assert sorted(listed, key=str) == sorted([published, unrelated], key=str)
    assert api_client.get(f"/api/v1/{resource}/{published}/").status_code == 200
    assert_error(api_client.get(f"/api/v1/{resource}/{draft}/"), 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize("resource", ["therapies", "sources", "evidence"])
def test_a_user_without_a_group_reads_published_records_only(token_client_for, resource):
    client = token_client_for(make_user())
    key, published, draft, unrelated = _published_draft_and_unrelated(resource)

    listed = [item[key] for item in results(client.get(f"/api/v1/{resource}/"))]

    assert sorted(listed, key=str) == sorted([published, unrelated], key=str)
    assert_error(client.get(f"/api/v1/{resource}/{draft}/"), 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize("resource", RESOURCES)
def test_curators_and_editors_read_drafts_with_their_status(curator_api, editor_api, resource):
    key, published, draft, unrelated = _published_draft_and_unrelated(resource)
    for client in (curator_api, editor_api):
        listed = [item[key] for item in results(client.get(f"/api/v1/{resource}/"))]
        assert {published, draft, unrelated} <= set(listed)
        body = client.get(f"/api/v1/{resource}/{draft}/").json()
        assert body["status"] != Status.PUBLISHED


# ---------------------------------------------------------------------------
# The other resources and their filters
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_filters_evidence_by_therapy_abnormality_level_direction_link_kind_and_source(
    api_client,
):
    therapy, abnormality, source = make_therapy(), make_abnormality(), make_source()
    target = make_evidence(
        therapy=therapy,
        abnormality=abnormality,
        source=source,
        level="B",
        direction="mixed",
        link_kind="selected",
        statement="NK cytotoxicity rose after treatment",
    )
    other = make_evidence(level="D")
    general = make_evidence(therapy=therapy, abnormality=None, level="E")

    def evidence(query: str) -> list[int]:
        return ids(api_client.get(f"/api/v1/evidence/?{query}"))

    assert sorted(evidence(f"therapy={therapy.slug}")) == sorted([target.pk, general.pk])
    assert evidence(f"abnormality={abnormality.slug}") == [target.pk]
    assert evidence("level=B") == [target.pk]
    assert evidence("direction=mixed") == [target.pk]
    assert evidence("link_kind=selected") == [target.pk]
    assert evidence(f"source={source.pk}") == [target.pk]
    assert evidence("q=cytotoxicity") == [target.pk]
    assert evidence("sort=-level") == [general.pk, other.pk, target.pk]


@pytest.mark.django_db
def test_evidence_carries_its_citation_and_contradictions(api_client):
    source = make_source(doi="10.1186/1479-5876-9-81", url="https://example.org/a")  # brenu2011
    claim = make_evidence(source=source, quote="verbatim words")
    contradiction = make_evidence(therapy=claim.therapy, abnormality=claim.abnormality)
    hidden = make_evidence(status=Status.DRAFT)
    claim.contradicted_by.add(contradiction, hidden)

    body = api_client.get(f"/api/v1/evidence/{claim.pk}/").json()

    assert body["therapy"] == claim.therapy.slug
    assert body["abnormality"] == claim.abnormality.slug
    assert body["citation"]["doi"] == source.doi
    assert body["citation"]["id"] == body["source"] == source.pk
    assert body["quote"] == "verbatim words"
    assert body["level_label"] == "Controlled"
    assert body["contradicted_by"] == [contradiction.pk]


@pytest.mark.django_db
def test_it_filters_findings(api_client):
    abnormality, lab_test, source = make_abnormality(), make_lab_test(), make_source()
    target = make_finding(
        abnormality=abnormality,
        lab_test=lab_test,
        source=source,
        level="A",
        direction="supports",
        case_definition="canadian_2003",
        statement="Cytotoxicity was lower in patients",
    )
    other = make_finding(level="C", direction="does_not_support")

    def findings(query: str) -> list[int]:
        return ids(api_client.get(f"/api/v1/findings/?{query}"))

    assert findings(f"abnormality={abnormality.slug}") == [target.pk]
    assert findings(f"lab_test={lab_test.slug}") == [target.pk]
    assert findings("level=A") == [target.pk]
    assert findings("direction=does_not_support") == [other.pk]
    assert findings("case_definition=canadian_2003") == [target.pk]
    assert findings(f"source={source.pk}") == [target.pk]
    assert findings("q=lower+in+patients") == [target.pk]
    assert findings("sort=-level") == [other.pk, target.pk]


@pytest.mark.django_db
def test_it_filters_sources(api_client):
    old = make_source(year=1990, title="Natural killer cell activity", kind="journal_article")
    new = make_source(year=2020, title="A trial registry entry", kind="trial_registry")
    retracted = make_source(year=2009, retracted=True, pmid="1337560")  # references.json

    def sources(query: str) -> list[int]:
        return ids(api_client.get(f"/api/v1/sources/?{query}"))

    assert sources("kind=trial_registry") == [new.pk]
    assert sources("year_min=2000&year_max=2010") == [retracted.pk]
    assert sources("retracted=true") == [retracted.pk]
    assert sources("q=natural+killer") == [old.pk]
    assert sources("q=1337560") == [retracted.pk]
    assert sources("sort=year") == [old.pk, retracted.pk, new.pk]


@pytest.mark.django_db
def test_it_filters_abnormalities_and_lists_their_published_lab_tests(api_client):
    nk = make_abnormality(category="cellular", change="decreased", aliases="LNKS", name="Low NK")
    igg = make_abnormality(category="humoral", change="increased", name="Elevated IgG4")
    shown = make_lab_test()
    shown.abnormalities.add(nk)
    make_lab_test(status=Status.DRAFT).abnormalities.add(nk)

    assert slugs(api_client.get("/api/v1/abnormalities/?category=humoral")) == [igg.slug]
    assert slugs(api_client.get("/api/v1/abnormalities/?change=decreased")) == [nk.slug]
    assert slugs(api_client.get("/api/v1/abnormalities/?q=lnks")) == [nk.slug]
    assert slugs(api_client.get("/api/v1/abnormalities/?sort=-name")) == [nk.slug, igg.slug]
    body = api_client.get(f"/api/v1/abnormalities/{nk.slug}/").json()
    assert body["aliases"] == ["LNKS"]
    assert body["lab_tests"] == [shown.slug]


@pytest.mark.django_db
def test_it_filters_lab_tests(api_client):
    nk = make_abnormality()
    flow = make_lab_test(availability="research_only", name="Flow cytometry")
    flow.abnormalities.add(nk, make_abnormality())
    routine = make_lab_test(availability="routine", measures="IgG subclasses in serum")

    tests = api_client.get(f"/api/v1/lab-tests/?abnormality={nk.slug}")
    assert slugs(tests) == [flow.slug]
    assert results(tests)[0]["abnormalities"] == sorted(a.slug for a in flow.abnormalities.all())
    assert slugs(api_client.get("/api/v1/lab-tests/?availability=routine")) == [routine.slug]
    assert slugs(api_client.get("/api/v1/lab-tests/?q=subclasses")) == [routine.slug]


@pytest.mark.django_db
def test_it_filters_regulatory_statuses(api_client):
    therapy = make_therapy()
    argentina = make_regulatory_status(therapy=therapy, jurisdiction="Argentina")
    usa = make_regulatory_status(jurisdiction="United States", regulatory_status="rejected")

    def statuses(query: str) -> list[int]:
        return ids(api_client.get(f"/api/v1/regulatory-statuses/?{query}"))

    assert statuses(f"therapy={therapy.slug}") == [argentina.pk]
    assert statuses("regulatory_status=rejected") == [usa.pk]
    assert statuses("jurisdiction=argentina") == [argentina.pk]
    assert statuses(f"source={usa.source_id}") == [usa.pk]
    body = api_client.get(f"/api/v1/regulatory-statuses/{argentina.pk}/").json()
    assert body["therapy"] == therapy.slug
    assert body["citation"]["id"] == argentina.source_id


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/therapies/?level=Z", "level"),
        ("/api/v1/therapies/?abnormality=no-such-abnormality", "abnormality"),
        ("/api/v1/therapies/?match=some", "match"),
        ("/api/v1/therapies/?sort=price", "sort"),
        ("/api/v1/evidence/?link_kind=guessed", "link_kind"),
        ("/api/v1/evidence/?therapy=no-such-therapy", "therapy"),
        ("/api/v1/findings/?case_definition=vibes", "case_definition"),
        ("/api/v1/findings/?source=abc", "source"),
        ("/api/v1/sources/?year_min=1.5", "year_min"),
        ("/api/v1/sources/?q=" + "x" * 201, "q"),
        ("/api/v1/abnormalities/?category=mood", "category"),
        ("/api/v1/lab-tests/?availability=everywhere", "availability"),
        ("/api/v1/regulatory-statuses/?regulatory_status=maybe", "regulatory_status"),
        ("/api/v1/harms/?severity=awful", "severity"),
        ("/api/v1/harms/?therapy=no-such-therapy", "therapy"),
    ],
)
def test_an_invalid_filter_value_is_a_400_naming_the_parameter(api_client, url, parameter):
    body = assert_error(api_client.get(url), 400, "invalid")

    assert list(body["errors"]) == [parameter]
    assert parameter in body["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/therapies/no-such-therapy/",
        "/api/v1/abnormalities/no-such-abnormality/",
        "/api/v1/lab-tests/no-such-test/",
        "/api/v1/evidence/999999999/",
        "/api/v1/findings/999999999/",
        "/api/v1/sources/999999999/",
        "/api/v1/regulatory-statuses/999999999/",
        "/api/v1/harms/999999999/",
        "/api/v1/sources/not-a-number/",
        "/api/v1/no-such-resource/",
        "/api/v1/therapies/?page=99",
    ],
)
def test_an_unknown_id_slug_path_or_page_is_a_json_404(api_client, url):
    assert_error(api_client.get(url), 404, "not_found")


@pytest.mark.django_db
def test_read_only_resources_answer_writes_with_405_in_the_error_shape(editor_api):
    assert_error(
        editor_api.post("/api/v1/therapies/", {}, format="json"), 405, "method_not_allowed"
    )


@pytest.mark.django_db
def test_an_invalid_token_is_a_401_even_for_reads(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    response = api_client.get("/api/v1/therapies/")

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_anonymous_clients_are_throttled_with_a_429(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "3/minute"},
    }
    assert api_client.get("/api/v1/therapies/").status_code == 200
    assert api_client.get("/api/v1/abnormalities/").status_code == 200

    response = api_client.get("/api/v1/therapies/")

    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_token_clients_are_throttled_per_user(curator_api, api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/minute", "user": "1/minute"},
    }
    assert curator_api.get("/api/v1/therapies/").status_code == 200
    assert_error(curator_api.get("/api/v1/therapies/"), 429, "throttled")
    # Another client is counted on its own.
    assert api_client.get("/api/v1/therapies/").status_code == 200


# ---------------------------------------------------------------------------
# Pagination
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_lists_are_paginated_with_next_and_previous(api_client):
    for _ in range(3):
        make_source()

    first = api_client.get("/api/v1/sources/?page_size=2").json()
    second = api_client.get(first["next"]).json()

    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert len(second["results"]) == 1
    assert second["next"] is None
    assert second["previous"] is not None


@pytest.mark.django_db
def test_a_page_holds_at_most_100_records(api_client):
    abnormality = make_abnormality()
    source = make_source()
    therapy = make_therapy()
    with rated_once():
        for _ in range(101):
            make_evidence(therapy=therapy, abnormality=abnormality, source=source)

    body = api_client.get("/api/v1/evidence/?page_size=100").json()
    too_many = api_client.get("/api/v1/evidence/?page_size=1000")

    assert body["count"] == 101
    assert len(body["results"]) == 100
    # More than the schema's maximum is refused, not quietly cut (issue 16).
    assert too_many.status_code == 400
    assert list(too_many.json()["errors"]) == ["page_size"]


# ---------------------------------------------------------------------------
# HTTP for apps: ETag, CORS, Vary
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_reads_carry_an_etag_and_answer_304_when_unchanged(api_client):
    evidence = make_evidence()
    url = f"/api/v1/evidence/{evidence.pk}/"

    first = api_client.get(url)
    etag = first["ETag"]
    again = api_client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert api_client.get("/api/v1/evidence/", HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.django_db
def test_the_etag_changes_when_the_record_changes(api_client):
    therapy = make_therapy()
    url = f"/api/v1/therapies/{therapy.slug}/"
    old_etag = api_client.get(url)["ETag"]

    therapy.summary = "A corrected summary."
    therapy.save()
    response = api_client.get(url, HTTP_IF_NONE_MATCH=old_etag)

    assert response.status_code == 200
    assert response["ETag"] != old_etag
    assert response.json()["summary"] == "A corrected summary."
    # New evidence changes the therapy's representation (its abnormalities) too.
    make_evidence(therapy=therapy)
    assert api_client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 200


@pytest.mark.django_db
def test_it_allows_cross_origin_reads(api_client):
    make_therapy()

    response = api_client.get("/api/v1/therapies/", HTTP_ORIGIN="https://app.example.org")
    preflight = api_client.options(
        "/api/v1/therapies/",
        HTTP_ORIGIN="https://app.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, if-none-match",
    )

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "etag" in response["Access-Control-Expose-Headers"].lower()
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    # A browser app revalidates its copy and writes safely (issue 16).
    assert "if-none-match" in preflight["Access-Control-Allow-Headers"]


@pytest.mark.django_db
def test_responses_vary_with_the_token(api_client):
    make_therapy()

    assert "Authorization" in api_client.get("/api/v1/therapies/")["Vary"]


# ---------------------------------------------------------------------------
# Query counts: pinned, and the same for 1 and 50 rows
# ---------------------------------------------------------------------------


def _rows(n: int) -> dict:
    """n of everything, all tied together, and the url parameters to reach the last."""
    abnormality = make_abnormality()
    with rated_once():  # and all of them again below
        for _ in range(n):
            evidence = make_evidence(abnormality=abnormality)
            make_evidence(therapy=evidence.therapy, abnormality=None)
            evidence.contradicted_by.add(make_evidence(therapy=evidence.therapy))
            finding = make_finding(abnormality=abnormality, source=evidence.source)
            evidence.contradicting_findings.add(finding)
            lab_test = make_lab_test()
            lab_test.abnormalities.add(abnormality, make_abnormality())
            status = make_regulatory_status(therapy=evidence.therapy, source=evidence.source)
            harm = make_harm(therapy=evidence.therapy, source=evidence.source)
            # An editor's override on each pair, shown beside its computed rating.
            CertaintyOverride.objects.create(
                therapy=evidence.therapy,
                abnormality=abnormality,
                certainty="low",
                reason="An editor's reason.",
                status=Status.PUBLISHED,
            )
    certainty_recompute()  # the ratings, as publishing would store them
    return {
        "therapy": evidence.therapy.slug,
        "abnormality": abnormality.slug,
        "evidence": evidence.pk,
        "finding": finding.pk,
        "source": evidence.source_id,
        "lab_test": lab_test.slug,
        "status": status.pk,
        "harm": harm.pk,
    }


# Anonymous reads: no session, no token; throttling counts in the cache, not the database.
# Each one also reads the data version once ("data version" below: a list's
# `data_version` and ETag, every response's X-Data-Version).
ANONYMOUS_QUERIES = [
    # COUNT for the page, the therapies with their evidence summary (correlated
    # subqueries), prefetch of their published harms with sources, one grouped
    # pair_summary query for the abnormalities of the page, the certainty ratings of the
    # page's therapies (with their overrides), data version.
    ("/api/v1/therapies/", 6),
    # + the abnormality slugs checked by the filter.
    ("/api/v1/therapies/?abnormality={abnormality}&level=B&match=all", 7),
    # the therapy with its summary, its harms with sources, its pair_summary, its
    # ratings, data version.
    ("/api/v1/therapies/{therapy}/", 5),
    # COUNT, the ratings with therapy, abnormality and override joined, data version.
    ("/api/v1/pairs/", 3),
    # + the abnormality and therapy slugs checked by the filter.
    ("/api/v1/pairs/?abnormality={abnormality}&therapy={therapy}&certainty=low", 5),
    # COUNT, evidence with therapy/abnormality/source joined, prefetch of
    # contradicted_by, prefetch of contradicting_findings, data version.
    ("/api/v1/evidence/", 5),
    ("/api/v1/evidence/{evidence}/", 4),
    # COUNT, findings with abnormality/lab test/source joined, prefetch of contradicted_by,
    # data version.
    ("/api/v1/findings/", 4),
    ("/api/v1/findings/{finding}/", 3),
    # COUNT, sources, data version.
    ("/api/v1/sources/", 3),
    ("/api/v1/sources/{source}/", 2),
    # COUNT, abnormalities, prefetch of their published lab tests, data version.
    ("/api/v1/abnormalities/", 4),
    ("/api/v1/abnormalities/{abnormality}/", 3),
    # COUNT, lab tests, prefetch of their published abnormalities, data version.
    ("/api/v1/lab-tests/", 4),
    ("/api/v1/lab-tests/{lab_test}/", 3),
    # COUNT, statuses with therapy and source joined, data version.
    ("/api/v1/regulatory-statuses/", 3),
    ("/api/v1/regulatory-statuses/{status}/", 2),
    # COUNT, harms with therapy and source joined, data version.
    ("/api/v1/harms/", 3),
    ("/api/v1/harms/{harm}/", 2),
]


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 50])
def test_anonymous_reads_take_a_fixed_number_of_queries(api_client, django_assert_num_queries, n):
    keys = _rows(n)
    for url, queries in ANONYMOUS_QUERIES:
        with django_assert_num_queries(queries):
            response = api_client.get(url.format(**keys))
        assert response.status_code == 200, url


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 50])
def test_token_reads_take_one_more_query(curator_api, django_assert_num_queries, n):
    keys = _rows(n)
    for url, queries in ANONYMOUS_QUERIES:
        # + the token with its user and the user's permissions, own and group, in one
        # query (curation/userreads.py TokenRead; the permissions decide whether drafts
        # are visible).
        with django_assert_num_queries(queries + 1):
            response = curator_api.get(url.format(**keys))
        assert response.status_code == 200, url


@pytest.mark.django_db
def test_head_requests_carry_the_same_etag(api_client):
    therapy = make_therapy()
    url = f"/api/v1/therapies/{therapy.slug}/"
    etag = api_client.get(url)["ETag"]

    assert api_client.head(url)["ETag"] == etag
    assert api_client.head(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.django_db
def test_list_filters_are_unknown_parameters_of_a_single_record(api_client):
    therapy = make_therapy()

    response = api_client.get(f"/api/v1/therapies/{therapy.slug}/?level=Z&abnormality=nothing")

    # A record is fetched by its slug alone: a filter there is a mistake, said so.
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"level", "abnormality"}


@pytest.mark.parametrize(
    "computed, override, shown",
    [
        ((None, None), (None, None), (None, None)),
        (("low", "benefit"), (None, None), ("low", "benefit")),
        (("low", "benefit"), ("", ""), ("low", "benefit")),
        (("low", "benefit"), ("moderate", "no_benefit"), ("moderate", "no_benefit")),
    ],
)
def test_the_direct_abnormality_summary_is_what_its_declared_fields_give(computed, override, shown):
    # TherapyAbnormalitySerializer and CountsSerializer build their dicts directly from
    # the stored pair (a thousand per list page); DRF's field-by-field way, which reads
    # the pair's counts as an EvidenceCounts, must give the same.
    from rest_framework import serializers

    from treatments.counts import EvidenceCounts, LevelDirection
    from treatments.serializers import CountsSerializer, TherapyAbnormalitySerializer
    from treatments.summaries import StoredPair

    pair = StoredPair(
        therapy_id=1,
        abnormality_id=2,
        abnormality_slug="low-nk",
        abnormality_name="Low NK",
        listed=9,
        computed_certainty=computed[0],
        computed_net_direction=computed[1],
        override_certainty=override[0],
        override_net_direction=override[1],
        supporting=3,
        not_supporting=1,
        other=2,
        contested=1,
        held=1,
        best_level="B",
        best_direction=LevelDirection.MIXED,
        studies=2,
        clinical_studies=1,
        controlled_studies=1,
    )
    counts = pair.counts
    assert (counts.total, counts.best_direction, counts.controlled_studies) == (6, "mixed", 1)
    assert (pair.certainty, pair.net_direction) == shown
    declared = serializers.Serializer.to_representation
    direct = TherapyAbnormalitySerializer(pair).data
    assert direct["counts"] == CountsSerializer(counts).data
    assert direct == declared(TherapyAbnormalitySerializer(pair), pair) | {
        "counts": declared(CountsSerializer(counts), counts)
    }
    assert (direct["certainty"], direct["net_direction"], direct["total"]) == (*shown, 6)
    assert CountsSerializer(EvidenceCounts()).data == declared(
        CountsSerializer(EvidenceCounts()), EvidenceCounts()
    )
