"""Contract tests: schemathesis calls every operation of the OpenAPI schema with
generated requests (its coverage phase's boundary and invalid values, then a few
random examples), as an anonymous client and with a curator's token. No response may
be a 5xx, every response must match what the schema documents (status code, headers,
content type, body), a request the schema calls invalid must be refused, and an
operation that needs a token must refuse a missing or wrong one.

An editor's token goes through the same code as a curator's for every operation the
API offers (the roles differ in review and delete, which it does not offer), so it is
left to tests/test_api_writes.py. Bounded (a few random examples per operation, no
example database) so the suite stays fast; each test is one database transaction, so
writes made here are rolled back.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from curation.models import Status
from tests.factories import (
    make_evidence,
    make_finding,
    make_harm,
    make_lab_test,
    make_regulatory_status,
    make_token,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    # Security as documented: an operation that needs a token refuses one that is missing
    # or wrong.
    ignored_auth,
]
# Strict input (issue 16): a request the schema calls invalid (a bound crossed, a wrong
# type, an unknown choice, in a query or a path) is refused with a 4xx, never served.
# Anonymous clients reach every parameter of every read; their writes stop at the 401.
# Not with a token: DRF's CharField takes a number for a string (`"note": 0` is read as
# "0"), which this check counts as accepting a wrong type.
ANONYMOUS_CHECKS = [*CHECKS, negative_data_rejection]

CONTRACT_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


if os.environ.get("PYTEST_XDIST_WORKER"):
    # Under pytest-xdist the tests schemathesis makes run unreported: 116 of this file's
    # 120 silently did not run. `make test` runs this file in one process after the rest.
    raise RuntimeError(
        "tests/test_api_contract.py must run in one process, not under pytest-xdist: "
        "run it on its own (make test does)."
    )

# Loaded once at collection time: producing the schema touches no database. (Not
# schemathesis.pytest.from_fixture: its lazy loader relies on a pytest internal that
# pytest 9 no longer has.)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _lookup_services_know_nothing(services):
    """sources/lookup/ asks outside services: here none knows anything (404), so that a
    generated identifier is answered as not found, never over the network."""
    services.router.route(host__regex=r"\.mirror\.test$").respond(404, text="Not found")


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The raw WSGI app closes "old" database connections around each request, which
    on PostgreSQL ends the test's transaction; Django's test client disconnects them too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def contract_data(db, settings):
    # Generated requests come fast: throttling is tested elsewhere.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
    }
    # Some published and some draft data, so reads return rows and writes find targets.
    evidence = make_evidence()
    make_evidence(therapy=evidence.therapy, abnormality=None, status=Status.DRAFT)
    make_finding(abnormality=evidence.abnormality, source=evidence.source)
    make_regulatory_status(therapy=evidence.therapy, source=evidence.source)
    make_harm(therapy=evidence.therapy, source=evidence.source)
    make_lab_test().abnormalities.add(evidence.abnormality)


@schema.parametrize()
@CONTRACT_SETTINGS
def test_every_operation_keeps_its_contract_for_anonymous_clients(case):
    # Anonymous reads may come gzip'd (mecfs_kb/compression.py) and the WSGI test client
    # does not inflate them: ask for the body as it is, as a client without gzip would.
    case.call_and_validate(checks=ANONYMOUS_CHECKS, headers={"Accept-Encoding": "identity"})


@schema.parametrize()
@CONTRACT_SETTINGS
def test_every_operation_keeps_its_contract_for_curator_tokens(case, curator):
    case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Token {make_token(curator)}"})


@pytest.mark.django_db
def test_successful_writes_and_reads_of_real_records_match_the_schema(curator):
    """Generated slugs and ids rarely name real records: walk the happy paths by hand,
    through schemathesis, so 200 and 201 bodies are checked against the schema too."""
    auth = {"Authorization": f"Token {make_token(curator)}"}
    evidence = make_evidence()
    finding = make_finding(abnormality=evidence.abnormality, source=evidence.source)
    status = make_regulatory_status(therapy=evidence.therapy, source=evidence.source)
    harm = make_harm(therapy=evidence.therapy, source=evidence.source)
    lab_test = make_lab_test()
    lab_test.abnormalities.add(evidence.abnormality)

    def call(path: str, method: str, expected: int, **kwargs):
        case = schema[path][method].Case(headers=auth, **kwargs)
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == expected, response.text
        return response.json()

    source = call(
        "/api/v1/sources/",
        "POST",
        201,
        body={"key": "contract", "kind": "review", "title": "T", "url": "", "doi": ""},
    )
    claim = call(
        "/api/v1/evidence/",
        "POST",
        201,
        body={
            "therapy": evidence.therapy.slug,
            "abnormality": None,
            "source": source["id"],
            "statement": "A statement.",
            "direction": "mixed",
            "level": "E",
        },
    )
    claim_about = call(
        "/api/v1/findings/",
        "POST",
        201,
        body={
            "abnormality": evidence.abnormality.slug,
            "source": source["id"],
            "statement": "A statement.",
            "direction": "supports",
            "level": "D",
        },
    )
    harm_of = call(
        "/api/v1/harms/",
        "POST",
        201,
        body={
            "therapy": evidence.therapy.slug,
            "source": source["id"],
            "kind": "adverse_effect",
            "effect": "Headache",
            "severity": "mild",
            "control_comparison": "",
            "population": "12 patients",
            "statement": "A statement.",
        },
    )
    for path, key in [
        ("/api/v1/sources/{id}/", source["id"]),
        ("/api/v1/evidence/{id}/", claim["id"]),
        ("/api/v1/findings/{id}/", claim_about["id"]),
        ("/api/v1/harms/{id}/", harm_of["id"]),
    ]:
        call(
            path,
            "PATCH",
            200,
            path_parameters={"id": key},
            body={"curator_note": "n"} if "sources" not in path else {"year": 2011},
        )
    for path, parameters in [
        ("/api/v1/therapies/{slug}/", {"slug": evidence.therapy.slug}),
        ("/api/v1/abnormalities/{slug}/", {"slug": evidence.abnormality.slug}),
        ("/api/v1/lab-tests/{slug}/", {"slug": lab_test.slug}),
        ("/api/v1/evidence/{id}/", {"id": evidence.pk}),
        ("/api/v1/findings/{id}/", {"id": finding.pk}),
        ("/api/v1/regulatory-statuses/{id}/", {"id": status.pk}),
        ("/api/v1/harms/{id}/", {"id": harm.pk}),
    ]:
        call(path, "GET", 200, path_parameters=parameters)
    listed = call(
        "/api/v1/therapies/",
        "GET",
        200,
        query={"abnormality": [evidence.abnormality.slug], "level": "B", "match": "all"},
    )
    assert [t["slug"] for t in listed["results"]] == [evidence.therapy.slug]


@pytest.mark.django_db
def test_suggestions_written_read_and_reviewed_match_the_schema(curator, editor):
    """The suggestions' happy paths, and PATCH's 202, through schemathesis."""
    evidence = make_evidence()
    finding = make_finding(abnormality=evidence.abnormality, source=evidence.source)
    as_curator = {"Authorization": f"Token {make_token(curator)}"}
    as_editor = {"Authorization": f"Token {make_token(editor)}"}

    def call(path: str, method: str, expected: int, headers: dict, **kwargs):
        case = schema[path][method].Case(headers=headers, **kwargs)
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == expected, response.text
        return response.json()

    created = call(
        "/api/v1/suggestions/",
        "POST",
        201,
        as_curator,
        body={
            "kind": "evidence",
            "record": evidence.pk,
            "changes": {"statement": "Better.", "abnormality": None, "link_kind": ""},
            "reason": "Not about one abnormality.",
        },
    )
    patched = call(
        "/api/v1/findings/{id}/",
        "PATCH",
        202,
        as_curator,
        path_parameters={"id": finding.pk},
        body={"statement": "Clearer."},
    )
    call("/api/v1/suggestions/", "GET", 200, as_curator, query={"state": "pending"})
    call("/api/v1/suggestions/{id}/", "GET", 200, as_curator, path_parameters={"id": created["id"]})
    accepted = call(
        "/api/v1/suggestions/{id}/accept/",
        "POST",
        200,
        as_editor,
        path_parameters={"id": created["id"]},
        body={"note": "Right."},
    )
    assert accepted["state"] == "accepted"
    call(
        "/api/v1/suggestions/{id}/withdraw/",
        "POST",
        200,
        as_curator,
        path_parameters={"id": patched["id"]},
    )
