"""Publishers' notices (issue 11, item 4): check_retractions reads Crossref's update
metadata for every source with a DOI and flags a retraction directly (curation's
``record_flag``, in history); the claims citing a flagged source are shown with the
notice everywhere, and leave every count, ranking and matrix cell until an editor has
reviewed the notice. Recordings as in tests/test_source_lookup.py; the retraction is
the SYNTHETIC one built on a real record (cabanas2021_ldn_trpm3)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from curation.models import DataChange, DataChangeAction, Status
from curation.services import ReviewNoteRequired, ReviewPermissionError, record_flag
from findings.models import Finding, Source
from findings.retractions import source_notice_review
from tests import factories
from tests.lookup_recordings import DOWN, SLOW, reference
from treatments.matrix import matrix_build
from treatments.models import Therapy, TherapyEvidence
from treatments.summaries import pair_summaries

CABANAS = "cabanas2021_ldn_trpm3"
LUTZ = "lutz2021_igg"
NOTICE_DOI = "10.5555/synthetic-retraction-notice"


def _check(*args) -> str:
    out = io.StringIO()
    call_command("check_retractions", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def retracted_paper(db, services):
    """A published source whose DOI Crossref (the synthetic recording) reports retracted,
    with a published claim about a therapy and one about an abnormality."""
    ref = reference(CABANAS)
    source = factories.make_source(doi=ref["doi"], title=ref["title"], key=ref["key"])
    therapy = factories.make_therapy()
    abnormality = factories.make_abnormality()
    evidence = factories.make_evidence(therapy=therapy, abnormality=abnormality, source=source)
    finding = factories.make_finding(abnormality=abnormality, source=source)
    services.crossref(ref["doi"], name="crossref/SYNTHETIC_retracted_cabanas2021_ldn_trpm3.json")
    return source, evidence, finding


def test_check_retractions_flags_a_retracted_source_with_the_notice_in_history(retracted_paper):
    source, *_ = retracted_paper
    printed = _check()
    source.refresh_from_db()
    assert source.retracted is True
    assert source.notice_kind == "retraction"
    assert source.notice_doi == NOTICE_DOI
    assert source.notice_link == f"https://doi.org/{NOTICE_DOI}"
    assert source.notices_checked_on is not None
    assert source.notice_held
    assert source.status == Status.PUBLISHED  # a fact, not a content edit: no suggestion
    entry = source.history.first()
    assert entry.history_user is None
    assert entry.history_change_reason == (
        f"check_retractions: Crossref reports retraction (notice {NOTICE_DOI})"
    )
    change = DataChange.objects.get(object_id=source.pk, action=DataChangeAction.REVISED)
    assert "notice_kind" in change.fields and "retracted" in change.fields
    assert printed.splitlines()[-1] == (
        "Checked 1 source with a DOI: 1 newly flagged, 0 unchanged, 0 unknown to Crossref, "
        "0 not checked (Crossref failed)."
    )


def test_running_the_check_again_changes_nothing_and_writes_no_history(retracted_paper):
    source, *_ = retracted_paper
    _check()
    rows = source.history.count()
    printed = _check()
    assert source.history.count() == rows
    assert "0 newly flagged, 1 unchanged" in printed


def test_a_source_without_notices_is_only_dated(db, services):
    ref = reference(LUTZ)
    source = factories.make_source(doi=ref["doi"])
    services.crossref(ref["doi"], name="crossref/lutz2021_igg.json")
    rows = source.history.count()
    printed = _check()
    source.refresh_from_db()
    assert source.notices_checked_on is not None
    assert source.notice_kind == "" and not source.retracted
    assert source.history.count() == rows
    assert "0 newly flagged, 1 unchanged" in printed


@pytest.mark.parametrize(
    "answer, words",
    [
        ({"error": DOWN}, "Crossref could not be reached"),
        ({"error": SLOW}, "Crossref did not answer within"),
        ({"body": "<html>Bad gateway</html>", "status": 200}, "not a record we can read"),
        ({"body": "Service Unavailable", "status": 503}, "answered with an error (HTTP 503)"),
    ],
    ids=["down", "timeout", "malformed body", "error status"],
)
def test_when_crossref_fails_nothing_changes_and_the_summary_says_so(db, services, answer, words):
    ref = reference(CABANAS)
    source = factories.make_source(doi=ref["doi"])
    factories.make_source(doi="")  # no DOI: not checked at all
    services.crossref(ref["doi"], **answer)
    printed = _check()
    source.refresh_from_db()
    assert source.notice_kind == "" and source.notices_checked_on is None
    assert words in printed
    assert printed.splitlines()[-1].endswith("1 not checked (Crossref failed).")
    assert "Checked 1 source with a DOI" in printed


def test_a_doi_crossref_does_not_know_is_counted_apart(db, services):
    source = factories.make_source(doi="10.5555/no-such-paper")
    services.crossref(source.doi)
    assert "1 unknown to Crossref" in _check()


def test_the_check_can_be_credited_to_an_editor(retracted_paper, editor):
    source, *_ = retracted_paper
    _check("--user", editor.username)
    assert source.history.first().history_user == editor


def test_the_check_refuses_an_unknown_user_or_key(db):
    with pytest.raises(CommandError, match="not a curator or editor"):
        _check("--user", "nobody@example.org")
    with pytest.raises(CommandError, match="No source with key"):
        _check("--key", "no-such-key")


# --- what readers see, and what counts -------------------------------------------------


def test_claims_citing_a_flagged_source_leave_every_count_until_an_editor_reviews_it(
    retracted_paper, editor
):
    source, evidence, finding = retracted_paper
    therapy, abnormality = evidence.therapy, evidence.abnormality
    assert (abnormality.pk, therapy.pk) in matrix_build().pairs
    _check()
    assert (abnormality.pk, therapy.pk) not in matrix_build().pairs
    assert pair_summaries([therapy.pk])[therapy.pk] == []
    assert Therapy.objects.with_evidence_summary().get(pk=therapy.pk).best_level is None
    assert not TherapyEvidence.objects.counted().filter(pk=evidence.pk).exists()
    assert not Finding.objects.counted().filter(pk=finding.pk).exists()
    # Still published and listed: shown with the flag, not hidden.
    assert TherapyEvidence.objects.published().filter(pk=evidence.pk).exists()

    source.refresh_from_db()
    source_notice_review(
        source=source, user=editor, note="Claims checked: the therapy claim rests on it."
    )
    source.refresh_from_db()
    assert not source.notice_held
    assert (abnormality.pk, therapy.pk) in matrix_build().pairs
    assert source.history.first().history_change_reason.startswith("Notice reviewed: Claims")
    assert source.history.first().history_user == editor


def test_every_page_showing_a_claim_shows_the_notice(retracted_paper, client):
    source, evidence, _ = retracted_paper
    _check()
    pages = [
        reverse("findings:source-detail", args=[source.pk]),
        evidence.therapy.get_absolute_url(),
        reverse(
            "treatments:pair-evidence", args=[evidence.therapy.slug, evidence.abnormality.slug]
        ),
        evidence.abnormality.get_absolute_url(),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "retracted by its publisher" in html, url
        assert f"https://doi.org/{NOTICE_DOI}" in html, url
    pair = client.get(pages[2]).content.decode()
    assert "Not counted in any level, total or ranking" in pair


def test_the_api_and_the_downloads_carry_the_notice(retracted_paper, api_client):
    source, evidence, _ = retracted_paper
    _check()
    citation = api_client.get(f"/api/v1/evidence/{evidence.pk}/").json()["citation"]
    assert citation["retracted"] is True
    assert citation["notice_kind"] == "retraction"
    assert citation["notice_held"] is True
    assert citation["notice_link"] == f"https://doi.org/{NOTICE_DOI}"
    detail = api_client.get(f"/api/v1/sources/{source.pk}/").json()
    assert detail["notice_doi"] == NOTICE_DOI and detail["notice_held"] is True
    csv = api_client.get(reverse("findings:source-list"), {"format": "csv"}).content.decode()
    assert "notice_kind" in csv.splitlines()[0]
    assert f"https://doi.org/{NOTICE_DOI}" in csv


# --- an editor's review ------------------------------------------------------------------


def test_only_editors_review_a_notice_and_with_a_note(retracted_paper, curator, editor):
    source, *_ = retracted_paper
    _check()
    source.refresh_from_db()
    with pytest.raises(ReviewPermissionError):
        source_notice_review(source=source, user=curator, note="Looks fine.")
    with pytest.raises(ReviewNoteRequired):
        source_notice_review(source=source, user=editor, note=" ")
    assert Source.objects.get(pk=source.pk).notice_held


def test_the_admin_offers_editors_the_review_and_records_it(retracted_paper, editor_client):
    source, *_ = retracted_paper
    _check()
    url = reverse("admin:findings_source_change", args=[source.pk])
    page = editor_client.get(url).content.decode()
    assert "Waiting for an editor&#x27;s review" in page or "Waiting for an editor's review" in page
    assert "Mark the notice reviewed" in page
    response = editor_client.post(
        reverse("admin:findings_source_notice_review", args=[source.pk]),
        {"notice_review_note": "Retracted the claims it undermines."},
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.notice_review_note == "Retracted the claims it undermines."
    assert not source.notice_held


def test_curators_see_the_notice_but_not_the_review_button(retracted_paper, curator_client):
    source, *_ = retracted_paper
    _check()
    page = curator_client.get(reverse("admin:findings_source_change", args=[source.pk]))
    html = page.content.decode()
    assert "Publisher&#x27;s notice" in html or "Publisher's notice" in html
    assert "Mark the notice reviewed" not in html


def test_a_flag_never_changes_content(db):
    source = factories.make_source()
    with pytest.raises(ValidationError):
        record_flag(record=source, fields={"title": "Another title"}, reason="check")
    source.refresh_from_db()
    assert source.title.startswith("A study of immune function")


def test_pages_list_held_claims_apart_and_count_them_in_no_group(retracted_paper, client):
    _, evidence, finding = retracted_paper
    _check()
    abnormality_page = client.get(finding.abnormality.get_absolute_url()).content.decode()
    assert "Findings that support it (0)" in abnormality_page
    assert (
        "Findings whose source has a publisher&#x27;s notice awaiting review (1)"
        in (abnormality_page)
        or "Findings whose source has a publisher's notice awaiting review (1)" in abnormality_page
    )
    assert finding.statement in abnormality_page
    therapy_page = client.get(evidence.therapy.get_absolute_url()).content.decode()
    assert "held-heading" in therapy_page and evidence.statement in therapy_page
