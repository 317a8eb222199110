"""Data releases: export the published knowledge base, import it into an empty one."""

import datetime
import hashlib
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from curation.models import Status
from findings.models import Abnormality, Finding, GlossaryTerm, LabTest, Source
from tests import factories
from treatments.models import (
    CertaintyOverride,
    Harm,
    PairCertainty,
    RegulatoryStatus,
    Therapy,
    TherapyEvidence,
)
from treatments.releases import (
    MANIFEST,
    RELEASE_JSON,
    RELEASE_TABLES,
    ReleaseError,
    release_export,
    release_import,
)

pytestmark = pytest.mark.django_db

CURATED = (
    GlossaryTerm,
    CertaintyOverride,
    Harm,
    RegulatoryStatus,
    TherapyEvidence,
    Finding,
    LabTest,
    Therapy,
    Abnormality,
    Source,
)


def build_knowledge_base() -> dict:
    source = factories.make_source(
        key="brenu2011_nk",
        doi="10.1186/1479-5876-9-81",
        pmid="21619669",
        published_on=datetime.date(2011, 5, 27),
        title="Immunological abnormalities — a study, with “quotes”, commas; and ünïcode",
    )
    other_source = factories.make_source(key="web2025", year=None, kind="web_article")
    nk = factories.make_abnormality(slug="low-nk-cell-cytotoxicity", aliases="LNKS\nNK dysfunction")
    igg = factories.make_abnormality(slug="igg3-subclass-deficiency")
    test = factories.make_lab_test(slug="nk-cytotoxicity-assay")
    test.abnormalities.set([nk, igg])
    therapy = factories.make_therapy(slug="low-dose-naltrexone", aliases="LDN")
    finding = factories.make_finding(
        source=source, abnormality=nk, lab_test=test, quote="verbatim words", level="B"
    )
    counter = factories.make_finding(source=other_source, abnormality=nk, direction="mixed")
    finding.contradicted_by.add(counter)
    general = factories.make_evidence(therapy=therapy, abnormality=None, source=other_source)
    specific = factories.make_evidence(therapy=therapy, abnormality=nk, source=source)
    specific.contradicted_by.add(general)
    specific.contradicting_findings.add(counter)
    factories.make_regulatory_status(
        therapy=therapy, source=source, date=datetime.date(2016, 8, 1), date_note=""
    )
    factories.make_harm(
        therapy=therapy,
        source=source,
        effect="Vivid dreams",
        frequency="",
        quote="",
        severity="mild",
    )
    factories.make_harm(therapy=therapy, source=source, effect="Withdrawn harm", status="retracted")
    # An editor's ratings: of the pair, and of the therapy as a whole; and one still a draft.
    CertaintyOverride.objects.create(
        therapy=therapy,
        abnormality=nk,
        certainty="very_low",
        net_direction="uncertain",
        reason="The trial's NK results were not reported by arm.",
        status=Status.PUBLISHED,
    )
    CertaintyOverride.objects.create(
        therapy=therapy, certainty="low", reason="One small trial.", status=Status.PUBLISHED
    )
    CertaintyOverride.objects.create(
        therapy=therapy, abnormality=igg, certainty="high", reason="A draft.", status=Status.DRAFT
    )
    # The glossary: a term defined from a source, one from a page read, one a draft; and
    # one whose source is a draft (the term is public, its unpublished source not named).
    GlossaryTerm.objects.create(
        term="E:T ratio",
        slug="e-t-ratio",
        written="E:T ratios\neffector-to-target ratio",
        definition="How many killer cells were mixed with each target cell in the test.",
        source=source,
        status=Status.PUBLISHED,
    )
    GlossaryTerm.objects.create(
        term="Hedges g",
        slug="hedges-g",
        definition="A measure of how far apart two groups are, in standard deviations.",
        source_note="A page read: the meta-analysis's methods.",
        status=Status.PUBLISHED,
    )
    GlossaryTerm.objects.create(
        term="CD56bright", slug="cd56bright", definition="A draft.", status=Status.DRAFT
    )
    # Not in a release: a draft, a retracted claim, a claim on a draft source.
    draft_source = factories.make_source(key="draft_source", status=Status.DRAFT)
    factories.make_therapy(slug="draft-therapy", status=Status.DRAFT)
    factories.make_evidence(therapy=therapy, abnormality=nk, source=source, status=Status.RETRACTED)
    factories.make_finding(source=draft_source, abnormality=nk)
    GlossaryTerm.objects.create(
        term="NKH1+T3-",
        slug="nkh1-t3",
        definition="NK cells as an older marker names them.",
        source=draft_source,
        status=Status.PUBLISHED,
    )
    return {"finding": finding, "specific": specific}


def empty_the_knowledge_base() -> None:
    for model in CURATED:
        model.objects.all().delete()


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def rewrite(directory: Path, name: str, payload: bytes) -> None:
    """Change a file AND its checksum, as someone who knows the format would."""
    (directory / name).write_bytes(payload)
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["files"][name]["sha256"] = hashlib.sha256(payload).hexdigest()
    (directory / MANIFEST).write_text(json.dumps(manifest))


def test_it_exports_only_published_records_with_a_manifest_of_counts_and_checksums(tmp_path):
    build_knowledge_base()

    manifest = release_export(directory=tmp_path, release="2026.11.21")

    assert manifest.counts == {
        "sources": 2,
        "abnormalities": 2,
        "lab_tests": 1,
        "therapies": 1,
        "findings": 2,
        "evidence": 2,
        "regulatory_statuses": 1,
        "harms": 1,
        "certainty_overrides": 2,
        "glossary_terms": 3,
    }
    written = json.loads((tmp_path / MANIFEST).read_text())
    assert written["release"] == "2026.11.21"
    assert written["created_at"]
    for name, meta in written["files"].items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == meta["sha256"]
    assert set(written["files"]) == {RELEASE_JSON, *(f"{t}.csv" for t in RELEASE_TABLES)}
    data = json.loads((tmp_path / RELEASE_JSON).read_text())
    assert "draft_source" not in {s["key"] for s in data["sources"]}
    assert "draft-therapy" not in {t["slug"] for t in data["therapies"]}
    assert all(e["therapy"] == "low-dose-naltrexone" for e in data["evidence"])
    assert [(h["therapy"], h["source"], h["effect"]) for h in data["harms"]] == [
        ("low-dose-naltrexone", "brenu2011_nk", "Vivid dreams")
    ]
    assert "harms" not in data["therapies"][0]  # the old free text is not released
    assert written["format_version"] == data["format_version"] == 4
    assert [(g["slug"], g["source"]) for g in data["glossary_terms"]] == [
        ("e-t-ratio", "brenu2011_nk"),
        ("hedges-g", None),
        ("nkh1-t3", None),  # its source is a draft: not named
    ]
    assert [f["plain_summary"] for f in data["findings"]] == [
        "What this finding means, in plain words."
    ] * 2
    assert [
        (o["therapy"], o["abnormality"], o["certainty"], o["net_direction"])
        for o in data["certainty_overrides"]
    ] == [
        ("low-dose-naltrexone", None, "low", ""),
        ("low-dose-naltrexone", "low-nk-cell-cytotoxicity", "very_low", "uncertain"),
    ]
    csv_lines = (tmp_path / "sources.csv").read_text(encoding="utf-8-sig").splitlines()
    assert csv_lines[0].startswith("key,kind,title")
    assert len(csv_lines) == 3


def test_export_import_export_gives_identical_files(tmp_path):
    build_knowledge_base()
    first, second = tmp_path / "first", tmp_path / "second"
    release_export(directory=first, release="r1")

    empty_the_knowledge_base()
    report = release_import(directory=first)
    release_export(directory=second, release="r1")

    assert report.counts["evidence"] == 2
    a, b = files_of(first), files_of(second)
    assert a.keys() == b.keys()
    for name in a:
        if name != MANIFEST:
            assert a[name] == b[name], name
    manifest_a, manifest_b = json.loads(a[MANIFEST]), json.loads(b[MANIFEST])
    manifest_a.pop("created_at"), manifest_b.pop("created_at")
    assert manifest_a == manifest_b


def test_an_imported_release_keeps_links_contradictions_and_identifiers(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    empty_the_knowledge_base()

    release_import(directory=tmp_path)

    source = Source.objects.get(key="brenu2011_nk")
    assert source.status == Status.PUBLISHED
    assert source.doi == "10.1186/1479-5876-9-81"
    assert source.published_on == datetime.date(2011, 5, 27)
    test = LabTest.objects.get(slug="nk-cytotoxicity-assay")
    assert {a.slug for a in test.abnormalities.all()} == {
        "low-nk-cell-cytotoxicity",
        "igg3-subclass-deficiency",
    }
    finding = Finding.objects.get(source=source)
    assert finding.quote == "verbatim words"
    assert finding.contradicted_by.get().direction == "mixed"
    specific = TherapyEvidence.objects.get(abnormality__slug="low-nk-cell-cytotoxicity")
    assert specific.contradicted_by.get().abnormality is None
    assert specific.contradicting_findings.count() == 1
    assert RegulatoryStatus.objects.get().date == datetime.date(2016, 8, 1)
    assert Therapy.objects.get().history.first().history_change_reason == "Imported from release r1"
    assert specific.plain_summary == "What this evidence means, in plain words."


def test_an_imported_release_keeps_the_editors_overrides_and_the_ratings_show_them(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    empty_the_knowledge_base()

    release_import(directory=tmp_path)

    override = CertaintyOverride.objects.get(abnormality__slug="low-nk-cell-cytotoxicity")
    assert (override.status, override.certainty, override.net_direction) == (
        Status.PUBLISHED,
        "very_low",
        "uncertain",
    )
    assert override.reason == "The trial's NK results were not reported by arm."
    rating = PairCertainty.objects.get(abnormality__slug="low-nk-cell-cytotoxicity")
    assert rating.override_id == override.pk
    assert CertaintyOverride.objects.filter(abnormality=None).get().certainty == "low"
    assert not CertaintyOverride.objects.filter(status=Status.DRAFT).exists()


def _as_older_format(directory: Path, version: int) -> None:
    """Rewrite a release as format ``version`` wrote it: 3 had no glossary; 2 had no
    plain summaries and no overrides either."""
    data = json.loads((directory / RELEASE_JSON).read_text())
    data["format_version"] = version
    dropped = ["glossary_terms"]
    if version == 2:
        for table in ("findings", "evidence"):
            for row in data[table]:
                del row["plain_summary"]
        dropped.append("certainty_overrides")
    for table in dropped:
        del data[table]
    rewrite(directory, RELEASE_JSON, json.dumps(data).encode())
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["format_version"] = version
    for table in dropped:
        (directory / f"{table}.csv").unlink()
        del manifest["files"][f"{table}.csv"]
        del manifest["counts"][table]
    (directory / MANIFEST).write_text(json.dumps(manifest))


def _as_format_2(directory: Path) -> None:
    _as_older_format(directory, 2)


def test_a_format_3_release_imports_without_a_glossary(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="v3")
    _as_older_format(tmp_path, 3)
    empty_the_knowledge_base()

    report = release_import(directory=tmp_path)

    assert report.counts["glossary_terms"] == 0
    assert report.drafts == 0
    assert not GlossaryTerm.objects.exists()
    assert CertaintyOverride.objects.count() == 2


def test_the_glossary_comes_back_published_with_its_sources(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    empty_the_knowledge_base()

    release_import(directory=tmp_path)

    terms = {g.slug: g for g in GlossaryTerm.objects.select_related("source")}
    assert set(terms) == {"e-t-ratio", "hedges-g", "nkh1-t3"}
    assert {g.status for g in terms.values()} == {Status.PUBLISHED}
    assert terms["e-t-ratio"].source.key == "brenu2011_nk"
    assert terms["e-t-ratio"].written_list == ["E:T ratios", "effector-to-target ratio"]
    assert terms["hedges-g"].source is None
    assert terms["hedges-g"].source_note == "A page read: the meta-analysis's methods."


def test_a_format_2_release_imports_its_claims_as_drafts_awaiting_a_plain_summary(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="old")
    _as_format_2(tmp_path)
    empty_the_knowledge_base()

    report = release_import(directory=tmp_path)

    assert report.drafts == 4  # 2 findings, 2 evidence items
    assert report.counts["certainty_overrides"] == 0
    claims = [*Finding.objects.all(), *TherapyEvidence.objects.all()]
    assert {(c.status, c.plain_summary) for c in claims} == {(Status.DRAFT, "")}
    reason = Finding.objects.first().history.first().history_change_reason
    assert reason.startswith("Imported from release old, as a draft: Its plain-language summary")
    assert Source.objects.filter(status=Status.PUBLISHED).count() == 2  # the rest is public
    assert not CertaintyOverride.objects.exists()


def test_a_release_of_an_unknown_format_version_is_refused(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["format_version"] = 1
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    empty_the_knowledge_base()

    with pytest.raises(ReleaseError, match="format version 1 is not supported"):
        release_import(directory=tmp_path)


def test_it_refuses_to_import_into_a_database_that_is_not_empty(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    before = Source.objects.count()

    with pytest.raises(ReleaseError, match="The database is not empty"):
        release_import(directory=tmp_path)
    assert Source.objects.count() == before


def test_a_tampered_file_is_refused_and_nothing_is_written(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    empty_the_knowledge_base()
    csv_path = tmp_path / "therapies.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b"LDN", b"XYZ"))

    with pytest.raises(ReleaseError, match=r"therapies\.csv does not match its checksum"):
        release_import(directory=tmp_path)
    assert not Source.objects.exists()


def test_a_missing_file_is_refused(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    empty_the_knowledge_base()
    (tmp_path / "findings.csv").unlink()

    with pytest.raises(ReleaseError, match=r"findings\.csv is missing"):
        release_import(directory=tmp_path)


def test_malformed_json_is_refused(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    empty_the_knowledge_base()
    rewrite(tmp_path, RELEASE_JSON, b'{"sources": [')

    with pytest.raises(ReleaseError, match="is not valid JSON"):
        release_import(directory=tmp_path)


def test_a_broken_reference_is_refused_and_nothing_is_written(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    empty_the_knowledge_base()
    data = json.loads((tmp_path / RELEASE_JSON).read_text())
    data["evidence"][-1]["source"] = "no_such_source"
    rewrite(tmp_path, RELEASE_JSON, json.dumps(data).encode())

    with pytest.raises(ReleaseError, match="refers to source 'no_such_source'"):
        release_import(directory=tmp_path)
    # Sources, therapies and findings came before the bad row: all rolled back.
    for model in CURATED:
        assert not model.objects.exists(), model


def test_an_invalid_value_is_refused_with_the_record_named(tmp_path):
    build_knowledge_base()
    release_export(directory=tmp_path, release="r1")
    empty_the_knowledge_base()
    data = json.loads((tmp_path / RELEASE_JSON).read_text())
    data["sources"][0]["doi"] = "not a doi"
    rewrite(tmp_path, RELEASE_JSON, json.dumps(data).encode())

    with pytest.raises(ReleaseError, match=r"source 'brenu2011_nk'.*not a DOI"):
        release_import(directory=tmp_path)
    assert not Source.objects.exists()


def test_the_commands_export_and_import_and_explain_failures(tmp_path, capsys):
    build_knowledge_base()
    call_command("export_release", str(tmp_path / "rel"), "--release", "r9")
    assert "Release r9 written" in capsys.readouterr().out

    with pytest.raises(CommandError, match="nothing was written: The database is not empty"):
        call_command("import_release", str(tmp_path / "rel"))

    empty_the_knowledge_base()
    call_command("import_release", str(tmp_path / "rel"))
    assert "Release r9 imported" in capsys.readouterr().out
    assert Source.objects.count() == 2

    with pytest.raises(CommandError, match="already holds a release"):
        call_command("export_release", str(tmp_path / "rel"))
    with pytest.raises(CommandError, match=r"no manifest\.json"):
        call_command("import_release", str(tmp_path / "nowhere"))


def test_the_seed_knowledge_base_survives_a_round_trip(tmp_path):
    from treatments.seed import seed_load

    seed_load()
    first, second = tmp_path / "first", tmp_path / "second"
    manifest = release_export(directory=first, release="seed")
    assert manifest.counts["evidence"] == TherapyEvidence.objects.published().count() > 0
    assert manifest.counts["harms"] == Harm.objects.published().count() > 0
    empty_the_knowledge_base()

    release_import(directory=first)
    release_export(directory=second, release="seed")

    a, b = files_of(first), files_of(second)
    assert [n for n in a if n != MANIFEST and a[n] != b[n]] == []
