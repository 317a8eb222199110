"""A curator's "My work" page: their drafts, what waits for review, what was rejected
with the editor's note, and their suggestions, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from curation.models import Status
from curation.revisions import suggestion_propose
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/admin/my-work/"


def sections(response) -> dict[str, list[str]]:
    return {key: [row.label for row in rows] for key, _, _, rows in response.context["sections"]}


def test_it_lists_a_curators_own_work_by_what_happens_next(curator, curator_client):
    draft = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    waiting = factories.make_finding(status=Status.SUBMITTED, created_by=curator)
    rejected = factories.make_source(
        status=Status.REJECTED, created_by=curator, review_note="The DOI is another paper's."
    )
    factories.make_evidence(status=Status.DRAFT, created_by=factories.make_curator())
    factories.make_evidence(status=Status.PUBLISHED, created_by=curator)
    suggestion = suggestion_propose(
        record=factories.make_therapy(), fields={"summary": "A better summary."}, user=curator
    )

    response = curator_client.get(URL)

    assert response.status_code == 200
    assert sections(response) == {
        "drafts": [str(draft)],
        "waiting": [str(waiting)],
        "rejected": [str(rejected)],
        "suggestions": [suggestion.label],
    }
    assert "The DOI is another paper&#x27;s." in response.content.decode()
    assert reverse("admin:my_work") in curator_client.get("/admin/").content.decode()


# AUTH (session, user, the user's permissions, own and group in one query) + one query per curated
# model (9: harms and certainty overrides included) + the suggestions (with their
# records' versions, one query).
@pytest.mark.parametrize("rows", [1, 50])
def test_it_takes_the_same_queries_for_1_and_50_rows(
    curator, curator_client, django_assert_num_queries, rows
):
    for _ in range(rows):
        factories.make_evidence(status=Status.DRAFT, created_by=curator)
        factories.make_finding(status=Status.REJECTED, created_by=curator, review_note="No.")
        factories.make_harm(status=Status.DRAFT, created_by=curator)
    # Session, user and permissions (own and group, one query); one query per curated
    # model (10, glossary terms among them); the pending suggestions.
    with django_assert_num_queries(3 + 10 + 1):
        response = curator_client.get(URL)
    assert len(response.context["sections"][0][3]) == 2 * rows
