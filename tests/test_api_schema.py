"""The OpenAPI schema and the docs page an app developer reads."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture
def schema(schema_response) -> dict:
    # Made once per process (tests/conftest.py); each test parses its own copy.
    assert schema_response.status_code == 200
    assert schema_response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return json.loads(schema_response.content)


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns any warning (an undescribed field, an enum clash) into an error.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


@pytest.mark.django_db
def test_it_describes_every_resource(schema):
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/abnormalities/",
        "/api/v1/abnormalities/{slug}/",
        "/api/v1/therapies/",
        "/api/v1/therapies/{slug}/",
        "/api/v1/evidence/",
        "/api/v1/evidence/{id}/",
        "/api/v1/findings/",
        "/api/v1/findings/{id}/",
        "/api/v1/sources/",
        "/api/v1/sources/{id}/",
        "/api/v1/lab-tests/",
        "/api/v1/lab-tests/{slug}/",
        "/api/v1/regulatory-statuses/",
        "/api/v1/regulatory-statuses/{id}/",
        "/api/v1/harms/",
        "/api/v1/harms/{id}/",
        "/api/v1/changes/",
        "/api/v1/pairs/",  # certainty per pair (tests/test_certainty.py)
    } | {  # review actions (tests/test_api_review.py, tests/test_harms.py)
        f"/api/v1/{name}/{{id}}/{action}/"
        for name in ("evidence", "findings", "sources", "harms")
        for action in ("submit", "reopen", "publish", "reject", "retract")
    } | {  # a paper with its claims (tests/test_bundles.py)
        "/api/v1/sources/{id}/submit-with-claims/",
        "/api/v1/sources/{id}/publish-with-claims/",
    } | {"/api/v1/sources/lookup/"} | {  # suggested revisions (tests/test_suggestions_api.py)
        "/api/v1/suggestions/",
        "/api/v1/suggestions/{id}/",
        "/api/v1/suggestions/{id}/accept/",
        "/api/v1/suggestions/{id}/reject/",
        "/api/v1/suggestions/{id}/withdraw/",
    } | {  # bulk download (tests/test_api_releases.py)
        "/api/v1/releases/",
        "/api/v1/releases/{label}/",
        "/api/v1/releases/latest/",
        "/api/v1/releases/{label}/files/{name}",
    }
    writable = {
        (path, method)
        for path, method, _ in operations(schema)
        if method in ("post", "put", "patch", "delete")
    }
    drafts = ("evidence", "findings", "sources", "harms")
    assert writable == {(f"/api/v1/{name}/", "post") for name in drafts} | {
        (f"/api/v1/{name}/{{id}}/", "patch") for name in drafts
    } | {
        (f"/api/v1/{name}/{{id}}/{action}/", "post")
        for name in drafts
        for action in ("submit", "reopen", "publish", "reject", "retract")
    } | {
        ("/api/v1/sources/{id}/submit-with-claims/", "post"),
        ("/api/v1/sources/{id}/publish-with-claims/", "post"),
    } | {
        # Looks a source up at outside services and writes nothing (POST: never cached
        # or repeated; docs/api.md).
        ("/api/v1/sources/lookup/", "post"),
    } | {("/api/v1/suggestions/", "post")} | {
        (f"/api/v1/suggestions/{{id}}/{action}/", "post")
        for action in ("accept", "reject", "withdraw")
    }


@pytest.mark.django_db
def test_every_operation_documents_its_errors_with_the_one_error_body(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        expected = {"401", "429"}
        detail = path.endswith(("}/", "}"))  # one record (or one file of a release)
        if detail:  # no such record
            expected |= {"404"}
        if method == "get" and not detail:
            expected |= {"400", "404"}  # an invalid filter; a page past the end
        if method in ("post", "patch"):
            expected |= {"400", "403"}
        if method == "patch":
            expected |= {"409"}
        assert expected <= set(responses), (method, path)
        for code in expected:
            body = responses[code]["content"]["application/json"]["schema"]
            assert body == {"$ref": ERROR_REF}, (method, path, code)
            assert responses[code]["description"]
    reads = [op for _, method, op in operations(schema) if method == "get"]
    for operation in reads:
        assert "304" in operation["responses"]
        assert "ETag" in operation["responses"]["200"]["headers"]
        assert "If-None-Match" in [p["name"] for p in operation["parameters"]]
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"status", "code", "detail", "errors"}


@pytest.mark.django_db
def test_every_response_documents_the_data_version_and_every_list_carries_it(schema):
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            if code != "304":
                assert "X-Data-Version" in response["headers"], (method, path, code)
    lists = [
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        for path, method, op in operations(schema)
        if method == "get" and op["operationId"].endswith("_list")
    ]
    for ref in lists:
        page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert "data_version" in page["required"], ref
        assert page["properties"]["data_version"]["type"] == "integer"
    changes = schema["paths"]["/api/v1/changes/"]["get"]
    assert "since" in [p["name"] for p in changes["parameters"]]


@pytest.mark.django_db
def test_it_documents_the_shared_therapy_filters(schema):
    operation = schema["paths"]["/api/v1/therapies/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}

    assert parameters["abnormality"]["schema"]["type"] == "array"  # repeatable
    assert parameters["match"]["schema"]["enum"] == ["all", "any"]
    # The filter names the model's choice set: one enum in a generated client, not two.
    assert parameters["level"]["schema"] == {"$ref": "#/components/schemas/LevelEnum"}
    assert schema["components"]["schemas"]["LevelEnum"]["enum"] == ["A", "B", "C", "D", "E"]
    assert {"kind", "stage", "direction", "q", "sort", "page", "page_size"} <= set(parameters)
    assert "level=B" in schema["info"]["description"]


@pytest.mark.django_db
def test_writes_name_therapy_and_abnormality_by_slug_and_source_by_id(schema):
    request = schema["components"]["schemas"]["TherapyEvidenceRequest"]
    properties = request["properties"]

    assert properties["therapy"]["type"] == "string"
    assert properties["abnormality"]["type"] == "string"
    assert properties["source"]["type"] == "integer"
    assert "status" not in properties
    for field in (
        "statement",
        "quote",
        "link_kind",
        "direction",
        "level",
        "study_design",
        "participants",
        "case_definition",
    ):
        assert field in properties
    assert schema["components"]["securitySchemes"]["tokenAuth"]["type"] == "apiKey"


@pytest.mark.django_db
def test_the_docs_page_is_served_from_local_static_files_without_inline_code(client):
    response = client.get("/api/v1/docs/")
    html = response.content.decode()

    assert response.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    for url in urls:
        assert url.startswith(("/static/", "/api/")), url
    assert "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, "inline script"
    for url in urls:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    script = client.get(next(u for u in urls if u.startswith("/api/v1/docs/")))
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
    assert "/api/v1/schema/" in script.content.decode()


@pytest.mark.django_db
def test_a_patch_documents_its_202_as_the_suggestion_with_its_location(schema):
    for name in ("evidence", "findings", "sources"):
        accepted = schema["paths"][f"/api/v1/{name}/{{id}}/"]["patch"]["responses"]["202"]
        body = accepted["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/SuggestionDetail"}, name
        assert "Location" in accepted["headers"], name
    created = schema["paths"]["/api/v1/suggestions/"]["post"]["responses"]
    assert "Location" in created["201"]["headers"]
    assert "409" in created
    accept = schema["paths"]["/api/v1/suggestions/{id}/accept/"]["post"]
    assert "If-Match" not in [p["name"] for p in accept.get("parameters", [])]
    assert {"400", "403", "404", "409"} <= set(accept["responses"])
