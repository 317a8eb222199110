"""The lists of curated records in the admin: short labels, the statement's start (its
full text as the tooltip), who wrote each row and its status, every row telling itself
apart from the others, in a constant number of queries."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from curation.models import Contribution, ContributionKind, Status
from tests import factories
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db

# Every admin page for a logged-in curator starts with the same 3 queries:
# session, user, the user's permissions (own and group, one query: mecfs_kb/auth.py).
AUTH = 3

# AUTH + COUNT(*) of the filtered rows + the page of rows (with each row's author, its
# last writer's name, as a subquery of that same query, and the columns' related
# records joined), plus what the sidebar filters list.
CHANGELISTS = [
    # + DISTINCT years for the year filter
    ("findings/source", AUTH + 3),
    # + the abnormalities listed in the abnormality filter
    ("findings/finding", AUTH + 3),
    # + the therapies and the abnormalities listed in their filters
    ("treatments/therapyevidence", AUTH + 4),
    ("treatments/therapy", AUTH + 2),
    ("findings/abnormality", AUTH + 2),
    ("findings/labtest", AUTH + 2),
    # + the therapies of the therapy filter + DISTINCT jurisdictions
    ("treatments/regulatorystatus", AUTH + 4),
]


def wrote(user, record, kind=ContributionKind.EDITED) -> None:
    Contribution.objects.create(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        user=user,
        kind=kind,
    )


def fill(rows: int, author) -> None:
    """``rows`` of every curated kind, each written by ``author``."""
    with factories.rated_once():
        _fill(rows, author)


def _fill(rows: int, author) -> None:
    for _ in range(rows):
        evidence = factories.make_evidence(created_by=author)
        finding = factories.make_finding(
            source=evidence.source, abnormality=evidence.abnormality, created_by=author
        )
        status = factories.make_regulatory_status(
            therapy=evidence.therapy, source=evidence.source, created_by=author
        )
        test = factories.make_lab_test(created_by=author)
        for record in (
            evidence,
            finding,
            status,
            test,
            evidence.source,
            evidence.therapy,
            evidence.abnormality,
        ):
            wrote(author, record)


def cells(html: str, column: str) -> list[str]:
    """The text of a list column's cells, top to bottom."""
    found = re.findall(rf'<t[dh] class="field-{column}[^"]*">(.*?)</t[dh]>', html, flags=re.S)
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in found]


@pytest.mark.parametrize(("model", "queries"), CHANGELISTS)
@pytest.mark.parametrize("rows", [1, 50])
def test_every_curated_list_with_its_authors_takes_the_same_queries_for_1_and_50_rows(
    curator_client, django_assert_num_queries, model, queries, rows
):
    fill(rows, factories.make_curator(username="ana@example.org"))

    with django_assert_num_queries(queries):
        response = curator_client.get(f"/admin/{model}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert cells(html, "author") == ["ana"] * rows
    assert len(cells(html, "status_shown")) == rows


def test_the_evidence_list_shows_the_statements_start_its_author_and_status(curator_client):
    statement = (
        "At week 40, placebo-adjusted exercise tolerance improved 21.3% in the drug group, "
        "and the use of concomitant drugs fell, in patients selected for a severe course."
    )
    ana = factories.make_curator(username="ana@example.org")
    evidence = factories.make_evidence(statement=statement, status=Status.SUBMITTED, created_by=ana)

    html = curator_client.get(reverse("admin:treatments_therapyevidence_changelist"))
    html = html.content.decode()

    [shown] = cells(html, "short_statement")
    assert shown.endswith("…") and statement.startswith(shown[:-1].rstrip())
    assert len(shown) <= 80
    assert f'title="{statement}"' in html  # the full text, a pointer away
    assert cells(html, "author") == ["ana"]
    assert cells(html, "status_shown") == ["Submitted"]
    assert 'title="Submitted for review"' in html
    assert evidence.source.key in cells(html, "source_key")[0].replace("\u200b", "")


def test_choices_are_short_in_the_list_with_their_full_label_as_tooltip(curator_client):
    factories.make_evidence(level="B", link_kind="rationale", direction="describes")

    html = curator_client.get(reverse("admin:treatments_therapyevidence_changelist"))
    html = html.content.decode()

    assert cells(html, "level_shown") == ["B"]
    assert cells(html, "link_kind_shown") == ["Rationale"]
    assert cells(html, "direction_shown") == ["Describes"]
    assert 'title="B — controlled: one RCT or controlled clinical study in ME/CFS"' in html
    assert 'title="Rationale — proposed on mechanistic grounds; not measured"' in html


def test_two_items_about_the_same_pair_at_the_same_level_read_differently(curator_client):
    therapy = factories.make_therapy(name="Rintatolimod")
    abnormality = factories.make_abnormality(name="RNase L pathway dysfunction")
    first = factories.make_evidence(
        therapy=therapy, abnormality=abnormality, level="B", statement="Exercise tolerance rose."
    )
    second = factories.make_evidence(
        therapy=therapy, abnormality=abnormality, level="B", statement="Karnofsky scores rose."
    )

    # Their names, which messages, the review queue, history and autocomplete show.
    assert str(first) != str(second)
    assert str(first) == "Rintatolimod → RNase L pathway dysfunction (B) · Exercise tolerance rose."
    html = curator_client.get(reverse("admin:treatments_therapyevidence_changelist"))
    rows = cells(html.content.decode(), "short_statement")
    assert sorted(rows) == ["Exercise tolerance rose.", "Karnofsky scores rose."]


def test_findings_and_regulatory_statuses_are_told_apart_by_their_statements():
    source = factories.make_source(key="haavisto2009")
    abnormality = factories.make_abnormality(name="Low NK cell count")
    one = factories.make_finding(source=source, abnormality=abnormality, statement="Counts low.")
    two = factories.make_finding(source=source, abnormality=abnormality, statement="Counts vary.")
    assert str(one) == "Low NK cell count — haavisto2009 (B) · Counts low."
    assert str(one) != str(two)

    therapy = factories.make_therapy(name="Rintatolimod")
    kinds = {"therapy": therapy, "jurisdiction": "United States", "regulatory_status": "rejected"}
    old = factories.make_regulatory_status(statement="Refused in 2009.", **kinds)
    new = factories.make_regulatory_status(statement="Refused again in 2013.", **kinds)
    assert str(old) == "Rintatolimod: Rejected in United States · Refused in 2009."
    assert str(old) != str(new)


def test_the_author_is_the_last_writer_and_the_tooltip_names_the_creator(curator_client):
    bob = factories.make_curator(username="bob@example.org")
    ana = factories.make_curator(username="ana@example.org")
    otto = factories.make_curator(username="otto@example.org")
    evidence = factories.make_evidence(created_by=bob)
    wrote(bob, evidence, ContributionKind.CREATED)
    wrote(ana, evidence, ContributionKind.EDITED)
    # A suggestion changes nothing until it is accepted: its author did not write it.
    wrote(otto, evidence, ContributionKind.SUGGESTED)

    html = curator_client.get(reverse("admin:treatments_therapyevidence_changelist"))
    html = html.content.decode()

    assert cells(html, "author") == ["ana"]
    assert 'title="Created by bob@example.org; last written by ana@example.org."' in html


def test_a_seeded_record_without_a_curator_says_so(curator_client):
    factories.make_therapy()

    html = curator_client.get(reverse("admin:treatments_therapy_changelist")).content.decode()

    assert cells(html, "author") == ["—"]
    assert "No curator recorded" in html


def test_text_from_the_database_is_escaped_in_the_list_and_its_tooltips(curator_client):
    factories.make_evidence(statement='<script>alert("x")</script> and "quotes"')

    html = curator_client.get(reverse("admin:treatments_therapyevidence_changelist"))
    html = html.content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_a_source_retracted_by_its_publisher_says_so_under_its_status(curator_client):
    factories.make_source(retracted=True, retraction_note="Data fabricated.")

    html = curator_client.get(reverse("admin:findings_source_changelist")).content.decode()

    assert cells(html, "status_shown") == ["Publishedretracted by publisher"]


def test_the_source_list_says_which_identifiers_a_source_has(curator_client):
    factories.make_source(doi="10.1000/abc", pmid="123456", pmcid="")

    html = curator_client.get(reverse("admin:findings_source_changelist")).content.decode()

    assert cells(html, "identifiers") == ["DOI · PMID"]
    assert 'title="DOI 10.1000/abc; PMID 123456"' in html


def test_a_long_citation_key_may_wrap_between_its_words_and_is_copied_whole(curator_client):
    factories.make_source(key="reg_ampligen_amp511_eap")

    html = curator_client.get(reverse("admin:findings_source_changelist")).content.decode()

    assert "reg_<wbr>ampligen_<wbr>amp<wbr>511_<wbr>eap" in html
    assert cells(html, "key_shown") == ["reg_ampligen_amp511_eap"]


def test_every_curated_kind_is_listed_with_author_and_status_columns():
    from django.contrib import admin

    from curation.models import moderated_models

    for model in moderated_models():
        columns = admin.site._registry[model].get_list_display(None)
        assert "author" in columns, model
        assert "status_shown" in columns, model
    assert TherapyEvidence in moderated_models()
