"""Citations out: BibTeX (bibtexparser) and RIS (rispy) for one source and for any
filtered list, on the reader pages and in the API; what is exported imports back as
duplicates only."""

import bibtexparser
import pytest
import rispy
from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation.models import Status
from curation.versions import data_version_current
from findings.citations import sources_bibtex, sources_ris
from findings.importing import import_preview, import_read
from tests import factories

pytestmark = pytest.mark.django_db

# From shared/data/references.json: brenu2011_nk, cabanas2021_ldn_trpm3, gow2001_rnasel_negative.
BRENU = {
    "key": "brenu2011_nk",
    "title": "Immunological abnormalities as potential biomarkers in Chronic Fatigue "
    "Syndrome/Myalgic Encephalomyelitis",
    "authors": "Ekua W Brenu, Mieke L van Driel, Don R Staines",
    "container": "Journal of Translational Medicine",
    "year": 2011,
    "doi": "10.1186/1479-5876-9-81",
}
CABANAS = {
    "key": "cabanas2021_ldn_trpm3",
    "title": "Potential Therapeutic Benefit of Low Dose Naltrexone in Myalgic "
    "Encephalomyelitis/Chronic Fatigue Syndrome: Role of Transient Receptor Potential "
    "Melastatin 3 Ion Channels in Pathophysiology and Treatment",
    "authors": "Helene Cabanas, Katsuhiko Muraki",
    "container": "Frontiers in Immunology",
    "year": 2021,
    "doi": "10.3389/fimmu.2021.687806",
    "pmid": "34326841",
}
GOW = {
    "key": "gow2001_rnasel_negative",
    "title": "Antiviral pathway activation in patients with chronic fatigue syndrome and "
    "acute infection",
    "authors": "Gow JW, Simpson K, Behan PO, Chaudhuri A, McKay IC, Behan WM",
    "container": "Clin Infect Dis",
    "year": 2001,
    "doi": "10.1086/324357",
    "pmid": "11698994",
}


def version() -> int:
    current = data_version_current()
    return current.number if current else 0


def test_bibtex_is_written_by_bibtexparser_and_reads_back():
    source = factories.make_source(**GOW)

    library = bibtexparser.parse_string(sources_bibtex([source]))

    entry = library.entries[0]
    assert entry.key == "gow2001_rnasel_negative"
    assert entry.entry_type == "article"
    fields = {f.key: f.value for f in entry.fields}
    assert fields["author"].startswith("Gow, J. W. and Simpson, K. and Behan, P. O.")
    assert fields["doi"] == "10.1086/324357"
    assert fields["pmid"] == "11698994"
    assert fields["journal"] == "Clin Infect Dis"


def test_ris_is_written_by_rispy_and_reads_back():
    source = factories.make_source(**CABANAS)

    record = rispy.loads(sources_ris([source]))[0]

    assert record["type_of_reference"] == "JOUR"
    assert record["title"] == CABANAS["title"]
    assert record["authors"] == ["Helene Cabanas", "Katsuhiko Muraki"]
    assert record["doi"] == "10.3389/fimmu.2021.687806"
    assert record["accession_number"] == "34326841"
    assert record["secondary_title"] == "Frontiers in Immunology"
    assert record["year"] == "2021"


def test_the_source_page_shows_bibtex_and_ris_and_downloads_them(client):
    source = factories.make_source(**BRENU)

    html = client.get(source.get_absolute_url()).content.decode()
    assert "@article{brenu2011_nk," in html
    assert "TY  - JOUR" in html and "DO  - 10.1186/1479-5876-9-81" in html

    bib = client.get(source.get_absolute_url(), {"format": "bibtex"})
    assert bib["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert bib["Content-Disposition"] == (f'attachment; filename="brenu2011_nk-v{version()}.bib"')
    ris = client.get(source.get_absolute_url(), {"format": "ris"})
    assert ris["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert rispy.loads(ris.content.decode())[0]["doi"] == BRENU["doi"]


def test_an_unknown_citation_format_on_a_source_page_is_a_400_naming_it(client):
    source = factories.make_source()

    response = client.get(source.get_absolute_url(), {"format": "endnote"})

    assert response.status_code == 400
    assert "must be bibtex or ris" in response.content.decode()


def test_the_source_list_downloads_its_filtered_rows_as_bibtex_and_ris(client):
    factories.make_source(**BRENU)
    factories.make_source(**GOW)
    factories.make_source(key="draft", title="A draft", year=2011, status=Status.DRAFT)

    response = client.get("/sources/", {"year_min": "2010", "format": "bibtex"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="sources-v{version()}.bib"'
    keys = [e.key for e in bibtexparser.parse_string(response.content.decode()).entries]
    assert keys == ["brenu2011_nk"]
    ris = client.get("/sources/", {"format": "ris"})
    assert {r["id"] for r in rispy.loads(ris.content.decode())} == {
        "brenu2011_nk",
        "gow2001_rnasel_negative",
    }
    assert "format=bibtex" in client.get("/sources/").content.decode()


def test_a_bad_format_on_the_list_is_a_400_naming_the_choices(client):
    response = client.get("/sources/", {"format": "endnote"})

    assert response.status_code == 400
    assert "must be csv, json, bibtex or ris." in response.content.decode()


@pytest.mark.parametrize("rows", [1, 50])
def test_a_list_download_reads_one_query_whatever_its_length(client, rows):
    for n in range(rows):
        factories.make_source(key=f"s{n}", title=f"Study {n}", year=2000 + n % 20)
    client.get("/sources/", {"format": "bibtex"})  # warm the data version

    # Queries: the sources, and the data version for the file name.
    with CaptureQueriesContext(connection) as queries:
        client.get("/sources/", {"format": "bibtex"})
    assert len(queries) == 2


def test_the_api_answers_bibtex_and_ris_for_a_filtered_list_and_one_source(api_client):
    brenu = factories.make_source(**BRENU)
    factories.make_source(**GOW)

    response = api_client.get("/api/v1/sources/", {"format": "bibtex", "year_min": "2010"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="sources-v{version()}.bib"'
    assert [e.key for e in bibtexparser.parse_string(response.content.decode()).entries] == [
        "brenu2011_nk"
    ]
    one = api_client.get(f"/api/v1/sources/{brenu.pk}/", {"format": "ris"})
    assert one["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert rispy.loads(one.content.decode())[0]["id"] == "brenu2011_nk"


def test_an_api_error_asked_as_bibtex_is_still_the_json_error_body(api_client):
    response = api_client.get("/api/v1/sources/", {"format": "bibtex", "year_min": "abc"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "year_min" in response.json()["errors"]


@pytest.mark.parametrize("citation_format", ["bibtex", "ris"])
def test_an_export_imported_again_is_all_duplicates(client, citation_format):
    factories.make_source(**BRENU)
    factories.make_source(**CABANAS)
    factories.make_source(**GOW)
    factories.make_source(
        key="patent",
        kind="patent",
        title="Method for treatment of chronic fatigue syndrome",
        url="https://patents.google.com/patent/US5424300",
    )

    exported = client.get("/sources/", {"format": citation_format}).content
    imported = import_preview(import_read(exported, filename="export"))

    assert [e.verdict for e in imported.entries] == ["duplicate"] * 4
