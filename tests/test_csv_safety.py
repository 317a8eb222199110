"""Every CSV the project writes is safe to open in a spreadsheet (OWASP "CSV Injection"):
a cell starting with =, +, -, @, a tab or a carriage return is prefixed with a single
quote, in the reader pages' downloads and in data releases alike; a release still
round-trips exactly, because an import reads knowledge_base.json."""

import csv
import hashlib
import io
import json

import pytest

from curation.csvfile import csv_safe_cell, csv_write
from findings.models import Finding, Source
from tests import factories
from treatments.knowledge_base import CURATED_MODELS
from treatments.models import RegulatoryStatus, Therapy, TherapyEvidence
from treatments.releases import MANIFEST, release_export, release_import

HYPERLINK = '=HYPERLINK("http://x","y")'
SUM = "@SUM(A1)"
CMD = "+cmd|' /C calc'!A0"
MINUS = "-2+3"


@pytest.mark.parametrize(
    "value", [HYPERLINK, SUM, CMD, MINUS, "\t=1+1", "\r=1+1", "=", "-", "@", "+"]
)
def test_a_cell_starting_like_a_formula_gets_a_leading_quote(value):
    assert csv_safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["Low NK cytotoxicity", "A=B", " =1", "'quoted", "", -2, 3.5, None, True]
)
def test_other_cells_are_written_as_they_are(value):
    assert csv_safe_cell(value) == value


def test_the_writer_neutralises_every_cell_but_keeps_the_header():
    out = io.StringIO()

    csv_write(out, fieldnames=["a", "b"], rows=[{"a": HYPERLINK, "b": 1}, {"a": "x", "b": SUM}])

    assert out.getvalue().startswith("\ufeffa,b")  # the byte-order mark Excel needs
    assert list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff")))) == [
        ["a", "b"],
        ["'" + HYPERLINK, "1"],
        ["x", "'" + SUM],
    ]


@pytest.mark.django_db
def test_the_reader_source_download_neutralises_formulas(client):
    for title in (HYPERLINK, SUM, CMD, MINUS):
        factories.make_source(title=title)
    factories.make_source(title="Plain title", authors=SUM, container=CMD)

    response = client.get("/sources/?format=csv")

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(row["title"] for row in rows) == sorted(
        ["'" + HYPERLINK, "'" + SUM, "'" + CMD, "'" + MINUS, "Plain title"]
    )
    plain = next(row for row in rows if row["title"] == "Plain title")
    assert (plain["authors"], plain["container"]) == ("'" + SUM, "'" + CMD)


@pytest.mark.django_db
def test_the_reader_therapy_download_neutralises_formulas_in_joined_lists(client):
    factories.make_therapy(name=MINUS, aliases=f"{CMD}\nLDN")

    response = client.get("/treatments/?format=csv")

    [row] = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert row["name"] == "'" + MINUS
    assert row["aliases"] == f"'{CMD}; LDN"


def build_formula_knowledge_base() -> None:
    source = factories.make_source(key="formula_source", title=HYPERLINK, authors=MINUS)
    abnormality = factories.make_abnormality(slug="low-nk", component=CMD)
    therapy = factories.make_therapy(slug="ldn", mechanism=SUM)
    factories.make_finding(source=source, abnormality=abnormality, statement=SUM, quote=CMD)
    factories.make_evidence(
        therapy=therapy, abnormality=abnormality, source=source, statement=CMD, curator_note=MINUS
    )
    factories.make_regulatory_status(therapy=therapy, source=source, statement=HYPERLINK)


def csv_table(directory, name: str) -> list[dict[str, str]]:
    return list(
        csv.DictReader(io.StringIO((directory / f"{name}.csv").read_text(encoding="utf-8-sig")))
    )


@pytest.mark.django_db
def test_release_csvs_neutralise_formulas_and_the_manifest_checksums_the_written_files(
    tmp_path,
):
    build_formula_knowledge_base()

    release_export(directory=tmp_path, release="r1")

    [source] = csv_table(tmp_path, "sources")
    assert (source["title"], source["authors"]) == ("'" + HYPERLINK, "'" + MINUS)
    [finding] = csv_table(tmp_path, "findings")
    assert (finding["statement"], finding["quote"]) == ("'" + SUM, "'" + CMD)
    [evidence] = csv_table(tmp_path, "evidence")
    assert (evidence["statement"], evidence["curator_note"]) == ("'" + CMD, "'" + MINUS)
    assert csv_table(tmp_path, "therapies")[0]["mechanism"] == "'" + SUM
    assert csv_table(tmp_path, "abnormalities")[0]["component"] == "'" + CMD
    assert csv_table(tmp_path, "regulatory_statuses")[0]["statement"] == "'" + HYPERLINK
    # The JSON keeps the exact values.
    data = json.loads((tmp_path / "knowledge_base.json").read_text())
    assert data["sources"][0]["title"] == HYPERLINK
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    for name, meta in manifest["files"].items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == meta["sha256"]


@pytest.mark.django_db
def test_a_release_with_formula_like_values_imports_them_exactly(tmp_path):
    build_formula_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    for model in reversed(CURATED_MODELS):  # children first: their links protect parents
        model.objects.all().delete()

    release_import(directory=tmp_path)

    source = Source.objects.get(key="formula_source")
    assert (source.title, source.authors) == (HYPERLINK, MINUS)
    finding = Finding.objects.get()
    assert (finding.statement, finding.quote) == (SUM, CMD)
    evidence = TherapyEvidence.objects.get()
    assert (evidence.statement, evidence.curator_note) == (CMD, MINUS)
    assert Therapy.objects.get().mechanism == SUM
    assert evidence.abnormality.component == CMD
    assert RegulatoryStatus.objects.get().statement == HYPERLINK
