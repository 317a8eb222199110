"""A retracted item is shown as retracted, with its reason, wherever it appears, and
counts in no ranking or summary (issue 10, item 4).

Each test builds a published item, a retracted one (through the review service, as an
editor retracts it) and an unrelated one, and checks both halves: the reason is shown,
and the retracted item is out of every letter, count and ranking.
"""

from xml.etree import ElementTree

import pytest
from django.utils import dateformat

from curation.models import Status
from curation.services import record_retract
from findings.models import Direction, Level
from tests import factories
from treatments.matrix import matrix_build
from treatments.releases import release_data
from treatments.summaries import pair_summaries

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def retract(editor):
    """``retract(record, reason)``: what an editor's retract action does."""

    def do(record, reason):
        return record_retract(record=record, user=editor, note=reason)

    return do


def shown_reason(record) -> str:
    """The line readers see: "Retracted on 3 May 2025:" and then the reason."""
    return f"Retracted on {dateformat.format(record.reviewed_at, 'j F Y')}:</strong> "


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


def test_a_therapy_page_shows_retracted_evidence_and_statuses_apart_and_counts_neither(
    client, retract
):
    therapy = factories.make_therapy(slug="rintatolimod")
    rnase = factories.make_abnormality(name="RNase L pathway dysfunction")
    kept = factories.make_evidence(therapy=therapy, abnormality=rnase, level=Level.C)
    withdrawn = retract(
        factories.make_evidence(
            therapy=therapy, abnormality=rnase, level=Level.A, statement="A withdrawn claim."
        ),
        "The cited trial was never run.",
    )
    factories.make_regulatory_status(therapy=therapy, jurisdiction="Argentina")
    status = retract(
        factories.make_regulatory_status(
            therapy=therapy, jurisdiction="Canada", statement="Approved in Canada."
        ),
        "No such approval was found.",
    )
    factories.make_evidence(statement="Unrelated claim.")

    response = client.get(therapy.get_absolute_url())

    html = response.content.decode()
    [tie] = response.context["ties"]
    assert (tie.best_level, tie.supporting, tie.total) == ("C", 1, 1)
    assert [items for _, items in response.context["groups"]] == [[kept]]
    assert response.context["retracted_evidence"] == [withdrawn]
    assert shown_reason(withdrawn) + "The cited trial was never run." in html
    assert [s.jurisdiction for s in response.context["regulatory_statuses"]] == ["Argentina"]
    assert response.context["retracted_statuses"] == [status]
    assert "Retracted statuses" in html
    assert "Canada" in html and "No such approval was found." in html
    assert "Unrelated claim." not in html


def test_a_pair_page_lists_retracted_evidence_apart_and_leaves_it_out_of_the_summary(
    client, retract
):
    therapy = factories.make_therapy(slug="ldn")
    nk = factories.make_abnormality(slug="low-nk")
    kept = factories.make_evidence(therapy=therapy, abnormality=nk, level=Level.C)
    withdrawn = retract(
        factories.make_evidence(
            therapy=therapy, abnormality=nk, level=Level.A, statement="A withdrawn claim."
        ),
        "The quote is not in the paper.",
    )
    factories.make_evidence(therapy=therapy, statement="Another pair's claim.")

    response = client.get("/treatments/ldn/abnormalities/low-nk/")

    html = response.content.decode()
    summary = response.context["summary"]
    assert (summary.best_level, summary.total, summary.supporting) == ("C", 1, 1)
    assert response.context["evidence"] == [kept]
    assert response.context["retracted_evidence"] == [withdrawn]
    assert '<section class="retracted-group" aria-labelledby="retracted-heading">' in html
    assert f'id="evidence-{withdrawn.pk}"' in html
    assert shown_reason(withdrawn) + "The quote is not in the paper." in html
    assert "1 counted:" in html and ">1 for · 0 against · 0 other<" in html
    assert "Another pair&#x27;s claim." not in html


def test_a_pair_with_only_retracted_evidence_says_so_and_still_explains_it(client, retract):
    therapy = factories.make_therapy(slug="ldn")
    nk = factories.make_abnormality(slug="low-nk")
    retract(factories.make_evidence(therapy=therapy, abnormality=nk), "Misread the abstract.")

    response = client.get("/treatments/ldn/abnormalities/low-nk/")

    html = response.content.decode()
    assert response.context["summary"] is None
    assert "No published evidence ties this therapy to this abnormality." in html
    assert "Misread the abstract." in html


def test_an_abnormality_page_shows_retracted_findings_and_evidence_apart_from_its_ranking(
    client, retract
):
    nk = factories.make_abnormality(slug="low-nk")
    kept = factories.make_finding(abnormality=nk, statement="Lower in patients.")
    withdrawn = retract(
        factories.make_finding(abnormality=nk, statement="A withdrawn finding."),
        "The cohort was not ME/CFS.",
    )
    ranked = factories.make_therapy(name="Ranked therapy")
    factories.make_evidence(therapy=ranked, abnormality=nk, level=Level.C)
    dropped = factories.make_therapy(name="Dropped therapy", slug="dropped")
    gone = retract(
        factories.make_evidence(therapy=dropped, abnormality=nk, level=Level.A),
        "Wrong abnormality.",
    )
    # Retracted evidence of the ranked therapy does not lift its letter.
    retract(factories.make_evidence(therapy=ranked, abnormality=nk, level=Level.A), "Duplicate.")
    retract(factories.make_finding(statement="Another abnormality's finding."), "Elsewhere.")

    response = client.get(nk.get_absolute_url())

    html = response.content.decode()
    assert response.context["findings_for"] == [kept]
    assert "Findings that support it (1)" in html
    assert response.context["retracted_findings"] == [withdrawn]
    assert shown_reason(withdrawn) + "The cohort was not ME/CFS." in html
    assert [
        (row.therapy.name, row.counts.best_level, row.counts.total)
        for row in response.context["therapies"]
    ] == [("Ranked therapy", "C", 1)]
    assert gone in response.context["retracted_evidence"]
    assert "Retracted evidence about therapies" in html
    assert '<a href="/treatments/dropped/">Dropped therapy</a>' in html
    assert "Wrong abnormality." in html
    assert "Another abnormality&#x27;s finding." not in html


def test_a_source_page_lists_retracted_claims_apart_and_counts_only_published_ones(client, retract):
    source = factories.make_source()
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity")
    factories.make_finding(source=source, abnormality=nk, statement="Published finding.")
    factories.make_evidence(source=source, statement="Published evidence.")
    finding = retract(
        factories.make_finding(source=source, abnormality=nk, statement="Withdrawn finding."),
        "Not what the paper found.",
    )
    evidence = retract(
        factories.make_evidence(source=source, statement="Withdrawn evidence."),
        "The paper is about another drug.",
    )
    status = retract(
        factories.make_regulatory_status(source=source, statement="Withdrawn status."),
        "Superseded.",
    )
    retract(factories.make_evidence(statement="Another source's claim."), "Elsewhere.")

    response = client.get(source.get_absolute_url())

    html = response.content.decode()
    assert "About abnormalities in ME/CFS (1)" in html
    assert "About therapies (1)" in html
    assert "About regulatory status" not in html
    assert response.context["retracted_claims"] == [finding, evidence, status]
    assert "Retracted claims" in html
    for record, reason in [
        (finding, "Not what the paper found."),
        (evidence, "The paper is about another drug."),
        (status, "Superseded."),
    ]:
        assert shown_reason(record) + reason in html
    assert f'id="finding-{finding.pk}"' in html and f'id="evidence-{evidence.pk}"' in html
    assert "Another source&#x27;s claim." not in html
    # An editor's retraction of a claim is not the publisher's retraction of the source.
    assert "retracted by its publisher" not in html


def test_a_source_its_publisher_retracted_is_flagged_as_such_wherever_its_claims_appear(
    client,
):
    source = factories.make_source(retracted=True, retraction_note="Fabricated data.")
    therapy = factories.make_therapy(slug="ldn")
    nk = factories.make_abnormality(slug="low-nk")
    factories.make_evidence(therapy=therapy, abnormality=nk, source=source)
    factories.make_finding(abnormality=nk, source=source, statement="Resting on it.")

    source_page = client.get(source.get_absolute_url()).content.decode()
    assert "This source has been retracted by its publisher" in source_page
    assert "Fabricated data." in source_page
    assert "Retracted claims" not in source_page
    for url in ["/treatments/ldn/", "/treatments/ldn/abnormalities/low-nk/", nk.get_absolute_url()]:
        html = client.get(url).content.decode()
        assert "source retracted by its publisher" in html, url
        assert "retracted-badge" not in html, url


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------


def test_search_shows_matching_retracted_claims_apart_with_the_reason_and_counts_none(
    client, retract
):
    factories.make_evidence(statement="Sizofiran raised NK activity.")
    withdrawn = retract(
        factories.make_evidence(statement="Sizofiran is in Phase II trials for CFS."),
        "No such trial was found.",
    )
    finding = retract(
        factories.make_finding(statement="Sizofiran findings, withdrawn."), "Misattributed."
    )
    factories.make_evidence(statement="Naltrexone, unrelated.")

    response = client.get("/search/?q=sizofiran")

    html = response.content.decode()
    results = response.context["results"]
    assert [e.statement for e in results.evidence] == ["Sizofiran raised NK activity."]
    assert results.total == 1
    assert results.retracted == [withdrawn, finding]
    assert "1 result for “sizofiran”. Retracted claims that match: 2, listed apart" in html
    assert shown_reason(withdrawn) + "No such trial was found." in html
    assert shown_reason(finding) + "Misattributed." in html
    assert "Naltrexone, unrelated." not in html


def test_search_with_only_a_retracted_match_says_nothing_published_matches_and_why(client, retract):
    retract(factories.make_evidence(statement="Sizofiran trial."), "No such trial.")
    factories.make_evidence(statement="Unrelated.", status=Status.DRAFT)

    html = client.get("/search/?q=sizofiran").content.decode()

    assert (
        "Nothing published matches “sizofiran”. Retracted claims that match: 1, listed below."
        in (html)
    )
    assert "No such trial." in html


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------


def _claim(kind: str, **kwargs):
    return (factories.make_evidence if kind == "evidence" else factories.make_finding)(**kwargs)


@pytest.mark.parametrize("kind", ["evidence", "findings"])
def test_the_api_answers_a_retracted_claim_by_id_with_its_retraction(api_client, retract, kind):
    published = _claim(kind)
    withdrawn = retract(_claim(kind), "The trial was never run.")
    draft = _claim(kind, status=Status.DRAFT)

    body = api_client.get(f"/api/v1/{kind}/{withdrawn.pk}/").json()

    assert body["status"] == "retracted"
    assert body["retraction"]["reason"] == "The trial was never run."
    assert body["retraction"]["retracted_at"].startswith(withdrawn.reviewed_at.date().isoformat())
    assert api_client.get(f"/api/v1/{kind}/{published.pk}/").json()["retraction"] is None
    assert api_client.get(f"/api/v1/{kind}/{draft.pk}/").status_code == 404


@pytest.mark.parametrize("kind", ["evidence", "findings"])
def test_api_lists_leave_retracted_claims_out_unless_asked_for(
    api_client, editor_api, retract, kind
):
    published, unrelated = _claim(kind), _claim(kind)
    withdrawn = retract(_claim(kind), "Withdrawn.")
    draft = _claim(kind, status=Status.DRAFT)

    def ids(client, query=""):
        response = client.get(f"/api/v1/{kind}/{query}")
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["results"]}

    assert ids(api_client) == {published.pk, unrelated.pk}
    assert ids(api_client, "?status=retracted") == {withdrawn.pk}
    assert ids(api_client, "?status=published") == {published.pk, unrelated.pk}
    assert ids(api_client, "?status=draft") == set()
    # Staff lists follow the same rule, and may ask for their drafts.
    assert ids(editor_api) == {published.pk, unrelated.pk, draft.pk}
    assert ids(editor_api, "?status=retracted") == {withdrawn.pk}
    listed = api_client.get(f"/api/v1/{kind}/?status=retracted").json()["results"]
    assert listed[0]["retraction"]["reason"] == "Withdrawn."
    assert api_client.get(f"/api/v1/{kind}/?status=gone").status_code == 400


def test_api_therapy_summaries_count_no_retracted_evidence(api_client, retract):
    therapy = factories.make_therapy(slug="ldn")
    nk = factories.make_abnormality(slug="low-nk")
    factories.make_evidence(therapy=therapy, abnormality=nk, level=Level.C)
    retract(factories.make_evidence(therapy=therapy, abnormality=nk, level=Level.A), "Gone.")
    only_retracted = factories.make_abnormality(slug="only-retracted")
    retract(factories.make_evidence(therapy=therapy, abnormality=only_retracted), "Gone.")
    factories.make_evidence(level=Level.A)  # another therapy

    body = api_client.get("/api/v1/therapies/ldn/").json()

    assert (body["best_level"], body["supporting"], body["not_supporting"]) == ("C", 1, 0)
    assert [(a["slug"], a["best_level"], a["total"]) for a in body["abnormalities"]] == [
        ("low-nk", "C", 1)
    ]
    listed = api_client.get("/api/v1/therapies/?level=A").json()["results"]
    assert "ldn" not in {t["slug"] for t in listed}


# ---------------------------------------------------------------------------
# Rankings and summaries: the matrix, the therapy list, pair summaries, exports
# ---------------------------------------------------------------------------


def test_no_ranking_or_summary_counts_a_retracted_item(client, retract):
    nk = factories.make_abnormality(slug="low-nk")
    ldn = factories.make_therapy(slug="ldn", name="Low-dose naltrexone")
    ivig = factories.make_therapy(slug="ivig", name="IVIG")
    factories.make_evidence(therapy=ldn, abnormality=nk, level=Level.D)
    # Would make LDN the strongest, and give IVIG a cell, if counted.
    retract(factories.make_evidence(therapy=ldn, abnormality=nk, level=Level.A), "Gone.")
    retract(
        factories.make_evidence(
            therapy=ivig, abnormality=nk, level=Level.A, direction=Direction.DOES_NOT_SUPPORT
        ),
        "Gone.",
    )
    factories.make_evidence(therapy=ivig, abnormality=None, level=Level.E)

    matrix = matrix_build()
    assert set(matrix.pairs) == {(nk.pk, ldn.pk)}
    assert matrix.pairs[(nk.pk, ldn.pk)].best_level == "D"
    assert matrix.pairs[(nk.pk, ldn.pk)].total == 1

    summaries = pair_summaries([ldn.pk, ivig.pk])
    # The pair, then the therapy as a whole.
    assert [(r.best_level, r.total) for r in summaries[ldn.pk]] == [("D", 1), ("D", 1)]
    assert [r.abnormality_id for r in summaries[ivig.pk]] == [None]

    therapies = client.get("/treatments/").context["rows"]
    cards = {therapy.slug: (therapy.best_level, therapy.supporting) for therapy, _, _ in therapies}
    assert cards == {"ldn": ("D", 1), "ivig": ("E", 1)}
    assert [t.slug for t, _, _ in client.get("/treatments/?level=A").context["rows"]] == []
    assert [
        t.slug for t, _, _ in client.get("/treatments/?abnormality=low-nk").context["rows"]
    ] == ["ldn"]


def test_exports_leave_retracted_items_out_of_their_rows_and_counts(client, retract):
    nk = factories.make_abnormality(slug="low-nk")
    ldn = factories.make_therapy(slug="ldn")
    factories.make_evidence(therapy=ldn, abnormality=nk, level=Level.C)
    factories.make_finding(abnormality=nk)
    retract(factories.make_evidence(therapy=ldn, abnormality=nk, level=Level.A), "Gone.")
    retract(factories.make_finding(abnormality=nk, statement="Withdrawn finding."), "Gone.")
    factories.make_finding(statement="Unrelated finding.")

    [therapy] = client.get("/treatments/?format=json").json()["results"]
    assert (therapy["best_level"], therapy["supporting"]) == ("C", 1)
    assert therapy["abnormalities"] == ["low-nk (C for: 1 for · 0 against · 0 other)"]
    abnormalities = client.get("/abnormalities/?format=json").json()["results"]
    assert {a["slug"]: a["findings_supporting"] for a in abnormalities}["low-nk"] == 1

    data = release_data()
    assert [e["level"] for e in data["evidence"]] == ["C"]
    statements = {f["statement"] for f in data["findings"]}
    assert "Withdrawn finding." not in statements
    assert "Unrelated finding." in statements


# ---------------------------------------------------------------------------
# Feed
# ---------------------------------------------------------------------------


def test_the_feed_announces_a_retraction_as_an_entry_of_its_own_with_the_reason(client, retract):
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod")
    rnase = factories.make_abnormality(name="RNase L pathway dysfunction", slug="rnase-l")
    factories.make_evidence(therapy=therapy, abnormality=rnase, statement="Kept.")
    withdrawn = retract(
        factories.make_evidence(therapy=therapy, abnormality=rnase, statement="Withdrawn."),
        "The cited trial was never run.",
    )
    factories.make_evidence(statement="A draft.", status=Status.DRAFT)

    response = client.get("/feeds/evidence/")

    entries = ElementTree.fromstring(response.content).findall(f"{ATOM}entry")
    titles = [entry.find(f"{ATOM}title").text for entry in entries]
    # Newest first: the retraction happened last.
    assert titles == [
        "Retracted: Rintatolimod — RNase L pathway dysfunction: level B",
        "Rintatolimod — RNase L pathway dysfunction: level B",
    ]
    retraction = entries[0]
    summary = retraction.find(f"{ATOM}summary").text
    assert "The cited trial was never run." in summary
    assert "The claim was: Withdrawn." in summary
    link = retraction.find(f"{ATOM}link").get("href")
    assert link == f"http://testserver/evidence/{withdrawn.pk}/"
    pair = "http://testserver/treatments/rintatolimod/abnormalities/rnase-l/"
    # A new id: feed readers show it as news, not as a quiet edit of the old entry.
    assert retraction.find(f"{ATOM}id").text == f"{pair}#evidence-{withdrawn.pk}-retracted"
    assert entries[1].find(f"{ATOM}id").text != retraction.find(f"{ATOM}id").text


# ---------------------------------------------------------------------------
# A retracted therapy, abnormality or source asked for by its address
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "path", "missing"),
    [
        (
            lambda: factories.make_therapy(slug="sizofiran"),
            lambda r: "/treatments/sizofiran/",
            "/treatments/nothing/",
        ),
        (
            lambda: factories.make_abnormality(slug="low-nk-cell-count"),
            lambda r: "/abnormalities/low-nk-cell-count/",
            "/abnormalities/nothing/",
        ),
        (
            lambda: factories.make_source(key="uchida1992"),
            lambda r: f"/sources/{r.pk}/",
            "/sources/999999/",
        ),
    ],
)
def test_a_retracted_record_asked_for_by_its_address_says_so_with_its_reason(
    client, retract, make, path, missing
):
    record = make()
    url = path(record)
    assert client.get(url).status_code == 200
    retract(record, "Entered twice; the other record holds its evidence.")
    record.refresh_from_db()

    response = client.get(url)

    assert response.status_code == 410
    html = response.content.decode()
    assert "Retracted" in html and str(record) in html
    assert "Entered twice; the other record holds its evidence." in html
    assert dateformat.format(record.reviewed_at, "j F Y") in html
    # An address that never held a record is still a plain 404.
    assert client.get(missing).status_code == 404


def test_a_pair_page_of_a_retracted_therapy_says_the_therapy_was_retracted(client, retract):
    therapy = factories.make_therapy(slug="sizofiran")
    factories.make_abnormality(slug="low-nk-cell-cytotoxicity")
    retract(therapy, "No trial of it was found.")

    response = client.get("/treatments/sizofiran/abnormalities/low-nk-cell-cytotoxicity/")

    assert response.status_code == 410
    assert "No trial of it was found." in response.content.decode()
    assert (
        client.get("/treatments/nothing/abnormalities/low-nk-cell-cytotoxicity/").status_code == 404
    )


def test_a_draft_is_still_not_found(client):
    factories.make_therapy(slug="draft-therapy", status=Status.DRAFT)
    assert client.get("/treatments/draft-therapy/").status_code == 404
