"""The schema and the server agree (issue 16): tokens in either form and nothing
silently anonymous; strict query parameters (unknown ones named, with the nearest one);
pages within their bounds; sort keys repeated or comma-separated alike; CORS for
revalidation and safe writes; one versioned home for the schema and docs; and a schema
that states each of these."""

from __future__ import annotations

import json

import django_filters
import pytest

from curation.models import Status
from tests.factories import make_evidence, make_source, make_therapy, make_token

# ---------------------------------------------------------------------------
# Authentication: Token or Bearer, anything else a 401
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bearer_token_is_the_same_key_as_a_token(api_client, curator):
    draft = make_evidence(status=Status.DRAFT)
    key = make_token(curator)

    as_token = api_client.get(f"/api/v1/evidence/{draft.pk}/", HTTP_AUTHORIZATION=f"Token {key}")
    as_bearer = api_client.get(f"/api/v1/evidence/{draft.pk}/", HTTP_AUTHORIZATION=f"Bearer {key}")
    anonymous = api_client.get(f"/api/v1/evidence/{draft.pk}/")

    # A draft shows only to a token: the Bearer key was read as the curator's.
    assert (as_token.status_code, as_bearer.status_code, anonymous.status_code) == (
        200,
        200,
        404,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-key",
        "Token not-a-key",
        "bearer not-a-key",
        "Basic Y3VyYXRvcjpzZWNyZXQ=",
        "Digest username=x",
        "Bearer",
        "Token a b",
        "not-a-key",
    ],
)
def test_an_unknown_scheme_or_a_bad_token_is_a_401_never_anonymous(api_client, header):
    make_therapy()

    response = api_client.get("/api/v1/therapies/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "authentication_failed"
    assert body["status"] == 401
    assert response["WWW-Authenticate"] == "Token"


# ---------------------------------------------------------------------------
# Strict query parameters
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_parameter_is_a_400_naming_it_and_the_nearest_one(api_client):
    make_evidence()

    response = api_client.get("/api/v1/therapies/?abnormalty=low-nk&level=B")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["abnormalty"]
    assert "Did you mean “abnormality”?" in body["errors"]["abnormalty"][0]


@pytest.mark.django_db
def test_an_unknown_parameter_far_from_any_is_named_without_a_guess(api_client):
    response = api_client.get("/api/v1/sources/?zzz=1")

    assert response.status_code == 400
    message = response.json()["errors"]["zzz"][0]
    assert "Did you mean" not in message
    assert "year_min" in message  # the parameters it takes are listed


@pytest.mark.django_db
def test_the_known_parameters_are_the_filtersets_so_a_new_filter_is_known_at_once(
    api_client, monkeypatch
):
    from treatments.filters import TherapyFilter

    make_therapy()
    before = api_client.get("/api/v1/therapies/?updated_sometime=1")
    monkeypatch.setitem(
        TherapyFilter.base_filters,
        "updated_sometime",
        django_filters.CharFilter(method=lambda queryset, name, value: queryset),
    )
    after = api_client.get("/api/v1/therapies/?updated_sometime=1")

    assert before.status_code == 400
    assert after.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, parameter",
    [
        ("page=abc", "page"),
        ("page=", "page"),
        ("page_size=", "page_size"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1.5", "page"),
        ("page=last", "page"),
        ("page=%C2%B2", "page"),
        ("page_size=0", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=-5", "page_size"),
        ("retracted=banana", "retracted"),
        ("year_min=1799", "year_min"),
    ],
)
def test_bad_paging_and_filter_values_are_a_400_naming_the_parameter(api_client, query, parameter):
    make_source()

    response = api_client.get(f"/api/v1/sources/?{query}")

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [parameter]


@pytest.mark.django_db
def test_pages_within_bounds_and_booleans_read_as_booleans(api_client):
    kept = make_source(year=2010)
    withdrawn = make_source(year=2011, retracted=True)

    def ids(query):
        response = api_client.get(f"/api/v1/sources/?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("page=1&page_size=100&sort=year") == [kept.pk, withdrawn.pk]
    assert ids("retracted=true") == [withdrawn.pk]
    assert ids("retracted=false") == [kept.pk]
    assert api_client.get("/api/v1/sources/?page=2").status_code == 404  # past the end


@pytest.mark.django_db
def test_sort_keys_mean_the_same_repeated_or_comma_separated(api_client):
    a_strong = make_evidence(therapy=make_therapy(name="Alpha"), level="A").therapy
    b_strong = make_evidence(therapy=make_therapy(name="Beta"), level="A").therapy
    c_weak = make_evidence(therapy=make_therapy(name="Gamma"), level="C").therapy

    def slugs(query):
        return [t["slug"] for t in api_client.get(f"/api/v1/therapies/?{query}").json()["results"]]

    comma = slugs("sort=-evidence,-name")
    repeated = slugs("sort=-evidence&sort=-name")

    assert comma == repeated == [b_strong.slug, a_strong.slug, c_weak.slug]
    assert slugs("sort=evidence&sort=name") == [c_weak.slug, a_strong.slug, b_strong.slug]


# ---------------------------------------------------------------------------
# HTTP: 406, CORS, the versioned home
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_accept_header_the_api_cannot_answer_is_a_406_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/therapies/", HTTP_ACCEPT="application/xml")

    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


@pytest.mark.django_db
def test_cors_preflight_allows_revalidation_and_safe_writes(api_client):
    evidence = make_evidence(status=Status.DRAFT)

    preflight = api_client.options(
        f"/api/v1/evidence/{evidence.pk}/",
        HTTP_ORIGIN="https://app.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, if-match",
    )
    read = api_client.get("/api/v1/therapies/", HTTP_ORIGIN="https://app.example.org")

    allowed = preflight["Access-Control-Allow-Headers"].lower()
    assert {"if-match", "if-none-match", "authorization"} <= set(allowed.split(", "))
    assert "PATCH" in preflight["Access-Control-Allow-Methods"]
    # No cookies across origins: a write needs the app's own token.
    assert "Access-Control-Allow-Credentials" not in preflight
    exposed = read["Access-Control-Expose-Headers"].lower()
    assert {"etag", "x-data-version"} <= set(exposed.split(", "))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "old, new",
    [
        ("/api/schema/", "/api/v1/schema/"),
        ("/api/schema/?format=json", "/api/v1/schema/?format=json"),
        ("/api/docs/", "/api/v1/docs/"),
    ],
)
def test_the_old_schema_and_docs_urls_redirect_permanently(client, old, new):
    response = client.get(old)

    assert response.status_code == 301
    assert response["Location"] == new


@pytest.mark.django_db
def test_the_api_root_links_the_schema_and_the_docs(api_client):
    root = api_client.get("/api/v1/").json()

    assert root["schema"] == "http://testserver/api/v1/schema/"
    assert root["docs"] == "http://testserver/api/v1/docs/"
    assert api_client.get("/api/v1/schema/").status_code == 200
    assert api_client.get("/api/v1/docs/").status_code == 200


# ---------------------------------------------------------------------------
# The schema states it
# ---------------------------------------------------------------------------


@pytest.fixture
def schema(schema_response) -> dict:
    # Made once per process (tests/conftest.py); each test parses its own copy.
    return json.loads(schema_response.content)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _parameters(schema, path, method="get") -> dict:
    return {p["name"]: p for p in schema["paths"][path][method].get("parameters", [])}


TOKEN = [{"tokenAuth": []}, {"bearerAuth": []}]


@pytest.mark.django_db
def test_reads_are_open_to_anonymous_clients_and_writes_need_a_token(schema):
    assert schema["security"] == [*TOKEN, {}]  # the default: a token, or none
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    for path, method, operation in _operations(schema):
        if method in ("post", "patch") or path.startswith("/api/v1/suggestions/"):
            assert operation["security"] == TOKEN, (path, method)
        else:
            assert "security" not in operation, (path, method)  # the default applies


@pytest.mark.django_db
def test_every_operation_documents_400_401_and_406(schema):
    for path, method, operation in _operations(schema):
        assert {"400", "401", "406"} <= set(operation["responses"]), (path, method)


@pytest.mark.django_db
def test_bounds_and_types_of_parameters_are_in_the_schema(schema):
    sources = _parameters(schema, "/api/v1/sources/")
    evidence = _parameters(schema, "/api/v1/evidence/")
    one = _parameters(schema, "/api/v1/evidence/{id}/")

    assert sources["year_min"]["schema"] == {"type": "integer", "minimum": 1800, "maximum": 2100}
    assert sources["retracted"]["schema"] == {"type": "boolean"}
    assert sources["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert sources["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert sources["q"]["schema"]["maxLength"] == 200
    assert evidence["source"]["schema"]["type"] == "integer"
    assert one["id"]["schema"]["type"] == "integer"
    body = schema["components"]["schemas"]["TherapyEvidenceRequest"]["properties"]
    assert body["source"]["type"] == "integer"


@pytest.mark.django_db
def test_filters_name_the_models_enums_and_sort_keys_have_names(schema):
    components = {
        frozenset(c["enum"]) for c in schema["components"]["schemas"].values() if "enum" in c
    }
    for path, _method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            inline = parameter["schema"].get("items", parameter["schema"])
            if "enum" in inline and parameter["name"] != "format":
                # An inline choice set is one no model field has.
                assert frozenset(inline["enum"]) not in components, (path, parameter["name"])
            if parameter["name"] == "sort":
                assert len(inline["x-enum-varnames"]) == len(inline["enum"])
    therapies = _parameters(schema, "/api/v1/therapies/")
    assert therapies["kind"]["schema"] == {"$ref": "#/components/schemas/TherapyKindEnum"}
    sort = therapies["sort"]["schema"]["items"]
    names = dict(zip(sort["enum"], sort["x-enum-varnames"], strict=True))
    assert names["-evidence"] == "EVIDENCE_DESC"
    assert "`-evidence`: Evidence, strongest first" in therapies["sort"]["description"]
    kinds = _parameters(schema, "/api/v1/suggestions/")["kind"]["schema"]
    assert {"evidence", "finding", "source", "harm"} <= set(kinds["enum"])


@pytest.mark.django_db
def test_a_patch_body_documents_its_reason(schema):
    for name in ("PatchedTherapyEvidenceRequest", "PatchedFindingRequest", "PatchedSourceRequest"):
        assert "reason" in schema["components"]["schemas"][name]["properties"], name
    assert "reason" not in schema["components"]["schemas"]["TherapyEvidenceRequest"]["properties"]


@pytest.mark.django_db
def test_the_schema_version_is_the_api_version(schema):
    assert schema["info"]["version"] == "1.0.0"
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


@pytest.mark.django_db
def test_a_patch_reason_that_is_not_text_is_a_400_and_nothing_changes(curator_api, curator):
    draft = make_evidence(status=Status.DRAFT)

    response = curator_api.patch(
        f"/api/v1/evidence/{draft.pk}/", {"statement": "Changed.", "reason": {}}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    draft.refresh_from_db()
    assert draft.statement != "Changed."
