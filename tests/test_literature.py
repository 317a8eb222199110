"""The issue-17 literature (fixtures/literature) entered by ``load_literature``.

One load for the module (seed, then literature, then the literature again), kept in a
transaction rolled back at the end; each test runs in its own savepoint inside it.
"""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max, Min
from django.utils.formats import date_format
from django.utils.timezone import localtime

from curation.models import DataVersion, Status
from findings.models import Abnormality, Finding, Source
from treatments.literature import CURATOR, EDITOR, LITERATURE_DIR, LiteratureError, literature_load
from treatments.models import Harm, Severity, Therapy, TherapyEvidence

CLAIMS = json.loads((LITERATURE_DIR / "claims.json").read_text(encoding="utf-8"))
VERIFICATION = json.loads((LITERATURE_DIR / "verification.json").read_text(encoding="utf-8"))

DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
PMCID_RE = re.compile(r"^PMC\d+$")
NCT_RE = re.compile(r"^NCT\d{8}$")
PLACEHOLDER_RE = re.compile(r"\b(todo|tbd|unknown|placeholder|xxx)\b|\?\?|not verified\]", re.I)

CLAIM_MODELS = (Finding, TherapyEvidence, Harm)
ALL_MODELS = (Source, Abnormality, Therapy, *CLAIM_MODELS)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """Seed and literature loaded once (output of both literature runs kept)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_seed", stdout=StringIO())
        first, second = StringIO(), StringIO()
        call_command("load_literature", stdout=first)
        after_first = _counts()
        call_command("load_literature", stdout=second)
        yield {
            "first": first.getvalue(),
            "second": second.getvalue(),
            "after_first": after_first,
            "after_second": _counts(),
        }
        transaction.set_rollback(True)


@pytest.fixture
def lit(loaded, db):
    return loaded


def _new_claims():
    for model in CLAIM_MODELS:
        yield from model.objects.filter(created_by__username=CURATOR).select_related("source")


def test_the_literature_is_entered_as_claims_json_lists_it(lit):
    assert Source.objects.filter(created_by__username=CURATOR).count() == len(
        VERIFICATION["records"]
    )
    assert Finding.objects.filter(created_by__username=CURATOR).count() == len(CLAIMS["findings"])
    assert TherapyEvidence.objects.filter(created_by__username=CURATOR).count() == len(
        CLAIMS["evidence"]
    )
    assert Harm.objects.filter(created_by__username=CURATOR).count() == len(CLAIMS["harms"])
    for item in CLAIMS["abnormalities"]:
        assert Abnormality.objects.published().filter(slug=item["slug"]).exists()
    for item in CLAIMS["therapies"]:
        assert Therapy.objects.published().filter(slug=item["slug"]).exists()
    assert "Literature loaded." in lit["first"]
    assert "71 published by literature-editor" in lit["first"]
    assert "abnormality edit: 1 created" in lit["first"]


def test_every_new_claim_is_sourced_and_published(lit):
    claims = list(_new_claims())
    assert len(claims) == len(CLAIMS["findings"]) + len(CLAIMS["evidence"]) + len(CLAIMS["harms"])
    for claim in claims:
        assert claim.source_id is not None, claim
        assert claim.source.status == Status.PUBLISHED, claim
        assert claim.status == Status.PUBLISHED, claim


CITATION_KEY = re.compile(r"\b[a-z]+\d{4}_[a-z0-9_]+\b")


def test_no_citation_key_reaches_what_readers_read(lit):
    # Readers see "Fluge 2019", never the curators' key fluge2019_rituximab_rct.
    shown = [
        *(
            (t.slug, t.summary, t.mechanism)
            for t in Therapy.objects.filter(created_by__username=CURATOR)
        ),
        *(
            (a.slug, a.summary, a.details)
            for a in Abnormality.objects.filter(created_by__username=CURATOR)
        ),
        *((c.pk, c.statement, c.curator_note) for c in _new_claims()),
    ]
    assert shown
    for name, *texts in shown:
        for text in texts:
            assert not CITATION_KEY.search(text or ""), (name, text)


def test_every_quote_is_verbatim_in_its_imported_sources_abstract(lit):
    quoted = [c for c in _new_claims() if c.quote]
    assert quoted  # the check below is not vacuous
    for claim in quoted:
        assert claim.source.abstract, claim.source.key
        assert claim.quote in claim.source.abstract, (claim.source.key, claim.quote)


def test_every_imported_source_carries_its_verification_note(lit):
    for record in VERIFICATION["records"]:
        source = Source.objects.get(key=record["key"])
        for page in record["pages"]:
            assert page["url"] in source.verification_note, record["key"]
    assert Source.objects.get(key="nct02229942_rituxme").kind == "trial_registry"


def test_identifiers_are_unique_and_well_formed(lit):
    patterns = {"doi": DOI_RE, "pmid": PMID_RE, "pmcid": PMCID_RE, "nct_id": NCT_RE}
    for name, pattern in patterns.items():
        values = [
            v.lower() for v in Source.objects.exclude(**{name: ""}).values_list(name, flat=True)
        ]
        assert len(values) == len(set(values)), name
        for value in values:
            assert pattern.match(value if name == "doi" else value.upper()), (name, value)


def test_contradictions_are_paired_both_ways(lit):
    pairs = 0
    for model in (Finding, TherapyEvidence):
        for claim in model.objects.filter(created_by__username=CURATOR):
            for other in claim.contradicted_by.all():
                assert other.contradicted_by.filter(pk=claim.pk).exists(), (claim, other)
                pairs += 1
    assert pairs > 0
    for item in CLAIMS["contradictions"]:
        assert item["contradicted_by"]


def test_no_source_has_a_placeholder_or_unverified_title(lit):
    for source in Source.objects.all():
        assert source.title and not PLACEHOLDER_RE.search(source.title), source.key
        assert not source.title.startswith("["), source.key


def test_history_names_the_curator_as_author_and_the_editor_as_publisher(lit):
    records = [
        *_new_claims(),
        *Source.objects.filter(created_by__username=CURATOR),
        *Abnormality.objects.filter(created_by__username=CURATOR),
        *Therapy.objects.filter(created_by__username=CURATOR),
    ]
    for record in records:
        history = list(record.history.order_by("history_id").select_related("history_user"))
        assert history[0].history_user.username == CURATOR, record
        assert history[0].status == Status.DRAFT, record
        submitted = [h for h in history if h.status == Status.SUBMITTED]
        assert submitted and submitted[0].history_user.username == CURATOR, record
        published = [h for h in history if h.status == Status.PUBLISHED]
        assert published and published[0].history_user.username == EDITOR, record
        assert published[0].history_change_reason.startswith("Published"), record


def test_harms_have_a_kind_a_population_and_an_honest_severity(lit):
    for harm in Harm.objects.filter(created_by__username=CURATOR):
        assert harm.population, harm
        assert harm.severity == Severity.NOT_STATED, harm  # claims.json grades none
    no_toxicity = Harm.objects.get(created_by__username=CURATOR, effect="no unexpected toxicity")
    assert no_toxicity.kind == "tolerability"


def test_a_second_run_creates_nothing(lit):
    assert lit["after_second"] == lit["after_first"]
    assert "0 published by literature-editor; 0 contradiction links added" in lit["second"]
    assert not re.search(r"[1-9]\d* created", lit["second"]), lit["second"]


def test_the_seed_corrections_reach_the_seed_sources(lit):
    cabanas = Source.objects.get(key="cabanas2019_ldn_trpm3")
    assert cabanas.doi == "10.3389/fimmu.2019.02545"
    assert cabanas.pmid == ""  # seen only in the dismech file: stays empty
    assert str(Source.objects.get(key="baraniuk2024_nk_meta").published_on) == "2024-10-17"


def test_a_claim_that_fails_validation_stops_the_load_and_nothing_is_written(lit, tmp_path):
    for name in ("records.nbib", "records.ris", "verification.json"):
        (tmp_path / name).write_bytes((LITERATURE_DIR / name).read_bytes())
    broken = json.loads(json.dumps(CLAIMS))
    broken["abnormalities"].append(
        {
            "slug": "test-new-abnormality",
            "name": "A new abnormality for the test",
            "category": "cellular",
            "component": "B cells",
            "change": "shifted",
            "summary": "A summary.",
        }
    )
    bad = {**broken["findings"][0], "id": "f-bad", "statement": "A new claim.", "level": "Z"}
    bad["abnormality"] = "test-new-abnormality"
    broken["findings"].append(bad)
    (tmp_path / "claims.json").write_text(json.dumps(broken), encoding="utf-8")
    before = _counts()

    with pytest.raises(LiteratureError, match="finding"):
        literature_load(directory=tmp_path)

    assert _counts() == before
    assert not Abnormality.objects.filter(slug="test-new-abnormality").exists()


def test_the_home_page_says_the_period_covered_and_when_it_was_last_updated(lit, client):
    years = Source.objects.published().aggregate(first=Min("year"), last=Max("year"))
    latest = DataVersion.objects.order_by("-number").first()
    html = client.get("/").content.decode()
    assert f"covers sources published from {years['first']} to {years['last']}." in html
    assert years["last"] >= 2024  # the literature reaches the last decade
    day = date_format(localtime(latest.created_at), "j F Y")
    assert f'Last updated <time datetime="{localtime(latest.created_at).isoformat()}">{day}' in html


def test_the_nk_summary_names_the_null_results_through_an_accepted_suggestion(lit):
    [edit] = CLAIMS["abnormality_edits"]
    record = Abnormality.objects.get(slug=edit["slug"])
    assert record.summary.endswith(edit["append_to_summary"])
    last = record.history.select_related("history_user").first()
    assert last.history_user.username == EDITOR
    assert f"by {CURATOR}" in last.history_change_reason
