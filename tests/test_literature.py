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
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max, Min
from django.utils.formats import date_format
from django.utils.timezone import localtime

from curation.models import DataVersion, Status
from curation.revisions import suggestion_accept
from curation.roles import CURATORS
from curation.services import record_edit
from findings.importing import import_read
from findings.models import STUDY_FIELDS, Abnormality, Finding, Source
from tests.test_seed_content import _numbers, stated_problems, structured_level_problem
from treatments.literature import CURATOR, EDITOR, LITERATURE_DIR, LiteratureError, literature_load
from treatments.models import (
    ControlComparison,
    Harm,
    HarmKind,
    PairCertainty,
    Severity,
    Therapy,
    TherapyEvidence,
)

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
    by_statement = {item["statement"]: item for item in CLAIMS["harms"]}
    for harm in Harm.objects.filter(created_by__username=CURATOR):
        item = by_statement[harm.statement]
        assert harm.population == item["population"], harm
        assert (harm.kind, harm.severity, harm.control_comparison) == (
            item["kind"],
            item["severity"],
            item["control_comparison"],
        ), harm
        assert harm.curator_note == item["curator_note"], harm
    no_toxicity = Harm.objects.get(created_by__username=CURATOR, effect="no unexpected toxicity")
    assert (no_toxicity.kind, no_toxicity.severity) == ("tolerability", Severity.NOT_STATED)


@functools.cache
def titles() -> dict[str, str]:
    """The title (TI) each record of records.nbib / records.ris carries, by key."""
    by_pmid = {r["identifiers"].get("pmid"): r["key"] for r in VERIFICATION["records"]}
    found = {}
    with (LITERATURE_DIR / "records.nbib").open(encoding="utf-8") as handle:
        for record in Medline.parse(handle):
            found[by_pmid[record["PMID"]]] = record.get("TI", "")
    ris = rispy.loads((LITERATURE_DIR / "records.ris").read_text(encoding="utf-8"))
    found.update({record["id"]: record.get("title", "") for record in ris})
    return found


def harm_text(harm: dict) -> str:
    """What a literature harm's kind, severity, comparison and population may be taken
    from: its own effect, frequency, statement and quote, its record's title and
    abstract, and the study design and participants of its source's evidence."""
    evidence = [e for e in CLAIMS["evidence"] if e["source"] == harm["source"]]
    own = [harm[k] for k in ("effect", "frequency", "statement", "quote")]
    study = [e[k] for e in evidence for k in ("study_design", "participants")]
    source = [titles().get(harm["source"], ""), abstracts().get(harm["source"], "")]
    return " ".join([*own, *study, *source])


SEVERITY_WORDS = {
    "mild": ("mild", "grade 1"),
    "moderate": ("moderate", "grade 2"),
    "serious": ("serious",),
    "life_threatening": ("life-threatening", "grade 4"),
}
NO_CONTROL_WORDS = (
    "open-label",
    "case series",
    "case report",
    "uncontrolled",
    "without a placebo",
    "one-arm",
    "single-arm",
)


def unstated_harm_fields(harm: dict) -> list[str]:
    text = harm_text(harm)
    lowered = text.lower()
    problems = []
    if harm["kind"] not in HarmKind.values:
        problems.append(f"kind {harm['kind']!r}")
    if (harm["kind"] == HarmKind.TOLERABILITY) != harm["effect"].lower().startswith("no "):
        problems.append("tolerability is for a 'no ... events' finding, and only that")
    if harm["severity"] != Severity.NOT_STATED and not any(
        word in lowered for word in SEVERITY_WORDS.get(harm["severity"], ())
    ):
        problems.append(f"severity {harm['severity']!r} that the text does not state")
    comparison = harm["control_comparison"]
    compared = "placebo" in harm["frequency"].lower() and "vs" in harm["frequency"]
    if comparison in ("more_than_control", "also_with_control") and not compared:
        problems.append(f"{comparison} without both groups' figures in 'how often'")
    if comparison == "no_control" and not any(word in lowered for word in NO_CONTROL_WORDS):
        problems.append(f"no_control but the text says none of {NO_CONTROL_WORDS}")
    if comparison not in (*ControlComparison.values, ""):
        problems.append(f"control comparison {comparison!r}")
    stated = set(_numbers(text))
    problems += [
        f"population number {n} is not in the text"
        for n in _numbers(harm["population"])
        if n not in stated
    ]
    if not harm["population"] or not harm["curator_note"]:
        problems.append("no population or no curator note")
    return problems


def test_the_literature_harms_hold_only_what_the_records_say():
    assert len(CLAIMS["harms"]) == 8
    problems = {(h["therapy"], h["source"]): unstated_harm_fields(h) for h in CLAIMS["harms"]}
    assert {k: v for k, v in problems.items() if v} == {}
    # The severity is graded only where the text names it: the serious adverse events
    # (two sources) and the moderate worsening of psoriasis.
    graded = {h["source"]: h["severity"] for h in CLAIMS["harms"] if h["severity"] != "not_stated"}
    assert graded == {
        "fluge2019_rituximab_rct": "serious",
        "fluge2011_rituximab_rct": "moderate",
        "rekeland2020_cyclophosphamide": "serious",
    }


@pytest.mark.parametrize(
    ("source", "change"),
    [
        # A severity nobody stated.
        ("roerink2017_anakinra_rct", {"severity": "mild"}),
        # A comparison with placebo for an open-label study.
        ("fluge2015_rituximab_maintenance", {"control_comparison": "more_than_control"}),
        # "No control group" for a placebo-controlled trial whose texts say no such thing.
        ("fluge2019_rituximab_rct", {"control_comparison": "no_control"}),
        # A population size the source does not give.
        ("fluge2025_daratumumab_pilot", {"population": "12 women with ME/CFS"}),
        # An adverse effect filed as tolerability.
        ("roerink2017_anakinra_rct", {"kind": "tolerability"}),
    ],
)
def test_a_harm_value_the_record_does_not_state_is_caught(source, change):
    [harm] = [h for h in CLAIMS["harms"] if h["source"] == source]
    assert unstated_harm_fields(harm) == []
    assert unstated_harm_fields({**harm, **change})


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


QUOTED = re.compile(r"'([^']+)'")


def abstracts_read() -> dict[str, str]:
    """The part of an abstract read but not whole (so not the record's AB, and never a
    claim's quote), as verification.json keeps it for a risk-of-bias reason to quote."""
    return {
        r["key"]: r["abstract_read"]["text"]
        for r in VERIFICATION["records"]
        if "abstract_read" in r
    }


def test_an_abstract_read_in_part_names_a_page_the_record_was_checked_on():
    assert abstracts_read()
    for record in VERIFICATION["records"]:
        if "abstract_read" in record:
            read = record["abstract_read"]
            assert read["url"] in [page["url"] for page in record["pages"]], record["key"]
            assert not abstracts().get(record["key"]), record["key"]  # else it would be whole


def risk_of_bias_problems(item: dict) -> list[str]:
    """A judged risk of bias rests on the recorded abstract: its reason starts with the
    judgement and quotes, verbatim, what the abstract says; an unjudged one says why."""
    reason = item["risk_of_bias_reason"]
    if item["risk_of_bias"] == "not_assessed":
        return [] if reason.startswith("Not assessed: ") else ["not assessed without a reason"]
    abstract = abstracts().get(item["source"], "") or abstracts_read().get(item["source"], "")
    label = item["risk_of_bias"].replace("_", " ").capitalize()
    problems = [] if reason.startswith(f"{label}: ") else [f"reason does not start {label!r}"]
    if not abstract:
        return [*problems, "a risk-of-bias judgement without a recorded abstract"]
    quoted = [q for q in QUOTED.findall(reason) if len(q.split()) >= 2]
    if not quoted:
        problems.append("a risk-of-bias reason that quotes nothing of the abstract")
    problems += [f"{q!r} is not in the abstract" for q in quoted if q not in abstract]
    return problems


def unstated_literature_fields(item: dict) -> list[str]:
    problems = stated_problems(item, record_text(item))
    problems += risk_of_bias_problems(item)
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
        # A judged risk of bias on a source with no recorded abstract.
        (
            "e-fluge2011_rituximab_rct-rituximab-general",
            {"risk_of_bias": "low", "risk_of_bias_reason": "Low: 'A Double-Blind' trial."},
        ),
        # A risk-of-bias reason that quotes nothing of the abstract.
        (
            "e-rekeland2020_cyclophosphamide-cyclophosphamide-general",
            {"risk_of_bias_reason": "High: open-label, looked weak to us."},
        ),
        # A judgement on the part of an abstract read, quoting what it does not say.
        (
            "e-roerink2017_anakinra_rct-anakinra-cytokine-dysregulation",
            {"risk_of_bias_reason": "Low: 'allocation was concealed' and 'no one dropped out'."},
        ),
        # A "quote" the abstract does not hold.
        (
            "e-rekeland2020_cyclophosphamide-cyclophosphamide-general",
            {"risk_of_bias_reason": "High: 'a placebo group was not possible'."},
        ),
        # A reason that does not match the judgement.
        (
            "e-burgard2024_apheresis_case-therapeutic-apheresis-general",
            {"risk_of_bias": "low"},
        ),
        # Not assessed, and no reason why.
        ("f-querec2023_nk_mcam-low-nk-cell-cytotoxicity", {"risk_of_bias_reason": ""}),
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


def test_every_published_claim_of_the_literature_has_a_plain_summary_at_grade_nine(lit):
    from findings.readability import PLAIN_GRADE_MAX

    claims = [
        *Finding.objects.published().filter(created_by__username=CURATOR),
        *TherapyEvidence.objects.published().filter(created_by__username=CURATOR),
    ]
    assert len(claims) == len(CLAIMS["findings"]) + len(CLAIMS["evidence"])
    assert [c.pk for c in claims if not c.plain_summary.strip()] == []
    assert [c.pk for c in claims if c.plain_summary_grade > PLAIN_GRADE_MAX] == []


def test_a_claim_loaded_before_the_plain_summary_gets_it_through_an_accepted_suggestion(lit):
    [item] = [c for c in CLAIMS["evidence"] if c["source"] == "fluge2019_rituximab_rct"]
    record = TherapyEvidence.objects.get(created_by__username=CURATOR, statement=item["statement"])
    TherapyEvidence.objects.filter(pk=record.pk).update(plain_summary="")

    report = literature_load()

    record.refresh_from_db()
    assert record.plain_summary == item["plain_summary"]
    assert record.status == Status.PUBLISHED
    last = record.history.select_related("history_user").first()
    assert last.history_user.username == EDITOR
    assert "Plain-language summary filled from fixtures/literature" in last.history_change_reason
    assert report.created == {"therapy evidence plain-summary fill": 1}


# --- issue 17 follow-up: what the issue's "Tests" section asks, at the files' level --------


def test_every_contradiction_in_claims_json_is_listed_both_ways():
    pairs = {
        (p["claim"], other) for p in CLAIMS["contradictions"] for other in p["contradicted_by"]
    }
    assert pairs
    assert {(a, b) for a, b in pairs if (b, a) not in pairs} == set()


def test_every_literature_quote_is_verbatim_in_its_records_abstract():
    quoted = [c for kind in ("findings", "evidence", "harms") for c in CLAIMS[kind] if c["quote"]]
    assert quoted
    for claim in quoted:
        assert claim["quote"] in abstracts().get(claim["source"], ""), claim["quote"]


def test_every_record_title_was_checked_on_a_page_the_verification_names():
    for record in VERIFICATION["records"]:
        checked = [c for page in record["pages"] for c in page["checked"]]
        assert any("title" in c for c in checked), record["key"]
        assert page_urls_are_real(record), record["key"]
        assert titles()[record["key"]] and not PLACEHOLDER_RE.search(titles()[record["key"]])


def page_urls_are_real(record: dict) -> bool:
    return all(page["url"].startswith(("http://", "https://")) for page in record["pages"])


def test_the_record_identifiers_agree_with_verification_json_and_are_unique():
    seen: dict[tuple[str, str], str] = {}
    patterns = {"doi": DOI_RE, "pmid": PMID_RE, "pmcid": PMCID_RE, "nct": NCT_RE}
    for record in VERIFICATION["records"]:
        for name, value in record["identifiers"].items():
            if name not in patterns:
                continue
            assert patterns[name].match(value), (record["key"], name, value)
            if name == "nct":
                continue  # a trial's results paper names the registry entry's number too
            assert (name, value.lower()) not in seen, (record["key"], seen.get((name, value)))
            seen[(name, value.lower())] = record["key"]


# --- the publication type (issue 17 follow-up) ---------------------------------------------


def test_the_nk_systematic_review_is_imported_as_a_review(lit):
    review = Source.objects.get(key="eatonfitch2019_nk_systematic_review")
    assert review.publication_type == "Systematic review update"
    assert review.kind == "review"


def test_without_its_type_of_work_a_ris_record_is_filed_as_a_journal_article():
    # The import maps RIS TY JOUR to a journal article and refines it by the type of
    # work (M3); the record lacked M3, which is why the review was a journal article.
    text = (LITERATURE_DIR / "records.ris").read_text(encoding="utf-8")
    [record] = [r for r in text.split("\nER  - ") if "eatonfitch2019" in r]
    for with_type, kind in ((True, "review"), (False, "journal_article")):
        body = record if with_type else record.replace("M3  - Systematic review update\n", "")
        entry = import_read(f"{body.strip()}\nER  - \n".encode(), filename="x.ris").entries[0]
        assert entry.fields["kind"] == kind


def test_the_follow_up_fills_authors_and_the_journal_from_the_pages_read(lit):
    querec = Source.objects.get(key="querec2023_nk_mcam")
    assert querec.authors.startswith("Querec TD") and querec.authors.endswith("Unger ER")
    anft = Source.objects.get(key="immunoadsorption_postcovid_pmid39797400")
    assert (anft.container, anft.year, str(anft.published_on)) == ("Mol Ther", 2025, "2025-06-04")
    maksoud = Source.objects.get(key="maksoud2023_biomarker_review")
    assert maksoud.authors.count(",") == 4


# --- changes to the files reach a database loaded before them (issue 17 follow-up) ---------


def _as_if_loaded_earlier(record, fields: dict, curator, editor) -> None:
    """Put ``record`` back to ``fields`` the way an earlier load would have left it: a
    change by the literature accounts, in history."""
    result = record_edit(record=record, fields=fields, user=curator, reason="earlier load")
    suggestion_accept(suggestion=result.suggestion, user=editor, note="earlier load")


def test_a_database_loaded_before_the_follow_up_takes_its_values_with_history(lit):
    curator = get_user_model().objects.get(username=CURATOR)
    editor = get_user_model().objects.get(username=EDITOR)
    cyclo = TherapyEvidence.objects.get(source__key="rekeland2020_cyclophosphamide")
    _as_if_loaded_earlier(
        cyclo, {"risk_of_bias": "not_assessed", "risk_of_bias_reason": ""}, curator, editor
    )
    anakinra = Harm.objects.get(source__key="roerink2017_anakinra_rct")
    _as_if_loaded_earlier(
        anakinra, {"control_comparison": "", "population": "50 women"}, curator, editor
    )
    review = Source.objects.get(key="eatonfitch2019_nk_systematic_review")
    _as_if_loaded_earlier(
        review, {"kind": "journal_article", "publication_type": ""}, curator, editor
    )
    # A curator's own later edit is never overwritten.
    someone = get_user_model().objects.create(username="another-curator")
    someone.groups.add(Group.objects.get(name=CURATORS))
    burgard = TherapyEvidence.objects.get(source__key="burgard2024_apheresis_case")
    result = record_edit(
        record=burgard,
        fields={"risk_of_bias_reason": "High: 'a remarkable sustained clinical remission' in one."},
        user=someone,
        reason="mine",
    )
    suggestion_accept(suggestion=result.suggestion, user=editor, note="fine")

    report = literature_load()

    cyclo.refresh_from_db()
    assert cyclo.risk_of_bias == "high"
    assert cyclo.risk_of_bias_reason.startswith("High: an 'open-label phase II trial'")
    last = cyclo.history.select_related("history_user").first()
    assert last.history_user.username == EDITOR
    assert f"by {CURATOR}" in last.history_change_reason
    anakinra.refresh_from_db()
    assert (anakinra.control_comparison, anakinra.population) == (
        "more_than_control",
        "50 women with CFS in a randomized, placebo-controlled trial (25 anakinra, 25 placebo)",
    )
    review.refresh_from_db()
    assert (review.kind, review.publication_type) == ("review", "Systematic review update")
    burgard.refresh_from_db()
    assert burgard.risk_of_bias_reason.endswith("in one.")
    assert report.updated == {"therapy evidence": 1, "harm": 1, "source": 1}
    assert report.kept == {"therapy evidence": 1}
    assert "harm: 1 updated from the files" in report.summary()
    # Loaded again, nothing changes.
    again = literature_load()
    assert again.updated == {} and again.kept == {"therapy evidence": 1}
