"""The seed knowledge base (fixtures/seed.json) and its loader.

The seed is loaded once for the module (inside a transaction rolled back at the end)
and each test reads it inside its own savepoint. The checks against the checked
references and the seed articles read /work/shared/data through a path relative to
the repository: the app never reads it, the tests must.
"""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from curation.models import Status
from findings.models import Abnormality, Finding, LabTest, Source
from treatments.models import Harm, RegulatoryStatus, Therapy, TherapyEvidence
from treatments.seed import SEED_PATH, SeedError, seed_load

REPO = Path(__file__).resolve().parent.parent
SEED = json.loads(SEED_PATH.read_text(encoding="utf-8"))
SEED_2025 = "seed2025_cfs_immunotherapy"
SEED_2009 = "haavisto2009_eir"
SEED_TEXTS = {SEED_2025: "000_da4475890d5ff020.txt", SEED_2009: "003_c12a2a2ea246ee4d.txt"}
MODELS = (Abnormality, LabTest, Therapy, Source, Finding, TherapyEvidence, RegulatoryStatus, Harm)
# Sources that are not in references.json: the seed articles, this knowledge base's own
# reference check, and a page read with the search tool (each says so in its note).
NOT_REFERENCES = {*SEED_TEXTS, "kb_reference_check", "nursecom2013_fda_hbot_alert"}


def _shared_data() -> Path:
    """The shared data folder: ``$MECFS_SHARED_DATA``, else ``shared/data`` beside the
    repository or beside one of its parent folders (CI: ``../shared``; a worktree in
    ``wt/<name>``: ``../../shared``). Missing data fails the test, never skips it."""
    override = os.environ.get("MECFS_SHARED_DATA")
    candidates = [Path(override)] if override else [p / "shared" / "data" for p in REPO.parents]
    for folder in candidates:
        if (folder / "references.json").is_file():
            return folder
    pytest.fail(f"shared data not found (looked for references.json in {candidates})")


@pytest.fixture(scope="module")
def shared_data() -> Path:
    return _shared_data()


@pytest.fixture(scope="module")
def all_references(shared_data) -> dict[str, dict]:
    return {r["key"]: r for r in json.loads((shared_data / "references.json").read_text())}


@pytest.fixture(scope="module")
def references(all_references) -> dict[str, dict]:
    """The references the seed cites: all but those whose title was never verified
    (a source is never shown under a placeholder title; issue 13, item 12)."""
    return {key: ref for key, ref in all_references.items() if ref["title"] is not None}


@pytest.fixture(scope="module")
def seed_texts(shared_data) -> dict[str, str]:
    return {
        key: (shared_data / "seeds" / name).read_text(encoding="utf-8")
        for key, name in SEED_TEXTS.items()
    }


@pytest.fixture(scope="module")
def first_load(django_db_setup, django_db_blocker):
    """Load the seed once for the whole module; roll it back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        report = seed_load()
        yield report
        transaction.set_rollback(True)


@pytest.fixture
def seeded(first_load, db):
    return first_load


def _source(key: str) -> Source:
    """The Source for a citation key, following the seed's ``same_as`` aliases."""
    aliases = {s["key"]: s["same_as"] for s in SEED["sources"] if "same_as" in s}
    return Source.objects.get(key=aliases.get(key, key))


def _claims_of(source: Source) -> list[Finding | TherapyEvidence]:
    return [*source.findings.all(), *source.therapy_evidence.all()]


def _seed_claim(model, **lookup):
    return model.objects.get(source__key__in=SEED_TEXTS, **lookup)


# --- loading ----------------------------------------------------------------------------


def test_it_creates_every_record_of_the_seed_on_first_load(seeded):
    expected = {
        "abnormality": len(SEED["abnormalities"]),
        "lab test": len(SEED["lab_tests"]),
        "therapy": len(SEED["therapies"]),
        "source": len([s for s in SEED["sources"] if "same_as" not in s]),
        "finding": len(SEED["findings"]),
        "therapy evidence": len(SEED["evidence"]),
        "regulatory status": len(SEED["regulatory_statuses"]),
        "harm": len(SEED["harms"]),
    }
    assert seeded.created == expected
    assert not seeded.updated
    assert Finding.objects.count() == expected["finding"]
    assert TherapyEvidence.objects.count() == expected["therapy evidence"]


def test_loading_again_changes_nothing(seeded):
    def snapshot():
        counts = {model.__name__: model.objects.count() for model in MODELS}
        counts["lab test links"] = LabTest.abnormalities.through.objects.count()
        counts["finding contradictions"] = Finding.contradicted_by.through.objects.count()
        counts["evidence contradictions"] = TherapyEvidence.contradicted_by.through.objects.count()
        counts["evidence contradicted by findings"] = (
            TherapyEvidence.contradicting_findings.through.objects.count()
        )
        return counts

    before = snapshot()
    out = StringIO()
    call_command("load_seed", stdout=out)
    call_command("load_seed", "--update", stdout=out)

    assert snapshot() == before
    assert " 1 created" not in out.getvalue()
    # Each model's line twice; the glossary's once (the first command creates it: the
    # module's seed was loaded by seed_load alone).
    assert out.getvalue().count("0 created, 0 updated") == 2 * len(MODELS) + 1


def test_a_malformed_seed_writes_nothing(seeded, tmp_path):
    bad = tmp_path / "seed.json"
    bad.write_text(
        json.dumps(
            {
                "abnormalities": [
                    {
                        "slug": "brand-new-abnormality",
                        "name": "Brand new abnormality",
                        "category": "cellular",
                        "component": "NK cells",
                        "change": "decreased",
                        "summary": "x",
                    }
                ],
                "sources": [{"key": "alias", "same_as": "no-such-source"}],
            }
        )
    )
    with pytest.raises(SeedError, match="no-such-source"):
        seed_load(path=bad)
    assert not Abnormality.objects.filter(slug="brand-new-abnormality").exists()


def test_everything_in_the_seed_is_published_and_visible(seeded):
    for model in MODELS:
        assert not model.objects.exclude(status=Status.PUBLISHED).exists(), model.__name__
        assert model.objects.published().count() == model.objects.count(), model.__name__


# --- what the seed contains -------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "aliases"),
    [
        ("low-dose-naltrexone", ["LDN"]),
        ("inosine-pranobex", ["Isoprinosine", "Imunovir"]),
        ("ivig", ["IVIG"]),
        ("rintatolimod", ["Ampligen", "poly(I):poly(C12U)"]),
        ("sizofiran", []),
        ("autologous-lymph-node-cell-therapy", []),
        ("hyperbaric-oxygen-therapy", ["HBOT"]),
    ],
)
def test_it_has_the_seven_therapies_with_their_aliases(seeded, slug, aliases):
    therapy = Therapy.objects.get(slug=slug)
    assert set(aliases) <= set(therapy.alias_list)
    assert therapy.summary and therapy.mechanism
    assert Therapy.objects.count() == 7


def test_therapy_names_and_stages_follow_the_sources(seeded):
    assert Therapy.objects.get(slug="ivig").name == "Intravenous immunoglobulin"
    assert Therapy.objects.get(slug="low-dose-naltrexone").name == "Low-dose naltrexone"
    # Approved for severe ME/CFS in Argentina (reg_ampligen_argentina_2016).
    assert Therapy.objects.get(slug="rintatolimod").stage == "approved"
    # Licensed for viral diseases, not for CFS (reg_inosine_pranobex_*).
    assert Therapy.objects.get(slug="inosine-pranobex").stage == "off_label"
    # No source we hold reports a harm of sizofiran: its page says so (tests/test_harms.py).
    assert not Therapy.objects.get(slug="sizofiran").harms.exists()


def test_it_has_the_canonical_abnormalities(seeded):
    canonical = {
        "low-nk-cell-cytotoxicity",
        "low-nk-cell-count",
        "igg1-subclass-deficiency",
        "igg3-subclass-deficiency",
        "elevated-igg4",
        "rnase-l-pathway-dysfunction",
        "impaired-t-cell-proliferation",
        "th1-to-th2-shift",
        "chronic-immune-activation",
        "nk-cell-trpm3-dysfunction",
        "cytokine-dysregulation",
        "abnormal-cell-mediated-immunity",
    }
    assert canonical <= set(Abnormality.objects.values_list("slug", flat=True))
    assert not Abnormality.objects.filter(summary="").exists()
    assert "LNKS" in Abnormality.objects.get(slug="low-nk-cell-cytotoxicity").alias_list


def test_every_abnormality_has_at_least_one_sourced_claim(seeded):
    assert not Abnormality.objects.filter(
        findings__isnull=True, therapy_evidence__isnull=True
    ).exists()


@pytest.mark.parametrize(
    ("slug", "availability", "abnormality"),
    [
        ("igg-subclass-panel", "specialist", "igg1-subclass-deficiency"),
        ("nk-cell-count", "specialist", "low-nk-cell-count"),
        ("nk-cell-function", "specialist", "low-nk-cell-cytotoxicity"),
        ("rnase-l-assay", "research_only", "rnase-l-pathway-dysfunction"),
        ("white-blood-cell-count", "routine", None),
    ],
)
def test_it_has_the_five_lab_tests_with_the_availability_the_2009_article_gives(
    seeded, slug, availability, abnormality
):
    test = LabTest.objects.get(slug=slug)
    assert test.availability == availability
    if abnormality:
        assert test.abnormalities.filter(slug=abnormality).exists()
    # The 2009 article's sentence about the test is a finding on it.
    assert test.findings.filter(source__key=SEED_2009).exists()
    assert LabTest.objects.count() == 5


def test_it_has_both_seed_articles_as_sources(seeded):
    web_2025 = Source.objects.get(key=SEED_2025)
    assert web_2025.title.startswith("Chronic Fatigue Syndrome (CFS) and Immunotherapy")
    assert web_2025.authors == ""
    assert "No author or publisher is named" in web_2025.verification_note
    assert str(web_2025.published_on) == "2025-05-09"

    eir_2009 = Source.objects.get(key=SEED_2009)
    assert eir_2009.authors == "Maija Haavisto"
    assert eir_2009.container == "The Environmental Illness Resource (EiR)"
    assert eir_2009.year == 2009
    assert eir_2009.published_on is None  # only the month (May 2009) is known
    assert {web_2025.kind, eir_2009.kind} == {"web_article"}


def test_every_reference_is_a_source_with_its_fields_exactly_as_checked(
    seeded, all_references, references
):
    assert len(all_references) == 53
    assert len(references) == 52
    # A source the seed corrected since (issue 17: a DOI and a full author list read on
    # the publisher's page) holds the seed's corrected values, with the correction's note.
    corrected = {s["key"]: s for s in SEED["sources"] if "correction" in s}
    for key, ref in references.items():
        source = _source(key)
        fixed = corrected.get(key, {})
        # DOIs are case-insensitive and stored in lower case (findings.fields.DOIField).
        assert source.doi == (fixed.get("doi", ref["doi"]) or "").lower(), key
        assert source.pmid == (ref["pmid"] or ""), key
        assert source.year == ref["year"], key
        assert source.authors == (fixed.get("authors", ref["authors"]) or ""), key
        assert source.container == (ref["journal"] or ""), key
        assert source.url == (ref["link"] or ""), key
        assert source.title == ref["title"], key
        seen = "Fields seen on a stored copy of a public page: " + ", ".join(ref["verified_fields"])
        assert seen in source.verification_note, key
        if ref["notes"]:
            assert ref["notes"] in source.verification_note, key


def test_a_document_listed_under_two_keys_is_one_source(seeded, references):
    baseline, trial = references["peterson1990_igg_baseline"], references["peterson1990_ivig"]
    assert baseline["doi"] == trial["doi"]
    assert _source("peterson1990_igg_baseline") == _source("peterson1990_ivig")
    assert "peterson1990_igg_baseline" in _source("peterson1990_ivig").verification_note


def test_every_reference_makes_at_least_one_claim(seeded, references):
    for key, ref in references.items():
        source = _source(key)
        if ref["kind"] == "regulatory":
            assert source.regulatory_statuses.exists(), key
        else:
            assert _claims_of(source), key


def test_reference_claims_state_the_checked_summary_and_quote_nothing(seeded, references):
    claims = [
        *Finding.objects.exclude(source__key__in=NOT_REFERENCES).select_related("source"),
        *TherapyEvidence.objects.exclude(source__key__in=NOT_REFERENCES).select_related("source"),
    ]
    summaries = {_source(key).pk: set() for key in references}
    for key, ref in references.items():
        summaries[_source(key).pk].add(ref["outcome_summary"])
    directions = {"supports", "does_not_support", "mixed", "describes"}
    assert claims
    for claim in claims:
        assert claim.quote == "", claim
        assert claim.statement in summaries[claim.source_id], claim
        assert claim.direction in directions


def test_every_seed_article_quote_is_verbatim_in_the_article(seeded, seed_texts):
    claims = [
        *Finding.objects.filter(source__key__in=SEED_TEXTS).select_related("source"),
        *TherapyEvidence.objects.filter(source__key__in=SEED_TEXTS).select_related("source"),
    ]
    assert len(claims) > 20
    for claim in claims:
        assert claim.quote, claim
        assert claim.quote in seed_texts[claim.source.key], claim.quote
        assert claim.level == "E", claim


def test_quotes_keep_the_articles_curly_apostrophes(seeded):
    claim = _seed_claim(
        Finding, abnormality__slug="low-nk-cell-cytotoxicity", source__key=SEED_2025
    )
    assert "body\u2019s ability" in claim.quote


@pytest.mark.parametrize(
    ("key", "therapy", "abnormality", "link_kind", "level"),
    [
        ("polo2019_ldn", "low-dose-naltrexone", "low-nk-cell-cytotoxicity", "rationale", "C"),
        ("strayer2012_amp516", "rintatolimod", "rnase-l-pathway-dysfunction", "rationale", "B"),
        # 40 of 49 had the abnormality: not selected for it (issue 13, item 3).
        ("lloyd1990_ivig", "ivig", "abnormal-cell-mediated-immunity", "rationale", "B"),
        # Pathway changes not compared with an untreated group (issue 13, item 1).
        (
            "suhadolnik1994_invivo_rnasel",
            "rintatolimod",
            "rnase-l-pathway-dysfunction",
            "measured",
            "C",
        ),
        # A pilot whose NK result is not a drug-vs-placebo comparison (issue 13, item 2).
        ("isoprinosine_pilot", "inosine-pranobex", "low-nk-cell-cytotoxicity", "measured", "C"),
        ("bmjcr2020_ldn_cases", "low-dose-naltrexone", None, "", "C"),  # case series
        ("peterson1990_ivig", "ivig", "igg1-subclass-deficiency", "measured", "B"),
        (
            "cabanas2021_ldn_trpm3",
            "low-dose-naltrexone",
            "nk-cell-trpm3-dysfunction",
            "measured",
            "D",
        ),
        ("kim2025_hbot_preprint", "hyperbaric-oxygen-therapy", None, "", "C"),
    ],
)
def test_evidence_link_kinds_and_levels_follow_the_reference_notes(
    seeded, key, therapy, abnormality, link_kind, level
):
    item = TherapyEvidence.objects.get(
        source=_source(key), therapy__slug=therapy, abnormality__slug=abnormality
    )
    assert (item.link_kind, item.level) == (link_kind, level)


def test_lloyd_1990_is_not_tied_to_igg_subclass_deficiency(seeded):
    lloyd = TherapyEvidence.objects.filter(source__key="lloyd1990_ivig")
    assert not lloyd.filter(abnormality__slug__contains="igg").exists()


def test_the_meta_analysis_is_the_only_level_a_item(seeded):
    assert list(Finding.objects.filter(level="A").values_list("source__key", flat=True)) == [
        "baraniuk2024_nk_meta"
    ]
    assert not TherapyEvidence.objects.filter(level="A").exists()


def test_the_lnks_case_series_is_about_lentinan_not_sizofiran(seeded):
    source = Source.objects.get(key="aoki_lnks")
    assert not source.therapy_evidence.exists()
    finding = source.findings.get()
    assert "lentinan" in finding.curator_note and "NOT sizofiran" in finding.curator_note
    assert source.authors == "" and source.year is None


def test_regulatory_statuses_come_from_the_regulatory_references(seeded, references):
    argentina = RegulatoryStatus.objects.get(therapy__slug="rintatolimod", jurisdiction="Argentina")
    assert argentina.regulatory_status == "approved_mecfs"
    assert argentina.source.key == "reg_ampligen_argentina_2016"
    assert argentina.date is None and "2016" in argentina.date_note
    regulatory_keys = {key for key, ref in references.items() if ref["kind"] == "regulatory"}
    assert set(RegulatoryStatus.objects.values_list("source__key", flat=True)) == regulatory_keys
    # A status without a verified day says what is known instead.
    assert not RegulatoryStatus.objects.filter(date__isnull=True, date_note="").exists()


# --- seed claims the references contradict --------------------------------------------------


def test_the_sizofiran_phase_ii_claim_is_paired_with_the_finding_that_no_trial_was_found(seeded):
    """Issue 13.5: a review and a patent only describe sizofiran; what contradicts "in
    Phase II trials" is that no trial was found, stated as a finding of its own."""
    claim = _seed_claim(TherapyEvidence, therapy__slug="sizofiran")
    assert "currently in Phase II trials for CFS" in claim.quote
    assert claim.level == "E" and "no Phase II" in claim.curator_note
    [finding] = claim.contradicted_by.all()
    assert finding.source.key == "kb_reference_check"
    assert finding.source.kind == "curators_check"
    assert finding.statement.startswith("No trial of sizofiran in CFS was found")
    # It names only what the references say was searched, and says what they leave out.
    assert "PubMed, PMC, journal pages, trial registries" in finding.curator_note
    assert "do not name which registries or databases were searched" in finding.curator_note


def test_the_reference_check_source_quotes_the_note_it_rests_on(seeded, references, shared_data):
    note = references["uchida1992_sizofiran_review"]["notes"]
    corpus = (
        "PubMed, PMC, journal pages, trial registries, regulators' and companies' announcements"
    )
    source = Source.objects.get(key="kb_reference_check")
    assert note in source.verification_note
    assert corpus in source.verification_note
    readme = " ".join((shared_data / "README.md").read_text(encoding="utf-8").split())
    assert corpus in readme
    assert source.authors == "" and source.year is None and source.url == ""


def test_the_low_nk_count_claim_is_paired_with_normal_nk_counts(seeded):
    claim = _seed_claim(Finding, abnormality__slug="low-nk-cell-count", lab_test=None)
    assert "low numbers of natural killer cells" in claim.quote
    assert claim.source.key == SEED_2009 and claim.level == "E"
    contradicting = claim.contradicted_by.get()
    assert contradicting.source.key == "curriu2013_nk"
    assert contradicting.direction == "does_not_support"
    assert "cytotoxicity" in claim.curator_note


def test_the_ivig_for_igg_subclass_claim_is_paired_with_the_negative_trial(seeded):
    for slug in ("igg1-subclass-deficiency", "igg3-subclass-deficiency"):
        claim = _seed_claim(TherapyEvidence, therapy__slug="ivig", abnormality__slug=slug)
        assert (
            claim.quote
            == "IgG subclass deficiencies may be treated with intravenous immunoglobulin."
        )
        assert claim.link_kind == "rationale"
        keys = set(claim.contradicted_by.values_list("source__key", flat=True))
        assert "peterson1990_ivig" in keys
        assert set(claim.contradicted_by.values_list("direction", flat=True)) == {
            "does_not_support"
        }


def test_the_th2_shift_claim_is_paired_with_the_raised_interferon_gamma_finding(seeded):
    claim = _seed_claim(Finding, abnormality__slug="th1-to-th2-shift")
    assert claim.contradicted_by.filter(source__key="brenu2011_nk").exists()


def test_the_igg1_claim_is_paired_with_the_cohorts_that_found_igg3_and_igg4(seeded):
    claim = _seed_claim(Finding, abnormality__slug="igg1-subclass-deficiency")
    assert {"guenther2015_igg", "lutz2021_igg", "bennett1996_igg", "natelson1995_igg"} == set(
        claim.contradicted_by.values_list("source__key", flat=True)
    )


def test_only_seed_article_claims_are_contradicted(seeded):
    contradicted = [
        *Finding.objects.filter(contradicted_by__isnull=False),
        *TherapyEvidence.objects.filter(contradicted_by__isnull=False),
        *TherapyEvidence.objects.filter(contradicting_findings__isnull=False),
    ]
    assert contradicted
    assert {claim.source.key for claim in contradicted} <= set(SEED_TEXTS)
