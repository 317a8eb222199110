"""Importing sources from BibTeX, RIS, PubMed (MEDLINE) and CSL-JSON files: verdicts,
drafts with history, errors that create nothing, the command and the admin's two steps.

The files under tests/data/import/ are built from shared/data/references.json
(make_fixtures.py there); the identifiers asserted below are copied from it.
"""

from __future__ import annotations

import random
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Status
from findings.importing import ImportFileError, import_preview, import_read
from findings.models import Source, SourceImportFile
from tests import factories

DATA = Path(__file__).parent / "data" / "import"
BRENU_DOI = "10.1186/1479-5876-9-81"
BRENU_TITLE = (
    "Immunological abnormalities as potential biomarkers in Chronic Fatigue "
    "Syndrome/Myalgic Encephalomyelitis"
)

pytestmark = pytest.mark.django_db


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def preview(data: bytes, name: str = "refs.bib", file_format: str | None = None):
    return import_preview(import_read(data, filename=name, file_format=file_format))


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_sources", *args, stdout=out)
    return out.getvalue()


def verdicts(imported) -> list[str]:
    return [entry.verdict for entry in imported.entries]


# --- the four formats ------------------------------------------------------------------


def test_a_bibtex_file_gives_new_duplicate_within_the_file_and_invalid_entries():
    imported = preview(read("refs.bib"))

    assert imported.file_format == "bibtex"
    assert verdicts(imported) == ["new"] * 5 + ["duplicate_in_file", "invalid"]
    brenu = imported.entries[0].values
    assert brenu["title"] == BRENU_TITLE
    assert brenu["doi"] == BRENU_DOI
    assert brenu["container"] == "Journal of Translational Medicine"
    assert brenu["year"] == 2011
    assert brenu["kind"] == "journal_article"
    assert brenu["authors"].startswith("Ekua W Brenu, Mieke L van Driel, Don R Staines")
    assert imported.entries[0].key == "brenu2011_immunological"
    # LaTeX is decoded: {\"u} is ü, {\ss} is ß.
    kim = imported.entries[3]
    assert "Oliver Müller" in kim.values["authors"] and "Lukas Reeß" in kim.values["authors"]
    assert kim.values["kind"] == "preprint"  # @unpublished
    assert kim.values["doi"] == "10.1101/2025.10.29.25339096"  # from its doi.org link
    assert imported.entries[4].values["kind"] == "patent"
    assert imported.entries[5].matches[0].known.entry == 1  # the same DOI, as a link
    assert imported.entries[6].reasons == ["Title: This field cannot be blank."]
    assert imported.counts_line() == "new 5, duplicate 1, invalid 1"


def test_a_ris_file_reads_the_pmid_from_an_and_the_trial_number_from_its_link():
    imported = preview(read("refs.ris"), "refs.ris")

    assert imported.file_format == "ris"
    assert verdicts(imported) == ["new"] * 4
    lutz = imported.entries[1].values
    assert lutz["pmid"] == "34572574"
    assert lutz["doi"] == "10.3390/biom11091359"
    assert lutz["container"] == "Biomolecules"
    assert lutz["year"] == 2021
    gow = imported.entries[2].values
    assert gow["authors"] == "Gow JW, Simpson K, Behan PO, Chaudhuri A, McKay IC, Behan WM"
    trial = imported.entries[3].values
    assert trial["kind"] == "trial_registry"
    assert trial["nct_id"] == "NCT02965768"


def test_a_pubmed_file_in_medline_format_reads_ids_types_and_wrapped_titles():
    imported = preview(read("pubmed.nbib"), "pubmed.nbib")

    assert imported.file_format == "medline"
    assert verdicts(imported) == ["new"] * 5
    brownlie = imported.entries[0].values
    assert brownlie["pmid"] == "34828592"
    assert brownlie["doi"] == "10.3390/healthcare9111546"
    assert brownlie["title"] == (
        "Back to the Future? Immunoglobulin Therapy for Myalgic "
        "Encephalomyelitis/Chronic Fatigue Syndrome"
    )
    assert brownlie["publication_type"] == "Journal Article; Review"
    assert brownlie["kind"] == "review"
    assert brownlie["authors"] == "Brownlie H, Speight N"
    rowe = imported.entries[1].values
    assert rowe["publication_type"] == "Journal Article; Randomized Controlled Trial"
    assert rowe["kind"] == "journal_article"


def test_a_csl_json_file_reads_names_dates_and_identifiers():
    imported = preview(read("refs.json"), "refs.json")

    assert imported.file_format == "csl-json"
    assert verdicts(imported) == ["new"] * 4
    curriu = imported.entries[0].values
    assert curriu["doi"] == "10.1186/1479-5876-11-68"
    assert "José Alegre" in curriu["authors"]
    assert imported.entries[3].values["pmid"] == "23682549"
    assert imported.entries[3].values["authors"].startswith("Akarsu S, Tekin L")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("refs.bib", "bibtex"),
        ("refs.ris", "ris"),
        ("pubmed.nbib", "medline"),
        ("refs.json", "csl-json"),
    ],
)
def test_the_format_is_told_from_the_content(name, expected):
    assert import_read(read(name), filename="upload.txt").file_format == expected


# --- duplicates of existing sources ----------------------------------------------------


def test_an_entry_with_the_doi_of_a_source_is_a_duplicate_naming_it():
    existing = factories.make_source(key="brenu2011_nk", doi=BRENU_DOI.upper(), year=2011)

    entry = preview(read("refs.bib")).entries[0]

    assert entry.verdict == "duplicate"
    assert entry.matches[0].known.pk == existing.pk
    assert entry.matches[0].on == "doi"
    assert entry.matches[0].known.admin_url == reverse(
        "admin:findings_source_change", args=[existing.pk]
    )


def test_a_near_identical_title_of_the_same_year_is_a_duplicate_with_its_score():
    factories.make_source(key="brenu", title=BRENU_TITLE + ".", year=2011)
    other_year = factories.make_source(key="cabanas", title="Low Dose Naltrexone", year=1999)

    entries = preview(read("refs.bib")).entries

    assert entries[0].verdict == "duplicate"
    match = entries[0].matches[0]
    assert match.on == "title" and match.score >= 95
    assert "in the same year" in match.reason
    assert all(m.known.pk != other_year.pk for e in entries for m in e.matches)


def test_a_title_of_another_year_is_not_a_duplicate():
    factories.make_source(title=BRENU_TITLE, year=2012)

    assert preview(read("refs.bib")).entries[0].verdict == "new"


def test_a_pmid_or_a_trial_number_of_a_source_makes_a_duplicate():
    factories.make_source(pmid="34572574")
    factories.make_source(nct_id="NCT02965768", kind="trial_registry")

    assert verdicts(preview(read("refs.ris"), "refs.ris")) == [
        "new",
        "duplicate",
        "new",
        "duplicate",
    ]


def test_a_key_already_taken_gets_a_number():
    factories.make_source(key="brenu2011_immunological", title="Another paper")

    assert preview(read("refs.bib")).entries[0].key == "brenu2011_immunological_2"


def test_an_invalid_doi_is_refused_by_the_models_own_validation():
    data = read("refs.bib").replace(BRENU_DOI.encode(), b"10.1186", 1)

    entry = preview(data).entries[0]

    assert entry.verdict == "invalid"
    assert entry.reasons == [
        "DOI: 10.1186 is not a DOI. A DOI starts with 10., a registrant code of 4 to 9 "
        "digits, a slash and a suffix, for example 10.1186/1479-5876-9-81."
    ]


def test_a_title_over_the_limit_is_invalid_with_the_limit_named_never_cut():
    data = read("refs.bib").replace(BRENU_TITLE.encode(), b"A" * 600, 1)

    entry = preview(data).entries[0]

    assert entry.verdict == "invalid"
    assert "at most 500 characters (it has 600)" in entry.reasons[0]


# --- the command -----------------------------------------------------------------------


def test_a_dry_run_prints_the_verdicts_and_writes_nothing():
    out = run(str(DATA / "refs.bib"), "--dry-run")

    assert out.strip().splitlines()[-1] == "new 5, duplicate 1, invalid 1"
    assert "brenu2011_immunological" in out
    assert "Title: This field cannot be blank." in out
    assert Source.objects.count() == 0
    assert Source.history.count() == 0


def test_the_command_creates_drafts_whose_history_names_the_file_and_the_importer():
    ana = factories.make_curator(username="ana@example.org")

    out = run(str(DATA / "pubmed.nbib"), "--user", "ana@example.org")

    assert out.strip().splitlines()[-1] == "new 5, duplicate 0, invalid 0"
    created = Source.objects.all()
    assert created.count() == 5
    assert {s.status for s in created} == {Status.DRAFT}
    assert {s.created_by_id for s in created} == {ana.pk}
    record = Source.objects.get(pmid="34828592")
    last = record.history.first()
    assert last.history_change_reason == "Imported from pubmed.nbib by ana@example.org"
    assert last.history_user_id == ana.pk


def test_importing_the_same_file_again_creates_nothing_new():
    factories.make_curator(username="ana@example.org")
    run(str(DATA / "refs.bib"), "--user", "ana@example.org")

    out = run(str(DATA / "refs.bib"), "--user", "ana@example.org")

    assert Source.objects.count() == 5
    assert out.strip().splitlines()[-1] == "new 0, duplicate 6, invalid 1"


def test_imported_drafts_are_never_published():
    factories.make_editor(username="erin@example.org")

    run(str(DATA / "refs.json"), "--user", "erin@example.org")

    assert not Source.objects.published().exists()


def test_the_command_without_a_user_refuses_and_writes_nothing():
    with pytest.raises(CommandError, match="--user"):
        run(str(DATA / "refs.bib"))
    assert Source.objects.count() == 0


def test_a_user_who_may_not_add_sources_creates_nothing():
    factories.make_user(username="reader")

    with pytest.raises(CommandError, match="only curators and editors"):
        run(str(DATA / "refs.bib"), "--user", "reader")
    assert Source.objects.count() == 0


# --- files that cannot be imported: a clear error, nothing created -----------------------

BAD_FILES = [
    # (file bytes, given format, what the message says)
    (
        b"@article{x,\n  title = {Unclosed,\n  year = 2011\n}\n@article{y, title={ok}}\n",
        "bibtex",
        "cannot be read at line",
    ),
    (
        read("refs.ris").rsplit(b"ER  - ", 1)[0],
        "ris",
        "has no closing 'ER  -' line",
    ),
    (
        read("pubmed.nbib") + b"\nthis line is not MEDLINE\n",
        "medline",
        "is not a MEDLINE line",
    ),
    (b'[{"title": "x",}]', "csl-json", "cannot be read at line 1"),
    (b"[1, 2]", "csl-json", "item 1 is not an object"),
    (read("refs.ris"), "bibtex", "It looks like a RIS file"),
    (read("refs.bib"), "medline", "It looks like a BibTeX file"),
    (b"Just some notes, no references.\n", None, "could not be told"),
]


@pytest.mark.parametrize(("data", "file_format", "message"), BAD_FILES)
def test_a_malformed_or_wrong_format_file_gets_a_clear_error(data, file_format, message):
    with pytest.raises(ImportFileError, match=re.escape(message)):
        import_read(data, filename="upload", file_format=file_format)
    assert Source.objects.count() == 0


def test_a_latin_1_file_is_refused_saying_it_is_not_utf_8(tmp_path):
    factories.make_curator(username="ana@example.org")
    latin = read("refs.json").decode("utf-8").encode("latin-1")
    path = tmp_path / "refs.json"
    path.write_bytes(latin)

    with pytest.raises(CommandError, match="not UTF-8 text: the byte 0xE9 on line"):
        run(str(path), "--user", "ana@example.org")
    assert Source.objects.count() == 0


def test_a_utf_16_file_is_refused_by_name():
    data = read("refs.bib").decode("utf-8").encode("utf-16")

    with pytest.raises(ImportFileError, match="UTF-16 text, not UTF-8"):
        import_read(data, filename="refs.bib")


def test_a_file_over_the_size_limit_is_refused_naming_the_limit_and_its_setting(settings, tmp_path):
    settings.SOURCE_IMPORT_MAX_MB = 1
    factories.make_curator(username="ana@example.org")
    path = tmp_path / "big.bib"
    path.write_bytes(read("refs.bib") * 1000)

    with pytest.raises(
        CommandError, match=r"at most 1 MB are imported \(the setting SOURCE_IMPORT_MAX_MB\)"
    ):
        run(str(path), "--user", "ana@example.org")
    assert Source.objects.count() == 0


# --- no query per entry ------------------------------------------------------------------


def bibtex_file(entries: int) -> bytes:
    """``entries`` entries like refs.bib's first record, each with its own DOI and a title
    of words drawn from refs.bib's titles (unlike each other, so none is a duplicate)."""
    text = read("refs.bib").decode()
    record = text.split("\n\n")[0]
    words = sorted(set(re.findall(r"[A-Za-z]{4,}", text)))
    rng = random.Random(11)
    titles = [" ".join(rng.sample(words, 10)) for _ in range(entries)]
    return "\n\n".join(
        record.replace("{10.1186/1479-5876-9-81}", f"{{10.1186/1479-5876-9-81.{n}}}").replace(
            BRENU_TITLE, f"{titles[n]} {n}"
        )
        for n in range(entries)
    ).encode()


@pytest.mark.parametrize("entries", [10, 200])
def test_a_preview_reads_the_sources_in_one_query_whatever_the_number_of_entries(entries):
    factories.make_source(doi=BRENU_DOI)
    factories.make_source(title="Another title", year=2011)
    imported = import_read(bibtex_file(entries), filename="many.bib")

    # Queries: every source's identifiers, title and year (SourceIndex.load), once.
    with CaptureQueriesContext(connection) as queries:
        import_preview(imported)

    assert len(queries) == 1
    assert [e.verdict for e in imported.entries] == ["new"] * entries


# --- the admin's two steps -------------------------------------------------------------


def upload(client, name: str, data: bytes, file_format: str = ""):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("admin:findings_source_import"),
        {"file": SimpleUploadedFile(name, data), "file_format": file_format},
    )


def test_the_sources_list_links_to_the_import_page(curator_client):
    response = curator_client.get(reverse("admin:findings_source_changelist"))

    assert reverse("admin:findings_source_import") in response.content.decode()
    assert "Import BibTeX / RIS / PubMed file" in response.content.decode()


def test_a_curator_uploads_checks_the_preview_and_creates_the_ticked_drafts(
    curator_client, curator
):
    existing = factories.make_source(key="cabanas2021_ldn_trpm3", pmid="34326841", year=2021)

    response = upload(curator_client, "refs.bib", read("refs.bib"))
    assert response.status_code == 302
    preview_url = response["Location"]
    page = curator_client.get(preview_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "new 4" in html and "duplicate 2" in html and "invalid 1" in html
    assert reverse("admin:findings_source_change", args=[existing.pk]) in html
    assert "Title: This field cannot be blank." in html
    # New entries are ticked; duplicates and invalid ones cannot be.
    assert html.count('name="entry"') == 4
    assert html.count(" checked ") == 4

    # Tick two; the browser also sends a duplicate's number and junk, which are ignored.
    done = curator_client.post(preview_url, {"entry": ["1", "3", "2", "x"]})

    assert done.status_code == 302
    created = Source.objects.exclude(pk=existing.pk)
    assert sorted(created.values_list("key", flat=True)) == [
        "brenu2011_immunological",
        "nishikai1992_chronic",
    ]
    assert {s.status for s in created} == {Status.DRAFT}
    reason = created.first().history.first().history_change_reason
    assert reason == f"Imported from refs.bib by {curator.username}"
    assert not SourceImportFile.objects.exists()  # the stored file is gone


def test_the_choice_names_entries_only_the_server_reads_the_stored_file_again(curator_client):
    response = upload(curator_client, "refs.bib", read("refs.bib"))
    # Someone adds the same paper between the preview and the choice.
    factories.make_source(doi=BRENU_DOI)

    curator_client.post(
        response["Location"], {"entry": ["1"], "title": "Forged", "doi": "10.9999/forged"}
    )

    assert Source.objects.count() == 1  # entry 1 is a duplicate now: not created
    assert not Source.objects.filter(title="Forged").exists()


def test_another_curator_cannot_use_someone_elses_upload(curator_client):
    response = upload(curator_client, "refs.bib", read("refs.bib"))
    other = factories.make_curator()
    curator_client.force_login(other)

    page = curator_client.get(response["Location"], follow=True)

    assert "That upload is not there any more" in page.content.decode()
    assert curator_client.post(response["Location"], {"entry": ["1"]}).status_code == 302
    assert Source.objects.count() == 0


def test_an_expired_upload_is_refused(curator_client, settings):
    response = upload(curator_client, "refs.bib", read("refs.bib"))
    stored = SourceImportFile.objects.get()
    from datetime import timedelta

    SourceImportFile.objects.filter(pk=stored.pk).update(
        created_at=stored.created_at - timedelta(minutes=settings.SOURCE_IMPORT_KEEP_MINUTES + 1)
    )

    curator_client.post(response["Location"], {"entry": ["1"]})

    assert Source.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("refs.ris", read("refs.ris"), "It looks like a RIS file"),
        ("refs.json", "Alegre José".encode("latin-1"), "is not UTF-8"),
    ],
)
def test_an_upload_that_cannot_be_imported_is_an_error_at_the_file_field(
    curator_client, name, data, message
):
    response = upload(curator_client, name, data, file_format="bibtex")

    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert message in errors[0]
    assert not SourceImportFile.objects.exists()


def test_an_oversize_upload_names_the_limit(curator_client, settings):
    settings.SOURCE_IMPORT_MAX_MB = 1

    response = upload(curator_client, "big.bib", read("refs.bib") * 1000)

    assert "files of at most 1 MB" in response.context["form"].errors["file"][0]


def test_a_reader_without_the_add_permission_cannot_import(client):
    staff = factories.make_user(username="staffer", is_staff=True)
    client.force_login(staff)

    assert client.get(reverse("admin:findings_source_import")).status_code == 403


@pytest.mark.parametrize("entries", [10, 200])
def test_the_preview_page_reads_the_same_number_of_queries_whatever_the_file(
    curator_client, entries
):
    factories.make_source(doi=BRENU_DOI)
    url = upload(curator_client, "many.bib", bibtex_file(entries))["Location"]
    curator_client.get(url)  # warm the permission and content type caches

    # Queries: session, user, the user's permissions, own and through groups in one
    # query (the add permission), the stored file, and the sources (one,
    # SourceIndex.load).
    with CaptureQueriesContext(connection) as queries:
        response = curator_client.get(url)

    assert response.status_code == 200
    assert len(queries) == QUERIES_PREVIEW


QUERIES_PREVIEW = 5
