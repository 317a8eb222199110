"""The seed's content follows the design's honesty rules (issue 13, "the tests that would
catch each error"): levels agree with study designs (the words and, issue 12, the
structured design), the structured study fields hold only what the sources say, link
kinds agree with what the text says,
contradicted seed claims are paired, "most consistent" and "one group" name a source,
no source is shown under a placeholder title, and each correction reaches a live
database with a history note saying what changed and why.

Each rule is a function over the seed's items, tested on the whole seed and on the
value that issue 13 corrected, so that the error would be caught if it came back.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from decimal import Decimal

import pytest

from curation.models import Status
from findings.models import STUDY_FIELDS, Abnormality, Finding, Source
from tests.test_seed import _shared_data
from treatments.models import RegulatoryStatus, Therapy, TherapyEvidence
from treatments.seed import SEED_PATH, seed_load

SEED = json.loads(SEED_PATH.read_text(encoding="utf-8"))
SEED_ARTICLES = {"seed2025_cfs_immunotherapy", "haavisto2009_eir"}
CLAIMS = [*SEED["findings"], *SEED["evidence"]]

# --- evidence level agrees with study design ----------------------------------------------

# Words of a study design and the levels they allow (DESIGN.md, "Evidence level"); the
# first row whose words appear in the design decides. A design that matches no row fails
# the test: add a row rather than guess.
DESIGN_LEVELS: list[tuple[str, str]] = [
    ("search of", "E"),  # an absence found by searching ("no trial found"): no clinical level
    ("not known", "E"),  # nothing readable shows a design: no clinical level
    ("(no results)", "E"),  # a registered trial without results is no evidence yet
    ("meta-analysis", "A"),
    ("in vitro", "D"),
    ("ex vivo", "D"),
    ("animal", "D"),
    ("pilot", "C"),
    ("open-label", "C"),
    ("uncontrolled", "C"),
    ("chart review", "C"),
    ("retrospective", "C"),
    ("sub-study", "C"),  # measurements inside a trial, not its randomised comparison
    ("baseline measurements", "C"),
    ("case series with controls", "BC"),
    ("case series", "C"),
    ("case report", "E"),
    ("review", "E"),  # narrative review, review, drug profile
    ("web article", "E"),
    ("press release", "E"),
    ("trade news", "E"),
    ("patent", "E"),
    ("evidence summary", "E"),
    ("case-control", "BC"),  # C when the treatment comparison in it is before/after
    ("cross-sectional", "BC"),
    ("randomized", "B"),  # one trial is B; A needs two or more agreeing (or a meta-analysis)
    ("controlled", "B"),
]


def allowed_levels(design: str) -> str | None:
    design = design.lower()
    for words, levels in DESIGN_LEVELS:
        if words in design:
            return levels
    return None


def level_problem(item: dict) -> str | None:
    allowed = allowed_levels(item.get("study_design") or "")
    if allowed is None:
        return f"design {item.get('study_design')!r} is not in DESIGN_LEVELS"
    if item["level"] not in allowed:
        return f"level {item['level']} for design {item['study_design']!r} (allowed: {allowed})"
    return None


def test_every_claims_level_agrees_with_its_study_design():
    problems = {item["id"]: level_problem(item) for item in CLAIMS}
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.parametrize(
    ("design", "level"),
    [
        ("biomarker sub-study of a controlled trial", "B"),  # suhadolnik1994_invivo (13.1)
        ("single-blind, placebo-controlled pilot", "B"),  # isoprinosine_pilot (13.2)
        ("", "C"),  # wakefield1990_igg: no design shown (13.9)
        ("case series (3 case reports)", "E"),  # bmjcr2020_ldn_cases (13.10)
        ("narrative review", "C"),
        ("web article (secondary, not peer reviewed)", "C"),
        ("open-label phase 1 safety and feasibility study", "B"),
        ("randomized double-blind placebo-controlled trial", "A"),
    ],
)
def test_a_level_the_design_does_not_allow_is_caught(design, level):
    assert level_problem({"study_design": design, "level": level})


# --- link kind "selected" -------------------------------------------------------------------


def selected_problem(item: dict) -> str | None:
    """``selected`` only where the text says patients were selected for the abnormality,
    and reports no fraction of them having it (then not every patient had it)."""
    if item.get("link_kind") != "selected":
        return None
    text = f"{item['statement']} {item.get('curator_note', '')}"
    if not re.search(r"(?<!not )selected (for|on|because)", text, re.IGNORECASE):
        return "link kind 'selected' but the text does not say patients were selected for it"
    for had, of in re.findall(r"\b(\d+) of (?:its |the )?(\d+)\b", text):
        if int(had) < int(of):
            return f"link kind 'selected' but only {had} of {of} had the abnormality"
    return None


def test_link_kind_selected_only_where_the_text_says_patients_were_selected():
    problems = {item["id"]: selected_problem(item) for item in SEED["evidence"]}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_lloyd_1990_selected_link_would_be_caught():
    was = {
        "link_kind": "selected",
        "statement": "10/23 IVIG vs 3/26 placebo recipients were judged responders.",
        "curator_note": "Patients were described as selected on abnormal cell-mediated "
        "immunity (40 of 49 had it).",
    }
    assert "40 of 49" in selected_problem(was)
    assert selected_problem({**was, "curator_note": "Patients were selected for it."}) is None


# --- contradicted seed claims are paired ------------------------------------------------------


def test_every_seed_claim_the_references_contradict_is_paired():
    pairs = {p["claim"]: p["contradicted_by"] for p in SEED["contradictions"]}
    contradicted = [
        item["id"]
        for item in CLAIMS
        if item["source"] in SEED_ARTICLES and "contradicted" in item["curator_note"].lower()
    ]
    assert contradicted, "no seed claim is marked as contradicted"
    assert [c for c in contradicted if not pairs.get(c)] == []
    for claim_id in contradicted:
        claim = next(item for item in CLAIMS if item["id"] == claim_id)
        assert claim["level"] == "E", claim_id


# --- "most consistent" and "one group" name a source ------------------------------------------

SWEEPING = re.compile(r"most consistent|one group|mostly from", re.IGNORECASE)
# A source named as readers see it (issue 18): "Baraniuk 2024", "De Meirleir 2000".
CITED = re.compile(r"\b[A-Z][\w'-]+(?: [A-Z][\w'-]+)? (?:19|20)\d\d\b")


def unsourced_sweeping_sentences(text: str) -> list[str]:
    sentences = re.split(r"(?<=[.;:])\s+", text or "")
    return [s for s in sentences if SWEEPING.search(s) and not CITED.search(s)]


def test_every_most_consistent_or_one_group_sentence_names_a_source():
    texts = {
        **{
            f"abnormality {a['slug']} {f}": a[f]
            for a in SEED["abnormalities"]
            for f in ("summary", "details")
        },
        **{
            f"therapy {t['slug']} {f}": t[f]
            for t in SEED["therapies"]
            for f in ("mechanism", "summary")
        },
        **{
            f"harm {h['therapy']} {h['effect']} {f}": h[f]
            for h in SEED["harms"]
            for f in ("statement", "curator_note")
        },
        **{f"lab test {t['slug']}": t.get("notes", "") for t in SEED["lab_tests"]},
        **{f"claim {c['id']} {f}": c[f] for c in CLAIMS for f in ("statement", "curator_note")},
    }
    found = {where: unsourced_sweeping_sentences(text) for where, text in texts.items()}
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize(
    "text",
    [
        "This is the most consistent immune finding: a 2024 meta-analysis of 28 papers found it.",
        "Findings come mostly from one group of researchers.",
        "In laboratory studies from one group, naltrexone restored the channel.",
    ],
)
def test_the_unsourced_sentences_issue_13_found_would_be_caught(text):
    assert unsourced_sweeping_sentences(text)


# --- no placeholder titles -----------------------------------------------------------------


def test_no_seed_source_has_a_placeholder_title():
    assert [s["key"] for s in SEED["sources"] if "not verified]" in s.get("title", "")] == []


@pytest.mark.django_db
def test_no_published_source_has_a_placeholder_title_after_loading_or_updating():
    seed_load()
    seed_load(update=True)
    assert not Source.objects.published().filter(title__icontains="not verified]").exists()
    assert not Source.objects.published().filter(title__startswith="[").exists()


# --- corrections reach a live database, with a history note ---------------------------------

# The values issue 13 corrected, as a live database holds them: (section, match, old values).
OLD_VALUES: list[tuple[str, dict, dict]] = [
    (
        "evidence",
        {"id": "e-suhadolnik1994_invivo_rnasel-rintatolimod-rnase-l-pathway-dysfunction"},
        {"level": "B"},
    ),
    (
        "evidence",
        {"id": "e-isoprinosine_pilot-inosine-pranobex-low-nk-cell-cytotoxicity"},
        {"level": "B"},
    ),
    (
        "evidence",
        {"id": "e-lloyd1990_ivig-ivig-abnormal-cell-mediated-immunity"},
        {"link_kind": "selected"},
    ),
    (
        "therapies",
        {"slug": "ivig"},
        {"summary": "The trial that gave IVIG to patients with low IgG subclasses found no gain."},
    ),
    ("therapies", {"slug": "sizofiran"}, {"stage": "abandoned"}),
    (
        "abnormalities",
        {"slug": "low-nk-cell-cytotoxicity"},
        {"summary": "This is the most consistent immune finding."},
    ),
    (
        "abnormalities",
        {"slug": "rnase-l-pathway-dysfunction"},
        {"details": "Findings come mostly from one group of researchers."},
    ),
    (
        "therapies",
        {"slug": "low-dose-naltrexone"},
        {"mechanism": "In laboratory studies from one group."},
    ),
    (
        "findings",
        {"id": "s09-rnase-l"},
        {"curator_note": "Supported mainly by one group's studies (Suhadolnik, De Meirleir)."},
    ),
    (
        "findings",
        {"id": "f-wakefield1990_igg-igg-subclass-deficiency"},
        {"level": "C", "study_design": ""},
    ),
    ("evidence", {"id": "e-bmjcr2020_ldn_cases-low-dose-naltrexone-general"}, {"level": "E"}),
    (
        "regulatory_statuses",
        {"source": "reg_ampligen_fda_adcomm_2012"},
        {"statement": "An FDA advisory committee voted 9-4."},
    ),
    ("therapies", {"slug": "inosine-pranobex"}, {"mechanism": "Licensed in several countries."}),
]

MARKETING = {
    "key": "reg_inosine_pranobex_marketing",
    "kind": "regulatory_document",
    "title": "[Title not verified] Review on inosine pranobex",
    "doi": "10.1007/s12325-019-00995-6",
}


def _old_seed() -> dict:
    """The seed as a live database loaded it before issue 13's corrections, and before
    the structured study fields (issue 12) existed."""
    old = copy.deepcopy(SEED)
    for item in [*old["findings"], *old["evidence"]]:
        for name in STUDY_FIELDS:
            item.pop(name)
    for section, match, values in OLD_VALUES:
        [item] = [i for i in old[section] if all(i.get(k) == v for k, v in match.items())]
        item.update(values)
    old["sources"].append({**MARKETING})
    old["regulatory_statuses"].append(
        {
            "therapy": "inosine-pranobex",
            "source": MARKETING["key"],
            "jurisdiction": "More than 70 countries",
            "regulatory_status": "approved_other",
            "statement": "Marketed in more than 70 countries.",
        }
    )
    old.pop("withdrawn")
    return old


def _record(section: str, match: dict):
    if section == "evidence":
        item = next(i for i in SEED["evidence"] if i["id"] == match["id"])
        return TherapyEvidence.objects.get(
            source__key=item["source"],
            therapy__slug=item["therapy"],
            abnormality__slug=item["abnormality"],
            statement=item["statement"],
        )
    if section == "findings":
        item = next(i for i in SEED["findings"] if i["id"] == match["id"])
        return Finding.objects.get(
            source__key=item["source"],
            abnormality__slug=item["abnormality"],
            statement=item["statement"],
        )
    if section == "regulatory_statuses":
        return RegulatoryStatus.objects.get(source__key=match["source"])
    model = {"therapies": Therapy, "abnormalities": Abnormality}[section]
    return model.objects.get(slug=match["slug"])


def test_every_corrected_item_carries_a_short_correction_note():
    corrected = [
        i
        for s in ("abnormalities", "therapies", "findings", "evidence", "regulatory_statuses")
        for i in SEED[s]
        if "correction" in i
    ]
    # Issue 13's corrections are replayed by OLD_VALUES; issue 18's is one statement.
    assert len([i for i in corrected if "issue 13" in i["correction"]["note"]]) == len(OLD_VALUES)
    for item in corrected:
        note = item["correction"]["note"]
        assert 0 < len(note) <= 100, note  # one line in the history, read at a glance
        assert "issue 13" in note or "issue 18" in note


@pytest.mark.django_db
def test_load_seed_update_brings_the_old_values_to_the_corrections_with_a_history_note(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps(_old_seed()), encoding="utf-8")
    seed_load(path=old)
    for section, match, values in OLD_VALUES:
        record = _record(section, match)
        assert {k: getattr(record, k) for k in values} == values

    seed_load(update=True)

    for section, match, _values in OLD_VALUES:
        [item] = [i for i in SEED[section] if all(i.get(k) == v for k, v in match.items())]
        record = _record(section, match)
        for name in _values:
            assert getattr(record, name) == item[name], (section, match, name)
        assert record.status == Status.PUBLISHED
        assert record.history.first().history_change_reason == item["correction"]["note"]

    [withdrawn] = SEED["withdrawn"]
    for record in (
        Source.objects.get(key=MARKETING["key"]),
        RegulatoryStatus.objects.get(source__key=MARKETING["key"]),
    ):
        assert record.status == Status.RETRACTED
        assert record.review_note == withdrawn["reason"]
        assert record.history.first().history_change_reason == withdrawn["reason"]
    assert not Source.objects.published().filter(title__startswith="[").exists()


@pytest.mark.django_db
def test_a_corrected_statement_is_corrected_in_place_not_duplicated(tmp_path):
    """A claim is matched by its statement; a correction's ``was`` finds it under the old one."""
    item = next(i for i in SEED["evidence"] if i["id"] == "s25-hbot")
    old = copy.deepcopy(SEED)
    old_item = next(i for i in old["evidence"] if i["id"] == "s25-hbot")
    old_item["statement"] = "HBOT helps."
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    seed_load(path=tmp_path / "old.json")
    new = copy.deepcopy(SEED)
    new_item = next(i for i in new["evidence"] if i["id"] == "s25-hbot")
    new_item["correction"] = {
        "note": "Statement: as the article says it",
        "was": {"statement": "HBOT helps."},
    }
    (tmp_path / "new.json").write_text(json.dumps(new), encoding="utf-8")

    seed_load(path=tmp_path / "new.json", update=True)

    [record] = TherapyEvidence.objects.filter(
        source__key=item["source"], therapy__slug="hyperbaric-oxygen-therapy", abnormality=None
    )
    assert record.statement == item["statement"]
    assert record.history.first().history_change_reason == "Statement: as the article says it"


@pytest.mark.django_db
def test_load_seed_update_rewords_citation_keys_with_the_rewordings_note(tmp_path):
    """A live database loaded when notes cited "polo2019_ldn" gets the reader's wording
    ("Polo 2019") with the rewording's note in history; the corrected statement too."""
    rewording = SEED["rewordings"][0]  # the citation keys' rewording
    old = copy.deepcopy(SEED)
    note_item = next(i for i in old["evidence"] if i["id"] == "s09-ldn-nk")
    note_item["curator_note"] = note_item["curator_note"].replace("Polo 2019", "polo2019_ldn")
    therapy = next(t for t in old["therapies"] if t["slug"] == "autologous-lymph-node-cell-therapy")
    therapy["mechanism"] = therapy["mechanism"].replace("Klimas 2001", "klimas2001_lymphnode")
    checked = next(
        i for i in old["evidence"] if i["id"] == "e-kb_reference_check-sizofiran-general"
    )
    checked["statement"] = checked.pop("correction")["was"]["statement"]
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    seed_load(path=tmp_path / "old.json")

    seed_load(update=True)

    item = next(i for i in SEED["evidence"] if i["id"] == "s09-ldn-nk")
    record = TherapyEvidence.objects.get(source__key=item["source"], statement=item["statement"])
    assert "Polo 2019" in record.curator_note and "polo2019_ldn" not in record.curator_note
    assert record.history.first().history_change_reason == rewording["note"]
    lymph = Therapy.objects.get(slug="autologous-lymph-node-cell-therapy")
    assert "(Klimas 2001)" in lymph.mechanism
    assert lymph.history.first().history_change_reason == rewording["note"]
    item = next(i for i in SEED["evidence"] if i["id"] == "e-kb_reference_check-sizofiran-general")
    [record] = TherapyEvidence.objects.filter(source__key="kb_reference_check")
    assert record.statement == item["statement"]
    assert "uchida1992" not in record.statement
    assert record.history.first().history_change_reason == item["correction"]["note"]


def test_no_reader_text_of_the_seed_holds_a_citation_key():
    keys = {s["key"] for s in SEED["sources"]}
    pattern = re.compile(r"(?<![\w/])(?:" + "|".join(map(re.escape, keys)) + r")(?!\w)")
    readers_see = ("statement", "curator_note", "summary", "details", "notes", "mechanism")
    found = [
        (section, item.get("id") or item.get("slug"), name)
        for section in ("abnormalities", "lab_tests", "therapies", "findings", "evidence", "harms")
        for item in SEED[section]
        for name in (*readers_see, "population", "effect", "quote")
        if pattern.search(str(item.get(name) or ""))
    ]
    assert found == []


# --- the seed claims issue 13 found missing ---------------------------------------------------


@pytest.mark.parametrize(
    ("claim_id", "subject", "words"),
    [
        ("s09-complement", "complement-activation-defects", "genetic defects in complementary"),
        ("s09-bacterial-fungal", "immune-dysfunction-unspecified", "bacterial and fungal"),
        ("s09-enterovirus-herpesvirus", "immune-dysfunction-unspecified", "herpesviruses"),
        ("s09-fever-lymph-nodes", "immune-dysfunction-unspecified", "swelling in lymph nodes"),
        ("s09-rnase-l-atp", "rnase-l-pathway-dysfunction", "consumes ATP"),
        ("s09-not-picked-up", "immune-dysfunction-unspecified", "not be picked up"),
        ("s09-cfids", "immune-dysfunction-unspecified", "CFIDS"),
        ("s25-immune-dysregulation", "immune-dysfunction-unspecified", "dysregulation"),
        ("s25-autologous-frontier", None, "promising frontier"),
        ("s25-hbot-immune", "immune-dysfunction-unspecified", "modulate immune responses"),
    ],
)
def test_the_missing_seed_claims_are_in_the_seed(claim_id, subject, words):
    [claim] = [c for c in CLAIMS if c["id"] == claim_id]
    assert claim["source"] in SEED_ARTICLES
    assert claim["abnormality"] == subject
    assert words in claim["quote"]  # verbatim: tests/test_seed.py checks it against the article
    assert claim["level"] == "E"
    # Tied to an abnormality only as rationale where the article merely proposes it.
    if claim_id == "s25-hbot-immune":
        assert claim["link_kind"] == "rationale"


# --- the structured study fields (issue 12) ------------------------------------------------

# Each structured design and the levels it allows (DESIGN.md, "Evidence level"). A
# trial that reports no result yet (a registry entry) is opinion-level evidence, E.
STRUCTURED_LEVELS: dict[str, str] = {
    "systematic_review": "A",
    "rct": "AB",  # one trial is B; A needs two or more agreeing (or a meta-analysis)
    "crossover_rct": "AB",
    "non_randomised_controlled": "BC",
    "cohort": "BC",  # C without a control group
    "case_control": "BC",
    "cross_sectional": "BC",
    "case_series": "C",
    "case_report": "E",
    "in_vitro": "D",
    "animal": "D",
    "narrative_review": "E",
    "expert_opinion": "E",
    "regulatory_document": "E",
    "": "E",  # no design shown: no clinical level
}


@functools.cache
def references() -> dict[str, dict]:
    """references.json (the shared data folder; tests/test_seed.py finds it)."""
    text = (_shared_data() / "references.json").read_text(encoding="utf-8")
    return {r["key"]: r for r in json.loads(text)}


def structured_level_problem(item: dict) -> str | None:
    allowed = STRUCTURED_LEVELS.get(item["design"])
    if allowed is None:
        return f"design {item['design']!r} is not in STRUCTURED_LEVELS"
    if item["design"] in ("rct", "crossover_rct") and item["patients"] is None:
        allowed += "E" if item["direction"] == "describes" else ""  # no one enrolled yet
    if item["level"] not in allowed:
        return f"level {item['level']} for design {item['design']!r} (allowed: {allowed})"
    return None


def test_every_claim_carries_every_structured_study_field():
    missing = {c["id"]: [n for n in STUDY_FIELDS if n not in c] for c in CLAIMS}
    assert {k: v for k, v in missing.items() if v} == {}


def test_every_claims_structured_design_agrees_with_its_level():
    problems = {item["id"]: structured_level_problem(item) for item in CLAIMS}
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.parametrize(
    ("design", "level"),
    [
        ("rct", "C"),
        ("in_vitro", "B"),
        ("narrative_review", "C"),
        ("expert_opinion", "B"),
        ("case_series", "B"),
        ("systematic_review", "B"),
        ("", "C"),
    ],
)
def test_a_structured_design_the_level_does_not_allow_is_caught(design, level):
    item = {"design": design, "level": level, "patients": 30, "direction": "supports"}
    assert structured_level_problem(item)


def test_a_registered_trial_with_no_one_enrolled_may_be_graded_e_but_a_trial_may_not():
    trial = {"design": "rct", "level": "E", "patients": None, "direction": "describes"}
    assert structured_level_problem(trial) is None
    assert structured_level_problem({**trial, "patients": 30, "direction": "supports"})


def source_text(item: dict) -> str:
    """What the seed may take the structured fields from: the reference's design, n,
    outcome summary and notes, the claim's own text, and the item's ``study_note`` (a
    page read for it, named there)."""
    ref = references().get(item["source"], {})
    parts = [ref.get(k) or "" for k in ("study_design", "n", "outcome_summary", "notes")]
    parts += [item["statement"], item.get("quote", ""), item["curator_note"]]
    return " ".join([*parts, item.get("study_note", "")])


def _numbers(text: str) -> list[Decimal]:
    return [Decimal(n) for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)]


WEEKS_PER = {"week": Decimal(1), "month": Decimal("4.348"), "y": Decimal("52.18")}


def stated_weeks(text: str) -> set[Decimal]:
    """Durations the text states (24 weeks, week 40, 6-month, 1.7 y), in weeks to 0.1."""
    found = set()
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)[\s-]*(weeks?|months?|y|years?)\b", text):
        unit = "y" if unit.startswith("y") else unit.rstrip("s")
        found.add((Decimal(number) * WEEKS_PER[unit]).quantize(Decimal("0.1")))
    found.update(Decimal(n) for n in re.findall(r"\bweek (\d+)", text))
    return found


# Words that must appear in the source's text for each structured value other than the
# "not reported" default (checked case-insensitively).
STATED_BY: dict[tuple[str, str], tuple[str, ...]] = {
    ("blinding", "double"): ("double-blind", "quadruple-masked"),
    ("blinding", "single"): ("single-blind",),
    ("blinding", "blinded"): ("blinded",),
    ("blinding", "none"): ("open-label",),
    ("comparator", "placebo"): ("placebo",),
    ("comparator", "healthy_controls"): ("healthy",),
    ("comparator", "disease_controls"): ("fatigued controls", "gastroenteritis", "depression"),
    ("comparator", "none"): (
        "no control",
        "uncontrolled",
        "no sham",
        "open-label",
        "case series",
        "baseline",
        "no control group",
    ),
}


def stated_problems(item: dict, text: str) -> list[str]:
    """The numbers, durations and words of ``item``'s structured fields that ``text``
    does not state (also used for the literature, tests/test_literature.py)."""
    lowered = text.lower()
    problems = []
    for name in ("effect_value", "effect_ci_low", "effect_ci_high"):
        if item[name] is not None and f"{Decimal(str(item[name])).normalize():f}" not in text:
            problems.append(f"{name} {item[name]} is not in the source's text")
    numbers = _numbers(text)
    sums = {a + b for a in numbers for b in numbers}
    for name in ("patients", "controls"):
        if item[name] is not None and Decimal(item[name]) not in {*numbers, *sums}:
            problems.append(f"{name} {item[name]} is not a number (or sum) the source gives")
    if item["follow_up_weeks"] is not None:
        weeks = Decimal(str(item["follow_up_weeks"])).quantize(Decimal("0.1"))
        if weeks not in stated_weeks(text):
            problems.append(f"follow-up {weeks} weeks is not a duration the source states")
    for (name, value), words in STATED_BY.items():
        if item[name] == value and not any(w in lowered for w in words):
            problems.append(f"{name} {value!r} but the source says none of {words}")
    if item["selected_for_abnormality"] == "yes" and "selected" not in lowered:
        problems.append("selected 'yes' but the source does not say patients were selected")
    if item["selected_for_abnormality"] == "no" and not (
        "not selected" in lowered
        or any(int(a) < int(b) for a, b in re.findall(r"\b(\d+) of (?:the )?(\d+)\b", text))
    ):
        problems.append("selected 'no' without a text saying so (or that only N of M had it)")
    return problems


def unstated_study_fields(item: dict) -> list[str]:
    """The structured fields of ``item`` that its source's text does not support."""
    text = source_text(item)
    problems = []
    if item["source"] not in references():
        # The seed articles (opinion) and the curators' own check of the references (no
        # study, no design): nothing measured, nothing to fill.
        filled = {
            n: item[n]
            for n in STUDY_FIELDS
            if n not in ("design", "blinding")
            and item[n] not in (None, "", "not_reported", "not_assessed", "none")
        }
        design = "expert_opinion" if item["source"] in SEED_ARTICLES else ""
        if item["design"] != design or filled:
            problems.append(f"a claim with no study behind it, with {filled or item['design']}")
        return problems
    problems += stated_problems(item, text)
    if item["risk_of_bias"] != "not_assessed":
        ref_notes = (references()[item["source"]].get("notes") or "").lower()
        phrases = re.split(r"[;.]\s*", item["risk_of_bias_reason"].lower())
        if not any(len(p.split()) >= 4 and p in ref_notes for p in phrases):
            problems.append("a risk-of-bias judgement that quotes no phrase of the notes")
    if item["design"] == "" and (references()[item["source"]].get("study_design")):
        problems.append("no structured design although the reference states one")
    if item["design"] and not references()[item["source"]].get("study_design"):
        problems.append("a structured design although the reference states none")
    return problems


def test_the_structured_study_fields_hold_only_what_the_sources_say():
    problems = {item["id"]: unstated_study_fields(item) for item in CLAIMS}
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.parametrize(
    ("claim_id", "change"),
    [
        # A value the outcome summary does not state (computed from 10 of 23 and 3 of 26).
        (
            "e-lloyd1990_ivig-ivig-abnormal-cell-mediated-immunity",
            {"effect_measure": "rr", "effect_value": 3.77},
        ),
        # A CI nobody stated.
        (
            "e-kim2025_hbot_preprint-hyperbaric-oxygen-therapy-general",
            {"effect_ci_low": 0.3, "effect_ci_high": 1.1},
        ),
        # Participants the summary does not give.
        ("f-skowera2004_th2-th1-to-th2-shift", {"patients": 40}),
        # A follow-up the summary does not give.
        ("e-vollmerconna1997_ivig-ivig-general", {"follow_up_weeks": 12}),
        # Blinding and a comparator the source does not state.
        (
            "e-polo2019_ldn-low-dose-naltrexone-low-nk-cell-cytotoxicity",
            {"blinding": "double", "comparator": "placebo"},
        ),
        # Selected for the abnormality, which no text says.
        (
            "e-strayer1994_ampligen_rct-rintatolimod-rnase-l-pathway-dysfunction",
            {"selected_for_abnormality": "yes"},
        ),
        # A judged risk of bias with a reason of our own.
        (
            "e-rowe1997_ivig_adolescents-ivig-general",
            {"risk_of_bias": "low", "risk_of_bias_reason": "Looked fine to us."},
        ),
        # Study data on a seed-article claim.
        ("s09-ldn-nk", {"patients": 12}),
    ],
)
def test_a_structured_value_the_source_does_not_state_is_caught(claim_id, change):
    [item] = [c for c in CLAIMS if c["id"] == claim_id]
    assert unstated_study_fields(item) == []
    assert unstated_study_fields({**item, **change})


@pytest.mark.django_db
def test_load_seed_update_fills_the_study_fields_of_a_live_database_with_a_history_note(
    tmp_path,
):
    before = copy.deepcopy(SEED)
    for item in [*before["findings"], *before["evidence"]]:
        for name in STUDY_FIELDS:
            item.pop(name)
    (tmp_path / "before.json").write_text(json.dumps(before), encoding="utf-8")
    seed_load(path=tmp_path / "before.json")
    [item] = [c for c in SEED["evidence"] if c["id"].startswith("e-strayer2012_amp516")]
    record = TherapyEvidence.objects.get(source__key=item["source"], statement=item["statement"])
    assert (record.design, record.patients, record.risk_of_bias) == ("", None, "not_assessed")

    seed_load(update=True)

    record.refresh_from_db()
    assert record.design == "rct"
    assert record.patients == 234
    assert record.effect_value == Decimal("21.3")
    assert record.risk_of_bias == "some_concerns"
    addition = SEED["field_additions"][0]
    assert addition["fields"] == list(STUDY_FIELDS)
    assert record.history.first().history_change_reason == addition["note"]
    assert len(addition["note"]) <= 100
    # Every claim now holds the seed's values: loading again changes nothing.
    report = seed_load(update=True)
    assert not report.updated.get("therapy evidence") and not report.updated.get("finding")
