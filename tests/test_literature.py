"""The issue-17 literature (fixtures/literature) entered by ``load_literature``.

One load for the module (seed, then literature, then the literature again), kept in a
transaction rolled back at the end; each test runs in its own savepoint inside it.
"""

from __future__ import annotations

import functools
import json
import re
from decimal import Decimal
from io import StringIO

import pytest
import rispy
from Bio import Medline
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max, Min
from django.utils.formats import date_format
from django.utils.timezone import localtime

from curation.models import DataVersion, Status
from findings.models import STUDY_FIELDS, Abnormality, Finding, Source
from tests.test_seed_content import stated_problems, structured_level_problem
from treatments.literature import CURATOR, EDITOR, LITERATURE_DIR, LiteratureError, literature_load
from treatments.models import Harm, PairCertainty, Severity, Therapy, TherapyEvidence

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


# --- the structured study fields (issue 12) --------------------------------------------------

STUDY_CLAIMS = [*CLAIMS["findings"], *CLAIMS["evidence"]]


@functools.cache
def abstracts() -> dict[str, str]:
    """The abstract (AB) each record of records.nbib / records.ris carries, by key."""
    by_pmid = {r["identifiers"].get("pmid"): r["key"] for r in VERIFICATION["records"]}
    found = {}
    with (LITERATURE_DIR / "records.nbib").open(encoding="utf-8") as handle:
        for record in Medline.parse(handle):
            found[by_pmid[record["PMID"]]] = record.get("AB", "")
    ris = rispy.loads((LITERATURE_DIR / "records.ris").read_text(encoding="utf-8"))
    found.update({record["id"]: record.get("abstract", "") for record in ris})
    return found


def record_text(item: dict) -> str:
    """What a literature claim's structured fields may be taken from: its own study
    design, participants, statement, quote and curator note, and its record's abstract."""
    own = [item.get(k) or "" for k in ("study_design", "participants", "statement", "quote")]
    return " ".join([*own, item.get("curator_note") or "", abstracts().get(item["source"], "")])


def literature_level_problem(item: dict) -> str | None:
    """As for the seed (tests/test_seed_content.py), except that a systematic review of
    case-control studies without a pooled estimate is graded as its studies are (B)."""
    if (
        item["design"] == "systematic_review"
        and "case-control" in item["study_design"]
        and item["level"] == "B"
    ):
        return None
    return structured_level_problem(item)


def unstated_literature_fields(item: dict) -> list[str]:
    problems = stated_problems(item, record_text(item))
    if item["risk_of_bias"] != "not_assessed":
        problems.append("a risk-of-bias judgement, which no record here gives the reasons for")
    if item["direction"] != "describes" and not item["design"]:
        problems.append("reports a result but has no structured design")
    return problems


def test_every_literature_claim_carries_every_structured_study_field():
    missing = {c["id"]: [n for n in STUDY_FIELDS if n not in c] for c in STUDY_CLAIMS}
    assert {k: v for k, v in missing.items() if v} == {}


def test_every_literature_claim_that_reports_a_result_has_a_design():
    reporting = [c for c in STUDY_CLAIMS if c["direction"] != "describes"]
    assert reporting
    assert [c["id"] for c in reporting if not c["design"]] == []


def test_every_literature_claims_structured_design_agrees_with_its_level():
    problems = {item["id"]: literature_level_problem(item) for item in STUDY_CLAIMS}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_literature_study_fields_hold_only_what_the_records_say():
    problems = {item["id"]: unstated_literature_fields(item) for item in STUDY_CLAIMS}
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.parametrize(
    ("claim_id", "change"),
    [
        # A CI the record does not state.
        (
            "e-fluge2019_rituximab_rct-rituximab-general",
            {"effect_measure": "rr", "effect_value": 0.74, "effect_ci_low": 0.5},
        ),
        # Patients the record does not give.
        ("e-fluge2019_rituximab_rct-rituximab-general", {"patients": 160}),
        # Double-blind where the record says only "blinded".
        ("e-roerink2017_anakinra_rct-anakinra-cytokine-dysregulation", {"blinding": "double"}),
        # A placebo the open-label study did not have.
        ("e-fluge2015_rituximab_maintenance-rituximab-general", {"comparator": "placebo"}),
        # A follow-up the record does not state.
        ("e-rekeland2020_cyclophosphamide-cyclophosphamide-general", {"follow_up_weeks": 52}),
        # Healthy controls the record does not name.
        ("f-iu2024_cd8_exhaustion-cd8-t-cell-exhaustion", {"comparator": "healthy_controls"}),
        # A judged risk of bias.
        (
            "e-fluge2011_rituximab_rct-rituximab-general",
            {"risk_of_bias": "low", "risk_of_bias_reason": "Looked fine to us."},
        ),
        # A result without a design.
        ("e-fluge2019_rituximab_rct-rituximab-general", {"design": ""}),
    ],
)
def test_a_literature_value_the_record_does_not_state_is_caught(claim_id, change):
    [item] = [c for c in STUDY_CLAIMS if c["id"] == claim_id]
    assert unstated_literature_fields(item) == []
    assert unstated_literature_fields({**item, **change})


def test_a_literature_level_the_design_does_not_allow_is_caught():
    [item] = [c for c in STUDY_CLAIMS if c["id"].startswith("e-fluge2015_")]
    assert literature_level_problem(item) is None
    assert literature_level_problem({**item, "level": "A"})  # a single-arm study: B or C
    [review] = [c for c in STUDY_CLAIMS if c["id"].startswith("f-eatonfitch2019_")]
    assert literature_level_problem({**review, "level": "C"})


def test_the_loaded_claims_hold_the_study_fields_of_claims_json(lit):
    fluge2019 = TherapyEvidence.objects.get(
        created_by__username=CURATOR, source__key="fluge2019_rituximab_rct"
    )
    assert (fluge2019.design, fluge2019.patients, fluge2019.blinding) == ("rct", 151, "double")
    assert fluge2019.comparator == "placebo"
    lande = Finding.objects.get(created_by__username=CURATOR, source__key="lande2020_hla_alleles")
    assert (lande.effect_value, lande.effect_ci_low, lande.effect_ci_high) == (
        Decimal("1.7"),
        Decimal("1.3"),
        Decimal("2.2"),
    )


def test_rituximab_is_rated_on_its_randomised_trials_not_as_unstudied(lit):
    rating = PairCertainty.objects.get(therapy__slug="rituximab", abnormality=None)
    assert rating.net_direction == "no_benefit"
    assert rating.certainty != "not_studied"
    assert rating.reasons[0] == "Starts at high: 2 randomised controlled trials."
    assert not any("no study design" in reason for reason in rating.reasons)


def test_a_claim_loaded_before_the_study_fields_gets_them_through_an_accepted_suggestion(lit):
    record = TherapyEvidence.objects.get(
        created_by__username=CURATOR, source__key="fluge2019_rituximab_rct"
    )
    empty = {name: TherapyEvidence._meta.get_field(name).get_default() for name in STUDY_FIELDS}
    TherapyEvidence.objects.filter(pk=record.pk).update(**empty)
    edited = Finding.objects.get(created_by__username=CURATOR, source__key="lande2020_hla_alleles")
    Finding.objects.filter(pk=edited.pk).update(**{**empty, "patients": 400})

    report = literature_load()

    record.refresh_from_db()
    assert (record.design, record.patients, record.effect_value) == ("rct", 151, Decimal("26"))
    assert record.status == Status.PUBLISHED
    last = record.history.select_related("history_user").first()
    assert last.history_user.username == EDITOR
    assert f"by {CURATOR}" in last.history_change_reason
    assert report.created == {"therapy evidence study-field fill": 1}
    edited.refresh_from_db()
    assert (edited.patients, edited.design) == (400, "")  # a curator's value is kept
