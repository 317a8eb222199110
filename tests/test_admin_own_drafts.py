"""A curator deletes their own draft that was never submitted from its page, and the
deletion is kept in its history (so it can be restored); nothing else of theirs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from curation.models import Status
from tests import factories
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db


def delete_url(record) -> str:
    return reverse("admin:treatments_therapyevidence_delete", args=[record.pk])


def test_a_curator_deletes_their_own_never_submitted_draft_and_history_keeps_it(
    curator, curator_client
):
    draft = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    page = curator_client.get(delete_url(draft))
    assert page.status_code == 200
    assert not page.context["perms_lacking"]

    response = curator_client.post(delete_url(draft), {"post": "yes"})

    assert response.status_code == 302
    assert not TherapyEvidence.objects.filter(pk=draft.pk).exists()
    last = TherapyEvidence.history.filter(id=draft.pk).first()
    assert (last.history_type, last.history_user) == ("-", curator)


@pytest.mark.parametrize("case", ["submitted once", "someone else's", "published"])
def test_a_curator_cannot_delete_what_is_not_their_own_unsubmitted_draft(
    curator, curator_client, case
):
    record = {
        "submitted once": lambda: factories.make_evidence(
            status=Status.DRAFT, created_by=curator, submitted_by=curator
        ),
        "someone else's": lambda: factories.make_evidence(
            status=Status.DRAFT, created_by=factories.make_curator()
        ),
        "published": lambda: factories.make_evidence(status=Status.PUBLISHED, created_by=curator),
    }[case]()
    assert curator_client.post(delete_url(record), {"post": "yes"}).status_code == 403
    assert TherapyEvidence.objects.filter(pk=record.pk).exists()
