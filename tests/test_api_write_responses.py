"""What a write answers is what a read answers right after it (issue 14).

A create, an edit and every review action answer with the record as a read shows it,
with its ETag (a create also with ``Location``, its own resource). They no longer read
the record a second time for that: the saved row carries the parents and links the
request already read (curation/viewsets.py ``as_read_after``, ``created_as_read``). Each
case here compares the write's body and ETag with a GET made right after it, by the same
client, for every kind of record the API writes. Edits that change a parent are
included; they read again.
"""

from __future__ import annotations

import pytest

from curation.models import Status
from curation.services import record_submit
from tests import factories

pytestmark = pytest.mark.django_db


def claim_links(record) -> None:
    """Links the response shows (contradictions), so that keeping them is checked too."""
    if hasattr(record, "contradicting_findings"):  # therapy evidence
        record.contradicted_by.add(factories.make_evidence(therapy=record.therapy))
        record.contradicting_findings.add(factories.make_finding())
    elif hasattr(record, "contradicted_by"):  # a finding
        record.contradicted_by.add(factories.make_finding())


MAKERS = {
    "evidence": lambda **kw: factories.make_evidence(**kw),
    "findings": lambda **kw: factories.make_finding(**kw),
    "harms": lambda **kw: factories.make_harm(**kw),
    "sources": lambda **kw: factories.make_source(**kw),
}

# A plain field each kind can edit, and a parent (a relation) where it has one.
PLAIN_EDIT = {
    "evidence": {"curator_note": "Checked against the full text."},
    "findings": {"curator_note": "Checked against the full text."},
    "harms": {"curator_note": "Checked against the full text."},
    "sources": {"curator_note": "Checked against the full text."},
}


def relation_edit(resource: str) -> dict:
    if resource == "harms":
        return {"therapy": factories.make_therapy().slug}
    return {"abnormality": factories.make_abnormality().slug}


def assert_same_as_a_read(client, response, url: str) -> None:
    assert response.status_code in (200, 201), response.content
    read = client.get(url)
    assert read.status_code == 200
    assert response.json() == read.json()
    assert response["ETag"] == read["ETag"]


EDITS = [
    *[(resource, "plain") for resource in sorted(MAKERS)],
    # A source has no parent to change.
    *[(resource, "relation") for resource in ("evidence", "findings", "harms")],
]


@pytest.mark.parametrize(("resource", "edit"), EDITS)
def test_an_edit_answers_what_a_read_shows(curator_api, curator, resource, edit):
    record = MAKERS[resource](status=Status.DRAFT, created_by=curator)
    claim_links(record)
    body = PLAIN_EDIT[resource] if edit == "plain" else relation_edit(resource)
    url = f"/api/v1/{resource}/{record.pk}/"
    etag = curator_api.get(url)["ETag"]

    response = curator_api.patch(url, body, format="json", HTTP_IF_MATCH=etag)

    assert_same_as_a_read(curator_api, response, url)


# (action, the status it starts from, who acts: the curator who wrote it or an editor)
TRANSITIONS = [
    ("submit", Status.DRAFT, "curator"),
    ("submit", Status.REJECTED, "curator"),
    ("reopen", Status.REJECTED, "curator"),
    ("publish", Status.SUBMITTED, "editor"),
    ("reject", Status.SUBMITTED, "editor"),
    ("retract", Status.PUBLISHED, "editor"),
]


@pytest.mark.parametrize("resource", sorted(MAKERS))
@pytest.mark.parametrize(("action", "status", "actor"), TRANSITIONS)
def test_a_review_action_answers_what_a_read_shows(
    curator, curator_api, editor_api, resource, action, status, actor
):
    record = MAKERS[resource](status=Status.DRAFT, created_by=curator)
    claim_links(record)
    if status != Status.DRAFT:
        record_submit(record=record, user=curator)
        type(record).objects.filter(pk=record.pk).update(status=status)
    client = curator_api if actor == "curator" else editor_api
    url = f"/api/v1/{resource}/{record.pk}/"

    response = client.post(f"{url}{action}/", {"note": "Because."}, format="json")

    assert_same_as_a_read(client, response, url)


@pytest.mark.parametrize("resource", ["evidence", "findings", "harms"])
def test_a_create_answers_what_a_read_shows(curator_api, resource):
    therapy, abnormality, source = (
        factories.make_therapy(),
        factories.make_abnormality(),
        factories.make_source(),
    )
    body = {
        "evidence": {
            "therapy": therapy.slug,
            "abnormality": abnormality.slug,
            "link_kind": "measured",
            "source": source.pk,
            "statement": "NK cell cytotoxicity rose in treated patients.",
            "direction": "supports",
            "level": "C",
        },
        "findings": {
            "abnormality": abnormality.slug,
            "source": source.pk,
            "statement": "NK cell cytotoxicity was lower in patients.",
            "direction": "supports",
            "level": "C",
        },
        "harms": {
            "therapy": therapy.slug,
            "source": source.pk,
            "kind": "adverse_effect",
            "effect": "Headache",
            "population": "20 patients with ME/CFS",
            "statement": "Some participants reported headaches.",
        },
    }[resource]

    response = curator_api.post(f"/api/v1/{resource}/", body, format="json")

    assert response.status_code == 201, response.content
    url = f"/api/v1/{resource}/{response.json()['id']}/"
    assert response["Location"] == url
    assert_same_as_a_read(curator_api, response, url)


def test_a_source_create_answers_what_a_read_shows(curator_api):
    response = curator_api.post(
        "/api/v1/sources/",
        # Title copied verbatim from /work/shared/data/references.json.
        {
            "key": "brenu2011_nk",
            "kind": "journal_article",
            "title": "Immunological abnormalities as potential biomarkers in Chronic "
            "Fatigue Syndrome/Myalgic Encephalomyelitis",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    url = f"/api/v1/sources/{response.json()['id']}/"
    # Not the document's own web address (the body's `url`, empty here).
    assert response["Location"] == url
    assert_same_as_a_read(curator_api, response, url)
