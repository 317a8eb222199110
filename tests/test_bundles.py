"""A paper and its claims reviewed together: submitted together by its curator, and
published together (the claims an editor chooses) in one transaction and one data
version, each claim still under ``record_publish``'s rules. Through the services, the
API and the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from curation.bundles import bundle_claims, bundle_publish, bundle_submit, claim_key
from curation.models import DataVersion, Status
from curation.services import ReviewError, ReviewPermissionError
from tests import factories

REVIEW_PAGE_QUERIES = 9

pytestmark = pytest.mark.django_db

D, S, P, R = Status.DRAFT, Status.SUBMITTED, Status.PUBLISHED, Status.REJECTED


def paper(curator, status=D, claim_status=D):
    """A source with a finding, therapy evidence and a regulatory status, by ``curator``,
    and an unrelated draft finding of another source."""
    source = factories.make_source(status=status, created_by=curator)
    claims = [
        factories.make_finding(source=source, status=claim_status, created_by=curator),
        factories.make_evidence(source=source, status=claim_status, created_by=curator),
        factories.make_regulatory_status(source=source, status=claim_status, created_by=curator),
    ]
    factories.make_finding(status=D, created_by=curator)  # another paper's
    return source, claims


def statuses(*records) -> list[str]:
    return [type(r).objects.get(pk=r.pk).status for r in records]


class TestServices:
    def test_the_claims_of_a_source_are_found_without_naming_their_models(self, curator):
        source, claims = paper(curator)
        assert {claim_key(c) for c in bundle_claims(record=source)} == {
            claim_key(c) for c in claims
        }

    def test_submit_with_claims_submits_the_source_and_its_draft_or_rejected_claims(self, curator):
        source, claims = paper(curator)
        claims[2].status = R
        claims[2].save()
        published = factories.make_finding(source=source, status=P)

        submitted = bundle_submit(record=source, user=curator).submitted

        assert len(submitted) == 3
        assert statuses(source, *claims) == [S, S, S, S]
        assert statuses(published) == [P]

    def test_submit_with_claims_leaves_other_curators_drafts_for_them_to_submit(self, curator):
        source, claims = paper(curator)
        other = factories.make_curator()
        theirs = factories.make_evidence(source=source, status=D, created_by=other)

        result = bundle_submit(record=source, user=curator)

        assert {claim_key(c) for c in result.submitted} == {claim_key(c) for c in claims}
        assert [claim_key(c) for c in result.left] == [claim_key(theirs)]
        assert statuses(theirs) == [D]
        assert statuses(source, *claims) == [S, S, S, S]

    def test_submit_with_claims_is_all_or_nothing(self, curator):
        source, claims = paper(curator)
        with pytest.raises(ReviewPermissionError):
            bundle_submit(record=source, user=factories.make_user())
        assert statuses(source, *claims) == [D, D, D, D]

    def test_submitting_when_nothing_is_a_draft_is_refused_with_a_reason(self, curator):
        source, _ = paper(curator, status=S, claim_status=S)
        with pytest.raises(ReviewError, match="Nothing to submit"):
            bundle_submit(record=source, user=curator)

    def test_publish_with_claims_publishes_the_chosen_in_one_data_version_and_rejects_others(
        self, curator, editor
    ):
        source, claims = paper(curator, status=S, claim_status=S)
        before = DataVersion.objects.count()

        review = bundle_publish(
            record=source,
            user=editor,
            claims=claims[:2],
            reject_note="The quote is not in the paper.",
        )

        assert statuses(source, *claims) == [P, P, P, R]
        assert [claim_key(c) for c in review.published] == [claim_key(c) for c in claims[:2]]
        assert DataVersion.objects.count() == before + 1
        assert DataVersion.objects.order_by("-number").first().changes.count() == 3
        claims[2].refresh_from_db()
        assert claims[2].review_note == "The quote is not in the paper."

    def test_claims_not_chosen_wait_when_no_reject_note_is_given(self, curator, editor):
        source, claims = paper(curator, status=S, claim_status=S)
        review = bundle_publish(record=source, user=editor, claims=[claims[0]])
        assert statuses(source, *claims) == [P, P, S, S]
        assert len(review.waiting) == 2

    def test_nobody_publishes_a_paper_with_claims_they_wrote_and_nothing_is_published(
        self, curator, editor
    ):
        source, claims = paper(curator, status=S, claim_status=S)
        mine = factories.make_finding(source=source, status=S, created_by=editor)
        with pytest.raises(ReviewPermissionError):
            bundle_publish(record=source, user=editor, claims=[*claims, mine])
        assert statuses(source, *claims, mine) == [S, S, S, S, S]

    def test_a_claim_resting_on_another_unpublished_record_stops_the_whole_bundle(
        self, curator, editor
    ):
        source = factories.make_source(status=S, created_by=curator)
        claim = factories.make_finding(
            source=source,
            status=S,
            created_by=curator,
            abnormality=factories.make_abnormality(status=D),
        )
        with pytest.raises(ReviewError, match="Its abnormality"):
            bundle_publish(record=source, user=editor, claims=[claim])
        assert statuses(source, claim) == [S, S]

    def test_a_claim_of_another_paper_cannot_be_slipped_in(self, curator, editor):
        source, claims = paper(curator, status=S, claim_status=S)
        other = factories.make_finding(status=S, created_by=curator)
        with pytest.raises(ReviewError, match="Nothing was published"):
            bundle_publish(record=source, user=editor, claims=[claims[0], other])
        assert statuses(source, other) == [S, S]


def _ref(record) -> dict:
    from curation.resources import api_kind

    return {"kind": api_kind(type(record)), "id": record.pk}


class TestApi:
    def test_a_curator_submits_a_source_with_its_claims(self, curator, curator_api):
        source, claims = paper(curator)
        response = curator_api.post(
            f"/api/v1/sources/{source.pk}/submit-with-claims/", {}, format="json"
        )
        assert response.status_code == 200, response.content
        assert sorted(response.json()["submitted"], key=str) == sorted(
            [_ref(c) for c in claims], key=str
        )
        assert statuses(source, *claims) == [S, S, S, S]
        assert response.json()["left_as_drafts"] == []

    def test_the_api_lists_other_curators_drafts_as_left(self, curator, curator_api):
        source, _ = paper(curator)
        theirs = factories.make_finding(
            source=source, status=D, created_by=factories.make_curator()
        )
        response = curator_api.post(
            f"/api/v1/sources/{source.pk}/submit-with-claims/", {}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["left_as_drafts"] == [_ref(theirs)]
        assert statuses(theirs) == [D]

    def test_an_editor_publishes_a_source_with_the_chosen_claims_and_rejects_the_rest(
        self, curator, editor_api
    ):
        source, claims = paper(curator, status=S, claim_status=S)
        response = editor_api.post(
            f"/api/v1/sources/{source.pk}/publish-with-claims/",
            {"claims": [_ref(claims[1])], "reject_note": "Not in the paper."},
            format="json",
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["published"] == [_ref(claims[1])]
        assert len(body["rejected"]) == 2
        assert statuses(source, *claims) == [P, R, P, R]

    def test_the_api_refuses_as_the_service_does_and_publishes_nothing(
        self, curator, curator_api, editor_api
    ):
        source, claims = paper(curator, status=S, claim_status=S)
        refused = curator_api.post(
            f"/api/v1/sources/{source.pk}/publish-with-claims/",
            {"claims": [_ref(claims[0])]},
            format="json",
        )
        assert refused.status_code == 403, refused.content
        unknown = editor_api.post(
            f"/api/v1/sources/{source.pk}/publish-with-claims/",
            {"claims": [{"kind": "nonsense", "id": 1}]},
            format="json",
        )
        assert unknown.status_code == 400, unknown.content
        assert statuses(source, *claims) == [S, S, S, S]


class TestAdmin:
    def test_a_curator_submits_a_source_with_its_claims_from_its_page(
        self, curator, curator_client
    ):
        source, claims = paper(curator)
        page = curator_client.get(reverse("admin:findings_source_change", args=[source.pk]))
        submit = reverse("admin:findings_source_submit_with_claims", args=[source.pk])
        assert f'formaction="{submit}"' in page.content.decode()
        assert "Submit with its 3 claims" in page.content.decode()
        assert "Review the source" not in page.content.decode()

        response = curator_client.post(submit, follow=True)

        assert statuses(source, *claims) == [S, S, S, S]
        assert (
            f"Submitted “{source}” for review with 3 claims of yours." in response.content.decode()
        )

    def test_other_curators_drafts_are_left_with_a_warning_naming_them(
        self, curator, curator_client
    ):
        source, _ = paper(curator)
        theirs = factories.make_evidence(
            source=source, status=D, created_by=factories.make_curator()
        )
        page = curator_client.get(reverse("admin:findings_source_change", args=[source.pk]))
        assert "Submit with its 3 claims" in page.content.decode()

        submit = reverse("admin:findings_source_submit_with_claims", args=[source.pk])
        response = curator_client.post(submit, follow=True)

        assert statuses(theirs) == [D]
        assert "1 draft claim(s) written by other curators were left as drafts" in (
            response.content.decode()
        )

    def test_the_review_page_shows_each_claims_statement_and_quote_in_full(
        self, curator, editor_client
    ):
        source, claims = paper(curator, status=S, claim_status=S)
        finding = claims[0]
        finding.statement = "A statement " + "long " * 80 + "end of statement."
        finding.quote = "A quote that the editor must read whole."
        finding.save()
        page = editor_client.get(
            reverse("admin:findings_source_review_with_claims", args=[source.pk])
        )
        body = page.content.decode()
        assert page.status_code == 200
        assert "end of statement." in body
        assert "A quote that the editor must read whole." in body
        assert reverse("admin:findings_finding_change", args=[finding.pk]) in body

    def test_the_submit_url_takes_post_only(self, curator, curator_client):
        source, _ = paper(curator)
        url = reverse("admin:findings_source_submit_with_claims", args=[source.pk])
        assert curator_client.get(url).status_code == 405
        assert statuses(source) == [D]

    def test_an_editor_reviews_the_paper_with_its_claims_on_one_page(self, curator, editor_client):
        source, claims = paper(curator, status=S, claim_status=S)
        page = editor_client.get(reverse("admin:findings_source_change", args=[source.pk]))
        review_url = reverse("admin:findings_source_review_with_claims", args=[source.pk])
        assert f'href="{review_url}"' in page.content.decode()
        assert "Review the source with its 3 claims" in page.content.decode()

        review = editor_client.get(review_url)
        assert review.status_code == 200
        form = review.context["form"]
        names = [form.field_name(c) for c in claims]
        for claim in claims:
            assert str(claim) in review.content.decode()

        # Unchecked claims need a reason.
        refused = editor_client.post(review_url, {names[0]: "on"})
        assert refused.status_code == 200
        assert "A note is required to reject" in refused.context["form"].errors["reject_note"][0]
        assert statuses(source, *claims) == [S, S, S, S]

        done = editor_client.post(
            review_url, {names[0]: "on", "reject_note": "Not what the paper says."}, follow=True
        )
        assert statuses(source, *claims) == [P, P, R, R]
        assert f"Published “{source}” with 1 of its claims; rejected 2." in done.content.decode()

    def test_the_review_page_says_why_nothing_was_published(self, editor, editor_client):
        source = factories.make_source(status=S, created_by=factories.make_curator())
        mine = factories.make_finding(source=source, status=S, created_by=editor)
        url = reverse("admin:findings_source_review_with_claims", args=[source.pk])
        form = editor_client.get(url).context["form"]
        response = editor_client.post(url, {form.field_name(mine): "on"})
        assert response.status_code == 200
        assert "nobody publishes their own work" in str(response.context["form"].non_field_errors())
        assert statuses(source, mine) == [S, S]

    def test_a_curator_is_not_let_into_the_review_page(self, curator, curator_client):
        source, _ = paper(curator, status=S, claim_status=S)
        url = reverse("admin:findings_source_review_with_claims", args=[source.pk])
        assert curator_client.get(url).status_code == 403


class TestReviewPageCost:
    @pytest.mark.parametrize("claims_per_kind", [1, 4])
    def test_the_review_page_costs_the_same_for_few_or_many_claims(
        self, curator, editor_client, django_assert_max_num_queries, claims_per_kind
    ):
        source = factories.make_source(status=S, created_by=curator)
        for _ in range(claims_per_kind):
            factories.make_finding(source=source, status=S, created_by=curator)
            factories.make_evidence(source=source, status=S, created_by=curator)
            factories.make_regulatory_status(source=source, status=S, created_by=curator)
        url = reverse("admin:findings_source_review_with_claims", args=[source.pk])
        editor_client.get(url)  # warm the content-type and permission caches
        # The editor's session and permissions, the source, one query per kind of record
        # resting on it (findings, evidence, regulatory statuses, harms, glossary terms),
        # and what the change-form context reads; none per claim.
        with django_assert_max_num_queries(REVIEW_PAGE_QUERIES) as counted:
            page = editor_client.get(url)
        assert page.status_code == 200
        assert len(page.context["rows"]) == 3 * claims_per_kind
        assert len(counted) == REVIEW_PAGE_QUERIES
