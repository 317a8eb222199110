"""A plain-language line for every evidence item (issue 12): ``plain_summary`` on
findings and therapy evidence, needed to publish, read first on every reader page.

The reading grade is the Flesch-Kincaid grade, as textstat computes it
(findings/readability.py); every summary the project ships is at grade 9 or below.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from curation.models import Status
from findings.models import Finding
from findings.readability import PLAIN_GRADE_MAX, reading_grade, reading_grade_advice
from tests import factories
from tests.admin_helpers import change_form_data
from treatments.literature import LITERATURE_DIR
from treatments.models import TherapyEvidence
from treatments.seed import SEED_PATH, SeedError, seed_load

SEED_TEXT = SEED_PATH.read_text(encoding="utf-8")
SEED = json.loads(SEED_TEXT)
CLAIMS_PATH = LITERATURE_DIR / "claims.json"
FIXTURES = {"seed": SEED_PATH, "literature": CLAIMS_PATH}
PLAIN = "Fewer of these immune cells were found in people with ME/CFS."
HARD = (
    "Immunophenotypic characterisation demonstrated significantly diminished "
    "CD56-bright natural-killer-cell cytotoxicity, notwithstanding heterogeneous "
    "methodological considerations."
)


def _claims(path: Path) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [*data["findings"], *data["evidence"]]


# --- The measure ---------------------------------------------------------------------


def test_the_reading_grade_tells_plain_words_from_jargon():
    assert reading_grade(PLAIN) <= PLAIN_GRADE_MAX < reading_grade(HARD)
    assert reading_grade_advice(PLAIN).startswith("Reading grade ")
    assert "plain enough" in reading_grade_advice(PLAIN)
    assert "above the aim of 9" in reading_grade_advice(HARD)
    assert reading_grade_advice("  ") == "Empty: needed before the claim can be published."


# --- The fixtures: every claim the project ships has one, at grade 9 or below ----------


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_every_shipped_claim_has_a_plain_summary_at_grade_nine_or_below(fixture):
    claims = _claims(FIXTURES[fixture])
    assert claims
    missing = [c["id"] for c in claims if not (c.get("plain_summary") or "").strip()]
    assert missing == []
    hard = {
        c["id"]: reading_grade(c["plain_summary"])
        for c in claims
        if reading_grade(c["plain_summary"]) > PLAIN_GRADE_MAX
    }
    assert hard == {}


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_a_plain_summary_is_not_the_statement_again_and_names_no_citation_key(fixture):
    for claim in _claims(FIXTURES[fixture]):
        assert claim["plain_summary"] != claim["statement"], claim["id"]
        # Readers read "a trial", never a key such as fluge2019_rituximab_rct.
        assert not re.search(r"\b[a-z]+\d{4}_\w+", claim["plain_summary"]), claim["id"]


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_the_plain_summary_line_follows_the_statement_line(fixture):
    # Kept where other edits of the same files (notes, risk of bias) do not touch it.
    lines = FIXTURES[fixture].read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith('"plain_summary": '):
            assert lines[i - 1].lstrip().startswith('"statement": '), i + 1


# --- The loaded database ---------------------------------------------------------------


@pytest.mark.django_db
def test_every_claim_the_seed_publishes_has_a_plain_summary_at_grade_nine_or_below():
    seed_load()
    published = [*Finding.objects.published(), *TherapyEvidence.objects.published()]
    assert len(published) == len(SEED["findings"]) + len(SEED["evidence"])
    assert [c.pk for c in published if not c.plain_summary.strip()] == []
    assert [c.pk for c in published if c.plain_summary_grade > PLAIN_GRADE_MAX] == []


@pytest.mark.django_db
def test_the_seed_loader_refuses_to_publish_a_claim_without_a_plain_summary(tmp_path):
    data = copy.deepcopy(SEED)
    del data["evidence"][0]["plain_summary"]
    (tmp_path / "seed.json").write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(SeedError, match=r"summary \(plain_summary\) is empty"):
        seed_load(path=tmp_path / "seed.json")
    assert not TherapyEvidence.objects.exists()  # nothing was written


@pytest.mark.django_db
def test_load_seed_fills_the_summaries_of_an_existing_database_and_keeps_a_curators_own():
    # A database loaded before the field existed: its claims hold it empty.
    seed_load()
    Finding.objects.update(plain_summary="")
    TherapyEvidence.objects.update(plain_summary="")
    [item] = [c for c in SEED["evidence"] if c["id"] == "s09-ldn-nk"]
    mine = TherapyEvidence.objects.get(statement=item["statement"])
    TherapyEvidence.objects.filter(pk=mine.pk).update(plain_summary="A curator's own words.")

    report = seed_load()  # as `load_seed` runs it: no --update

    assert report.updated["finding"] == len(SEED["findings"])
    assert report.updated["therapy evidence"] == len(SEED["evidence"]) - 1
    [item] = [c for c in SEED["findings"] if c["id"] == "s09-lnks"]
    record = Finding.objects.get(statement=item["statement"])
    assert record.plain_summary == item["plain_summary"]
    [addition] = [a for a in SEED["field_additions"] if a["fields"] == ["plain_summary"]]
    assert record.history.first().history_change_reason == addition["note"]
    assert len(addition["note"]) <= 100
    mine.refresh_from_db()
    assert mine.plain_summary == "A curator's own words."
    # Loading again changes nothing.
    again = seed_load()
    assert not again.updated.get("finding") and not again.updated.get("therapy evidence")


# --- The admin: beside the statement, with its grade; a hard one is a warning ------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("admin_name", "make"),
    [
        ("findings_finding", factories.make_finding),
        ("treatments_therapyevidence", factories.make_evidence),
    ],
)
def test_the_admin_shows_the_summary_under_the_statement_with_its_reading_grade(admin_name, make):
    curator = factories.make_curator()
    record = make(status=Status.DRAFT, created_by=curator, plain_summary=PLAIN)
    client = Client()
    client.force_login(curator)
    page = client.get(reverse(f"admin:{admin_name}_change", args=[record.pk]))
    html = page.content.decode()
    order = [html.index(f"field-{name}") for name in ("statement", "plain_summary", "quote")]
    assert order == sorted(order)
    assert "Aim for a reading grade of 9 or below" in html  # the help text
    assert f"Reading grade {reading_grade(PLAIN):g}: plain enough" in html


@pytest.mark.django_db
@pytest.mark.parametrize(("summary", "warned"), [(PLAIN, False), (HARD, True), ("", False)])
def test_saving_a_hard_to_read_summary_warns_but_saves(summary, warned):
    curator = factories.make_curator()
    record = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    client = Client()
    client.force_login(curator)
    url = reverse("admin:treatments_therapyevidence_change", args=[record.pk])
    data = change_form_data(client.get(url))
    data["plain_summary"] = summary

    response = client.post(url, data, follow=True)

    warnings = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert bool(warnings) is warned
    if warned:
        assert "the plain-language summary is hard to read" in warnings[0]
        assert "above the aim of 9" in warnings[0]
    record.refresh_from_db()
    assert record.plain_summary == summary


# --- The API ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("findings", factories.make_finding),
        ("evidence", factories.make_evidence),
    ],
)
def test_the_api_carries_the_summary_after_the_statement(path, make):
    record = make(plain_summary=PLAIN)
    body = APIClient().get(f"/api/v1/{path}/{record.pk}/").json()
    keys = list(body)
    assert body["plain_summary"] == PLAIN
    assert keys.index("plain_summary") == keys.index("statement") + 1


# --- Reader pages: the first line of every card --------------------------------------


def _first_line_is_the_summary(html: str, anchor: str, summary: str) -> None:
    card = html[html.index(f'id="{anchor}"') :]
    card = card[: card.index("</article>")]
    assert card.index('class="plain-summary"') < card.index('class="evidence-head"')
    assert summary in card


@pytest.mark.django_db
def test_every_reader_page_opens_each_card_with_its_plain_summary(client):
    therapy = factories.make_therapy(slug="ldn")
    nk = factories.make_abnormality(slug="nk")
    source = factories.make_source()
    evidence = factories.make_evidence(
        therapy=therapy, abnormality=nk, source=source, plain_summary="The drug helped a few."
    )
    general = factories.make_evidence(
        therapy=therapy, abnormality=None, source=source, plain_summary="Nobody was helped."
    )
    finding = factories.make_finding(abnormality=nk, source=source, plain_summary=PLAIN)

    pair = client.get(reverse("treatments:pair-evidence", args=["ldn", "nk"])).content.decode()
    _first_line_is_the_summary(pair, f"evidence-{evidence.pk}", "The drug helped a few.")
    page = client.get(therapy.get_absolute_url()).content.decode()
    _first_line_is_the_summary(page, f"evidence-{general.pk}", "Nobody was helped.")
    page = client.get(nk.get_absolute_url()).content.decode()
    _first_line_is_the_summary(page, f"finding-{finding.pk}", PLAIN)
    page = client.get(source.get_absolute_url()).content.decode()
    _first_line_is_the_summary(page, f"evidence-{evidence.pk}", "The drug helped a few.")
    _first_line_is_the_summary(page, f"finding-{finding.pk}", PLAIN)


@pytest.mark.django_db
def test_search_results_show_the_plain_summary_before_the_level(client):
    factories.make_evidence(statement="Naltrexone restored TRPM3 currents.", plain_summary=PLAIN)
    html = client.get("/search/?q=TRPM3").content.decode()
    item = html[html.index('<ul class="results-list">') :]
    assert PLAIN in item
    assert item.index(PLAIN) < item.index("Naltrexone restored")


@pytest.mark.django_db
def test_the_evidence_feed_gives_the_plain_summary_first(client):
    factories.make_evidence(statement="A statement in jargon.", plain_summary=PLAIN)
    feed = client.get(reverse("treatments:evidence-feed")).content.decode()
    assert feed.index(PLAIN) < feed.index("A statement in jargon.")


@pytest.mark.django_db
def test_the_preview_of_a_draft_without_a_summary_says_it_is_needed_to_publish(client):
    curator = factories.make_curator()
    draft = factories.make_evidence(status=Status.DRAFT, created_by=curator, plain_summary="")
    client.force_login(curator)
    page = client.get(
        reverse("curation:preview-record", args=["treatments", "therapyevidence", draft.pk])
    ).content.decode()
    assert "Before it can be published:" in page
    assert "Its plain-language summary (plain_summary) is empty" in page
