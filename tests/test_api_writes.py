"""Writing through the REST API: curators' and editors' tokens create and edit drafts of
evidence, findings and sources; nothing written here is ever published by a write."""

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from curation.models import Status
from findings.models import Finding, Source
from tests.factories import (
    make_abnormality,
    make_evidence,
    make_finding,
    make_lab_test,
    make_source,
    make_therapy,
    make_user,
)
from treatments.models import TherapyEvidence


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}
    assert (body["status"], body["code"]) == (status, code)
    return body


# Identifiers and titles copied verbatim from /work/shared/data/references.json.
BRENU_TITLE = (
    "Immunological abnormalities as potential biomarkers in Chronic Fatigue "
    "Syndrome/Myalgic Encephalomyelitis"
)
BRENU_DOI = "10.1186/1479-5876-9-81"
NISHIKAI_TITLE = (
    "Chronic fatigue syndrome--study of 51 cases treated at the Second Tokyo National Hospital"
)
NISHIKAI_PMID = "1337560"


def source_payload(**overrides) -> dict:
    payload = {
        "key": "brenu2011_nk",
        "kind": "journal_article",
        "title": BRENU_TITLE,
        "doi": f"https://doi.org/{BRENU_DOI}",
    }
    payload.update(overrides)
    return payload


def evidence_payload(therapy, abnormality, source, **overrides) -> dict:
    payload = {
        "therapy": therapy.slug,
        "abnormality": abnormality.slug if abnormality else None,
        "link_kind": "measured" if abnormality else "",
        "source": source.pk,
        "statement": "NK cell cytotoxicity rose in treated patients.",
        "quote": "",
        "direction": "supports",
        "level": "C",
        "study_design": "open-label trial",
        "participants": "20 CFS/ME",
        "case_definition": "canadian_2003",
    }
    payload.update(overrides)
    return payload


# ---------------------------------------------------------------------------
# The curator's app: a draft claim with its source
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_curator_creates_a_draft_source_and_a_draft_claim_citing_it(curator_api, curator):
    therapy, abnormality = make_therapy(), make_abnormality()

    source = curator_api.post("/api/v1/sources/", source_payload(), format="json")
    assert source.status_code == 201, source.content
    claim = curator_api.post(
        "/api/v1/evidence/",
        evidence_payload(therapy, abnormality, Source.objects.get(pk=source.json()["id"])),
        format="json",
    )

    assert claim.status_code == 201, claim.content
    body = claim.json()
    assert body["status"] == "draft"
    assert body["therapy"] == therapy.slug
    assert body["abnormality"] == abnormality.slug
    assert body["citation"]["doi"] == BRENU_DOI
    saved = TherapyEvidence.objects.get(pk=body["id"])
    assert saved.status == Status.DRAFT
    assert saved.created_by == curator
    assert saved.case_definition == "canadian_2003"
    assert saved.history.latest().history_user == curator
    # Drafts stay out of readers' sight.
    assert APIClient().get(f"/api/v1/evidence/{saved.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_curator_creates_a_draft_finding_about_a_lab_test(curator_api):
    lab_test, source = make_lab_test(), make_source()

    response = curator_api.post(
        "/api/v1/findings/",
        {
            "lab_test": lab_test.slug,
            "source": source.pk,
            "statement": "The test needs fresh blood.",
            "direction": "describes",
            "level": "E",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    finding = Finding.objects.get(pk=response.json()["id"])
    assert (finding.status, finding.lab_test, finding.abnormality) == ("draft", lab_test, None)


@pytest.mark.django_db
def test_an_editor_token_creates_and_edits_drafts_too(editor_api):
    source = editor_api.post("/api/v1/sources/", source_payload(), format="json")
    assert source.status_code == 201
    response = editor_api.patch(
        f"/api/v1/sources/{source.json()['id']}/", {"year": 2011}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["year"] == 2011
    assert response.json()["status"] == "draft"


@pytest.mark.django_db
def test_a_curator_edits_a_draft_claim(curator_api):
    draft = make_evidence(status=Status.DRAFT, level="D")
    other_therapy = make_therapy()

    response = curator_api.patch(
        f"/api/v1/evidence/{draft.pk}/",
        {"level": "C", "therapy": other_therapy.slug, "quote": "verbatim"},
        format="json",
    )

    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert (draft.level, draft.therapy, draft.quote) == ("C", other_therapy, "verbatim")
    assert draft.status == Status.DRAFT


# ---------------------------------------------------------------------------
# Status: never written, and only drafts are edited
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_write_can_never_set_the_status(curator_api, editor_api):
    for client in (curator_api, editor_api):
        body = assert_error(
            client.post("/api/v1/sources/", source_payload(status="published"), format="json"),
            400,
            "invalid",
        )
        assert list(body["errors"]) == ["status"]
    draft = make_source(status=Status.DRAFT)
    response = editor_api.patch(
        f"/api/v1/sources/{draft.pk}/", {"status": "published"}, format="json"
    )

    assert_error(response, 400, "invalid")
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert not Source.objects.published().filter(key="brenu2011_nk").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.RETRACTED])
def test_editing_a_record_under_review_or_retracted_is_refused_with_409(editor_api, status):
    evidence = make_evidence(status=status, statement="As published.")

    response = editor_api.patch(
        f"/api/v1/evidence/{evidence.pk}/", {"statement": "Changed."}, format="json"
    )

    body = assert_error(response, 409, "not_editable")
    assert "Nothing was saved" in body["detail"]
    evidence.refresh_from_db()
    assert (evidence.statement, evidence.status) == ("As published.", status)


@pytest.mark.django_db
def test_editing_a_published_record_keeps_the_change_as_a_suggestion(editor_api, api_client):
    evidence = make_evidence(status=Status.PUBLISHED, statement="As published.")

    response = editor_api.patch(
        f"/api/v1/evidence/{evidence.pk}/",
        {"statement": "Changed.", "reason": "Typo"},
        format="json",
    )

    assert response.status_code == 202, response.content
    assert response.json()["fields"] == ["statement"]
    evidence.refresh_from_db()
    assert (evidence.statement, evidence.status) == ("As published.", Status.PUBLISHED)
    public = api_client.get(f"/api/v1/evidence/{evidence.pk}/").json()
    assert public["statement"] == "As published."


@pytest.mark.django_db
def test_editing_a_rejected_record_makes_it_a_draft_again(curator_api):
    finding = make_finding(status=Status.REJECTED, review_note="Quote is not verbatim.")

    response = curator_api.patch(
        f"/api/v1/findings/{finding.pk}/", {"statement": "Fixed statement."}, format="json"
    )

    assert response.status_code == 200, response.content
    finding.refresh_from_db()
    assert finding.status == Status.DRAFT
    assert finding.review_note == "Quote is not verbatim."


# ---------------------------------------------------------------------------
# Who may write
# ---------------------------------------------------------------------------

WRITES = [
    ("post", "/api/v1/sources/"),
    ("post", "/api/v1/evidence/"),
    ("post", "/api/v1/findings/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), WRITES)
def test_anonymous_writes_are_refused_with_401(api_client, method, url):
    response = getattr(api_client, method)(url, {}, format="json")

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), WRITES)
def test_a_user_without_a_group_cannot_write(token_client_for, method, url):
    client = token_client_for(make_user())

    assert_error(getattr(client, method)(url, {}, format="json"), 403, "permission_denied")


@pytest.mark.django_db
def test_a_user_without_a_group_cannot_edit_drafts(token_client_for):
    draft = make_source(status=Status.DRAFT, title="Untouched")
    client = token_client_for(make_user())

    response = client.patch(f"/api/v1/sources/{draft.pk}/", {"title": "Changed"}, format="json")

    assert_error(response, 403, "permission_denied")
    draft.refresh_from_db()
    assert draft.title == "Untouched"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/sources/{pk}/", "/api/v1/sources/"])
def test_put_and_delete_are_not_offered(editor_api, url):
    source = make_source(status=Status.DRAFT)

    assert_error(editor_api.delete(url.format(pk=source.pk)), 405, "method_not_allowed")
    assert_error(editor_api.put(url.format(pk=source.pk), {}), 405, "method_not_allowed")
    assert Source.objects.filter(pk=source.pk).exists()


@pytest.mark.django_db
def test_drf_create_token_makes_a_key_a_curator_app_can_use(curator, capsys):
    call_command("drf_create_token", curator.username)
    key = Token.objects.get(user=curator).key
    assert key in capsys.readouterr().out
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.post("/api/v1/sources/", source_payload(), format="json")

    assert response.status_code == 201


# ---------------------------------------------------------------------------
# Model validation answers 400, never 500
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_identifiers_are_normalised_as_in_the_admin(curator_api):
    doi = curator_api.post(
        "/api/v1/sources/",
        source_payload(doi=f"https://doi.org/{BRENU_DOI.upper()}"),
        format="json",
    )
    pmid = curator_api.post(
        "/api/v1/sources/",
        source_payload(
            key="nishikai1992_nk_japan",
            title=NISHIKAI_TITLE,
            doi="",
            pmid=f"PMID: {NISHIKAI_PMID}",
        ),
        format="json",
    )

    assert doi.status_code == 201, doi.content
    assert pmid.status_code == 201, pmid.content
    assert Source.objects.get(pk=doi.json()["id"]).doi == BRENU_DOI
    assert Source.objects.get(pk=pmid.json()["id"]).pmid == NISHIKAI_PMID


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "payload"),
    [
        ({"doi": BRENU_DOI}, {"doi": f"https://doi.org/{BRENU_DOI}"}),
        ({"doi": BRENU_DOI}, {"doi": BRENU_DOI.upper()}),
        ({"pmid": NISHIKAI_PMID}, {"pmid": f"PMID:{NISHIKAI_PMID}"}),
    ],
)
def test_a_doi_or_pmid_already_used_is_a_400(curator_api, existing, payload):
    make_source(**existing)

    response = curator_api.post(
        "/api/v1/sources/", source_payload(**{"doi": "", **payload}), format="json"
    )

    body = assert_error(response, 400, "invalid")
    assert "already exists" in body["detail"]
    assert Source.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "payload", "field"),
    [
        ({"doi": BRENU_DOI}, {"doi": f"https://doi.org/{BRENU_DOI}"}, "doi"),
        ({"pmid": NISHIKAI_PMID}, {"pmid": f"PMID:{NISHIKAI_PMID}"}, "pmid"),
    ],
)
def test_a_doi_or_pmid_already_used_is_reported_on_its_field_naming_the_source(
    curator_api, existing, payload, field
):
    make_source(key="brenu2011_nk", title=BRENU_TITLE, **existing)

    response = curator_api.post(
        "/api/v1/sources/", source_payload(key="copy", **{"doi": "", **payload}), format="json"
    )

    body = assert_error(response, 400, "invalid")
    assert set(body["errors"]) == {field}
    [message] = body["errors"][field]
    assert "already exists" in message
    assert "“brenu2011_nk”" in message
    assert BRENU_TITLE[:40] in message


@pytest.mark.django_db
def test_a_doi_taken_between_the_check_and_the_insert_is_reported_on_the_doi_field(
    curator_api, monkeypatch
):
    real_full_clean = Source.full_clean
    raced = []

    def full_clean_then_lose_the_race(self, *args, **kwargs):
        real_full_clean(self, *args, **kwargs)
        if not raced:  # another curator's request saves the same DOI just after our check
            raced.append(make_source(key="winner", title="The winner", doi=BRENU_DOI))

    monkeypatch.setattr(Source, "full_clean", full_clean_then_lose_the_race)

    response = curator_api.post("/api/v1/sources/", source_payload(), format="json")

    body = assert_error(response, 400, "invalid")
    assert set(body["errors"]) == {"doi"}
    assert "“winner” (The winner)" in body["errors"]["doi"][0]
    assert not Source.objects.filter(key="brenu2011_nk").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("doi", "not a doi"),
        ("pmid", "PMC123"),
        ("year", 1066),
        ("kind", "blog"),
        ("url", "not a url"),
        ("key", "has spaces"),
    ],
)
def test_an_invalid_source_field_is_a_400_naming_it(curator_api, field, value):
    body = assert_error(
        curator_api.post("/api/v1/sources/", source_payload(**{field: value}), format="json"),
        400,
        "invalid",
    )

    assert field in body["errors"] or "non_field_errors" in body["errors"]
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_a_link_kind_must_come_with_an_abnormality_and_only_then(curator_api):
    therapy, abnormality, source = make_therapy(), make_abnormality(), make_source()

    without_kind = evidence_payload(therapy, abnormality, source, link_kind="")
    kind_without_abnormality = evidence_payload(therapy, None, source, link_kind="measured")

    for payload in (without_kind, kind_without_abnormality):
        body = assert_error(
            curator_api.post("/api/v1/evidence/", payload, format="json"), 400, "invalid"
        )
        assert "link kind" in body["detail"]
    assert not TherapyEvidence.objects.exists()


@pytest.mark.django_db
def test_general_evidence_names_no_abnormality_and_no_link_kind(curator_api):
    therapy, source = make_therapy(), make_source()

    response = curator_api.post(
        "/api/v1/evidence/", evidence_payload(therapy, None, source), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["abnormality"] is None


@pytest.mark.django_db
def test_a_finding_about_nothing_is_a_400(curator_api):
    payload = {"source": make_source().pk, "statement": "s", "direction": "supports", "level": "E"}

    body = assert_error(
        curator_api.post("/api/v1/findings/", payload, format="json"), 400, "invalid"
    )

    assert "must name an abnormality" in body["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("therapy", "no-such-therapy"),
        ("abnormality", "no-such-abnormality"),
        ("source", 999999999),
        ("level", "F"),
        ("direction", "sideways"),
        ("case_definition", "vibes"),
    ],
)
def test_an_unknown_reference_or_choice_in_a_claim_is_a_400_naming_it(curator_api, field, value):
    payload = {**evidence_payload(make_therapy(), make_abnormality(), make_source()), field: value}

    body = assert_error(
        curator_api.post("/api/v1/evidence/", payload, format="json"), 400, "invalid"
    )

    assert list(body["errors"]) == [field]


@pytest.mark.django_db
def test_a_claim_may_cite_a_draft_source_and_a_draft_therapy(curator_api):
    therapy = make_therapy(status=Status.DRAFT)
    source = make_source(status=Status.DRAFT)

    response = curator_api.post(
        "/api/v1/evidence/", evidence_payload(therapy, None, source), format="json"
    )

    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_malformed_json_is_a_400_in_the_error_shape(curator_api):
    response = curator_api.post(
        "/api/v1/sources/", data="{not json", content_type="application/json"
    )

    assert_error(response, 400, "parse_error")


@pytest.mark.django_db
def test_a_form_encoded_body_is_a_415(curator_api):
    response = curator_api.post("/api/v1/sources/", {"key": "x"})  # multipart by default

    assert_error(response, 415, "unsupported_media_type")


# full_clean's check that each parent exists: Django's query per parent on SQLite; on
# PostgreSQL none, the database checks them as the row is saved, in one statement
# (SET CONSTRAINTS ALL IMMEDIATE, curation/services.py _save_checked).
ON_POSTGRESQL = connection.vendor == "postgresql"


def parent_checks(parents: int) -> int:
    return 1 if ON_POSTGRESQL else parents


def link_copies(fields: int) -> int:
    return 1 if ON_POSTGRESQL else fields


@pytest.mark.django_db
def test_a_write_takes_a_fixed_number_of_queries(curator_api, django_assert_num_queries):
    therapy, abnormality, source = make_therapy(), make_abnormality(), make_source()
    payload = evidence_payload(therapy, abnormality, source)
    # The same whatever the database holds:
    # 1 token with its user and the user's permissions (own and group),
    # 3 therapy by slug, abnormality by slug, source by id (the serializer),
    # 1 SAVEPOINT (record_create), the parents' check (parent_checks: do the creator,
    # therapy, abnormality and source exist; no query for the check constraints: status,
    # level, direction and case definition are judged by their fields,
    # curation/models.py choices_judged_by_field; link kind with abnormality is decided
    # in Python, curation/checks.py), 4 SAVEPOINT, INSERT evidence, INSERT its history
    # row (a new row has no links to copy: curation/history.py; the source's year, its
    # sort key, is the serializer's source's), RELEASE, 2 the content type and INSERT the
    # creator's contribution, 1 RELEASE, 1 the data version (X-Data-Version). The
    # response needs no query: its parents are the serializer's, its links are empty
    # (none were given).
    with django_assert_num_queries(13 + parent_checks(4)):
        response = curator_api.post("/api/v1/evidence/", payload, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_creates_empty_links_are_answered_without_building_their_sql(curator_api):
    """A new record's links are empty (none given): the response lists them from an
    empty result already read (curation/viewsets.py created_as_read), not from an empty
    queryset that is built and compiled, to send nothing, once per link field."""
    from unittest import mock

    from django.db.models.sql.compiler import SQLCompiler

    payload = evidence_payload(make_therapy(), make_abnormality(), make_source())
    compiled_empty = []
    as_sql = SQLCompiler.as_sql

    def spy(compiler, *args, **kwargs):
        if compiler.query.is_empty():
            compiled_empty.append(compiler.query.model.__name__)
        return as_sql(compiler, *args, **kwargs)

    with mock.patch.object(SQLCompiler, "as_sql", spy):
        response = curator_api.post("/api/v1/evidence/", payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["contradicted_by"] == []
    assert response.json()["contradicting_findings"] == []
    assert compiled_empty == []


@pytest.mark.django_db
def test_a_submitted_record_is_refused_with_409_before_its_body_is_judged(curator_api):
    evidence = make_evidence(status=Status.SUBMITTED)

    response = curator_api.patch(f"/api/v1/evidence/{evidence.pk}/", {"level": "Z"}, format="json")

    assert_error(response, 409, "not_editable")


@pytest.mark.django_db
def test_an_edit_takes_a_fixed_number_of_queries(curator_api, django_assert_num_queries):
    draft = make_evidence(status=Status.DRAFT)
    draft.contradicted_by.add(make_evidence(therapy=draft.therapy))
    # 1 token with its user and the user's permissions (own and group), 3 the record
    # (therapy, abnormality and source joined) and the prefetches of its contradictions,
    # 1 SAVEPOINT (record_edit), 1 the record again, locked (SELECT ... FOR UPDATE on
    # PostgreSQL), the parents' check (parent_checks: do its therapy, abnormality and
    # source exist; it has no creator; the check constraints need no query), 4
    # SAVEPOINT, UPDATE, INSERT its history row, RELEASE, the copy of its two
    # many-to-many links into the history (link_copies: one INSERT ... SELECT each, on
    # PostgreSQL both in one statement, curation/history.py), 2 the content type and
    # INSERT the editor's contribution, 1 RELEASE, 1 the data version (X-Data-Version).
    # The response is the saved row with the parents and links read first (no relation
    # changed).
    with django_assert_num_queries(14 + parent_checks(3) + link_copies(2)):
        response = curator_api.patch(f"/api/v1/evidence/{draft.pk}/", {"level": "C"}, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_a_body_that_is_not_an_object_is_a_400(curator_api):
    body = assert_error(curator_api.post("/api/v1/sources/", [], format="json"), 400, "invalid")

    assert list(body["errors"]) == ["non_field_errors"]


@pytest.mark.parametrize(
    "resource, field", [("evidence", "abnormality"), ("findings", "abnormality")]
)
def test_a_slug_with_a_null_character_is_refused_naming_the_field(curator_api, resource, field):
    # PostgreSQL cannot compare text holding NUL: found by the contract tests (a 500).
    response = curator_api.post(
        f"/api/v1/{resource}/", {field: "low-nk\x00", "statement": "x"}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
