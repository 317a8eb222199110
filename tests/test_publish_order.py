"""A claim cannot become public while a record it rests on (its source, abnormality,
therapy, lab test) is not: a reader must never follow a public claim to a record they
cannot see. The rule is curation's (it finds the links in ``_meta``) and holds alike
through the admin and the API."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from curation.models import Status
from curation.services import PublishBlocked, record_publish
from tests import factories
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db

TITLE = "NK cells in CFS"


def _publish_through(door: str, user, record) -> str:
    """Publish ``record`` as ``user``; the refusal's message, or "" when published."""
    if door == "admin":
        client = Client()
        client.force_login(user)
        opts = record._meta
        response = client.post(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            {"action": "publish_selected", ACTION_CHECKBOX_NAME: [str(record.pk)]},
        )
        errors = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
        return " ".join(errors)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    path = {"therapyevidence": "evidence", "finding": "findings"}[record._meta.model_name]
    response = client.post(f"/api/v1/{path}/{record.pk}/publish/", {}, format="json")
    if response.status_code == 200:
        return ""
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "invalid_transition"
    return response.json()["detail"]


def _submitted_claim(**kwargs) -> TherapyEvidence:
    return factories.make_evidence(
        status=Status.SUBMITTED, created_by=factories.make_curator(), **kwargs
    )


@pytest.mark.parametrize("door", ["admin", "api"])
def test_a_claim_whose_source_is_submitted_is_not_published_and_the_message_says_why(door):
    source = factories.make_source(title=TITLE, status=Status.SUBMITTED)
    claim = _submitted_claim(source=source)

    message = _publish_through(door, factories.make_editor(), claim)

    assert message == (
        f"You cannot publish therapy evidence “{claim}” yet. Its source “{source}” is "
        "submitted, not published: publish it first, or publish the source with its "
        "claims together."
    )
    claim.refresh_from_db()
    assert claim.status == Status.SUBMITTED


@pytest.mark.parametrize("door", ["admin", "api"])
@pytest.mark.parametrize(
    ("link", "make"),
    [
        ("abnormality", factories.make_abnormality),
        ("therapy", factories.make_therapy),
        ("source", factories.make_source),
    ],
)
def test_a_claim_resting_on_a_draft_of_any_kind_is_not_published(door, link, make):
    target = make(status=Status.DRAFT)
    claim = _submitted_claim(**{link: target})

    message = _publish_through(door, factories.make_editor(), claim)

    assert f"Its {link} “{target}” is a draft, not published: publish it first" in message
    claim.refresh_from_db()
    assert claim.status == Status.SUBMITTED


@pytest.mark.parametrize("door", ["admin", "api"])
def test_a_finding_whose_lab_test_is_not_published_is_not_published(door):
    lab_test = factories.make_lab_test(status=Status.REJECTED)
    finding = factories.make_finding(
        status=Status.SUBMITTED, created_by=factories.make_curator(), lab_test=lab_test
    )
    message = _publish_through(door, factories.make_editor(), finding)
    assert f"Its lab test “{lab_test}” is rejected, not published" in message


@pytest.mark.parametrize("door", ["admin", "api"])
def test_a_claim_on_a_retracted_source_is_never_published(door):
    source = factories.make_source(status=Status.RETRACTED)
    claim = _submitted_claim(source=source)
    message = _publish_through(door, factories.make_editor(), claim)
    assert message.endswith(
        f"Its source “{source}” is retracted: a public record cannot rest on a withdrawn one."
    )


@pytest.mark.parametrize("door", ["admin", "api"])
def test_a_claim_whose_links_are_published_or_unset_is_published(door):
    claim = _submitted_claim(abnormality=None)
    assert _publish_through(door, factories.make_editor(), claim) == ""
    claim.refresh_from_db()
    assert claim.status == Status.PUBLISHED


def test_a_record_with_no_links_to_curated_records_is_not_held_back_by_its_users():
    # created_by, submitted_by and reviewed_by point at users, not at curated records.
    source = factories.make_source(status=Status.SUBMITTED, created_by=factories.make_curator())
    record_publish(record=source, user=factories.make_editor())
    source.refresh_from_db()
    assert source.status == Status.PUBLISHED


def test_the_service_refuses_before_writing_anything():
    claim = _submitted_claim(source=factories.make_source(status=Status.SUBMITTED))
    history = claim.history.count()
    with pytest.raises(PublishBlocked):
        record_publish(record=claim, user=factories.make_editor())
    assert claim.history.count() == history


def test_a_suggestion_moving_a_public_claim_onto_an_unpublished_source_is_not_accepted():
    from curation.revisions import suggestion_accept, suggestion_propose

    claim = factories.make_evidence()
    draft_source = factories.make_source(status=Status.DRAFT)
    suggestion = suggestion_propose(
        record=claim, fields={"source": draft_source}, user=factories.make_curator()
    )

    with pytest.raises(PublishBlocked) as refused:
        suggestion_accept(suggestion=suggestion, user=factories.make_editor())

    assert f"Its source “{draft_source}” is a draft, not published" in refused.value.message
    claim.refresh_from_db()
    assert claim.source_id != draft_source.pk


# --- A claim's plain-language summary (issue 12): a draft may leave it empty, publishing
# needs it. The same table through both doors.
SUMMARY_CASES = [
    # (kind, plain_summary, published?)
    ("finding", "", False),
    ("finding", "   \n ", False),
    ("finding", "People with ME/CFS had fewer of these cells.", True),
    ("evidence", "", False),
    ("evidence", "\t", False),
    ("evidence", "The drug did not help more than a dummy pill.", True),
]


@pytest.mark.parametrize("door", ["admin", "api"])
@pytest.mark.parametrize(("kind", "summary", "published"), SUMMARY_CASES)
def test_a_claim_is_published_only_with_a_plain_summary(door, kind, summary, published):
    make = factories.make_finding if kind == "finding" else factories.make_evidence
    claim = make(
        status=Status.SUBMITTED, created_by=factories.make_curator(), plain_summary=summary
    )

    message = _publish_through(door, factories.make_editor(), claim)

    claim.refresh_from_db()
    if published:
        assert message == ""
        assert claim.status == Status.PUBLISHED
        return
    assert message == (
        f"You cannot publish {claim._meta.verbose_name} “{claim}” yet. Its plain-language "
        "summary (plain_summary) is empty: write it first, in words any reader can follow; "
        "readers see it before anything else."
    )
    assert claim.status == Status.SUBMITTED


def test_a_draft_may_leave_its_plain_summary_empty_through_the_api():
    curator = factories.make_curator()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=curator).key}")
    response = client.post(
        "/api/v1/findings/",
        {
            "source": factories.make_source().pk,
            "abnormality": factories.make_abnormality().slug,
            "statement": "A statement.",
            "direction": "supports",
            "level": "B",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["plain_summary"] == ""
    assert response.json()["status"] == Status.DRAFT


def test_a_suggestion_emptying_a_public_claims_plain_summary_is_not_accepted():
    from curation.revisions import suggestion_accept, suggestion_propose

    claim = factories.make_evidence()
    suggestion = suggestion_propose(
        record=claim, fields={"plain_summary": ""}, user=factories.make_curator()
    )

    with pytest.raises(PublishBlocked) as refused:
        suggestion_accept(suggestion=suggestion, user=factories.make_editor())

    assert "Its plain-language summary (plain_summary) is empty" in refused.value.message
    claim.refresh_from_db()
    assert claim.plain_summary == "What this evidence means, in plain words."
