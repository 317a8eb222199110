"""A synthetic knowledge base of any size, for benchmarks and scale tests (issue 6).

``synthetic_generate`` writes abnormalities, lab tests, therapies, sources,
findings, therapy evidence, regulatory statuses and harms, skewed like real literature
(Zipf-like: a few therapies and abnormalities hold most of the evidence), with
every moderation status present. It is deterministic for a given ``seed``.

Nothing it writes is medical content, and everything says so: names, titles and
statements start with "Synthetic", keys and slugs with ``synthetic-``, sources have
no DOI, PMID or URL (an invented identifier could point at a real paper), and
``quote`` stays empty because there is no source text to quote.

Rows are written in bulk: ``COPY`` through psycopg on PostgreSQL, ``bulk_create``
in batches elsewhere. Bulk writes skip ``save()``, so synthetic rows have no
history entries; they are not curated knowledge.
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max, Q
from django.utils import timezone

from curation.cache import public_cache_invalidate
from curation.models import Status
from findings.models import (
    Abnormality,
    AbnormalityCategory,
    Availability,
    CaseDefinition,
    Change,
    Direction,
    Finding,
    LabTest,
    Level,
    Source,
    SourceKind,
)
from treatments.knowledge_base import CURATED_MODELS
from treatments.models import (
    CertaintyOverride,
    Harm,
    HarmKind,
    LinkKind,
    PairCertainty,
    RegulatoryStatus,
    RegulatoryStatusKind,
    Severity,
    Stage,
    Therapy,
    TherapyEvidence,
    TherapyKind,
)

PREFIX = "synthetic-"
NOTICE = "Synthetic record generated for performance testing; not medical content."

# Full scale (issue 6): 500,000 evidence items with 1,000 abnormalities, 2,000
# therapies and 50,000 sources. Other sizes scale these ratios, with floors so that
# a small run still has enough of everything to filter on.
EVIDENCE_PER_ABNORMALITY = 500
EVIDENCE_PER_THERAPY = 250
EVIDENCE_PER_SOURCE = 10
EVIDENCE_PER_LAB_TEST = 1000
MIN_ABNORMALITIES = 12
MIN_THERAPIES = 20
MIN_SOURCES = 30
MIN_LAB_TESTS = 5

# The best-ranked records are always published, so a benchmark can name them
# (synthetic-therapy-1 is the therapy with the most evidence, and so on).
ALWAYS_PUBLISHED_RANKS = 5

# Moderation mix: most records published, every status present.
RECORD_STATUSES = {
    Status.PUBLISHED: 90,
    Status.DRAFT: 4,
    Status.SUBMITTED: 3,
    Status.REJECTED: 2,
    Status.RETRACTED: 1,
}
CLAIM_STATUSES = {
    Status.PUBLISHED: 85,
    Status.DRAFT: 5,
    Status.SUBMITTED: 5,
    Status.REJECTED: 3,
    Status.RETRACTED: 2,
}
# Most of the literature is weak: opinion and indirect evidence outnumber trials.
LEVELS = {Level.A: 3, Level.B: 12, Level.C: 25, Level.D: 35, Level.E: 25}
DIRECTIONS = {
    Direction.SUPPORTS: 55,
    Direction.DOES_NOT_SUPPORT: 20,
    Direction.MIXED: 15,
    Direction.DESCRIBES: 10,
}
LINK_KINDS = {LinkKind.RATIONALE: 50, LinkKind.SELECTED: 20, LinkKind.MEASURED: 30}
# Share of evidence about the therapy in ME/CFS generally (no abnormality named).
GENERAL_EVIDENCE_SHARE = 0.1
# Share of claims contradicted by another claim of the same kind.
CONTRADICTED_SHARE = 0.01
# How steep the skew is: weight of rank r is 1 / r**s.
THERAPY_SKEW = 1.05
ABNORMALITY_SKEW = 1.0
SOURCE_SKEW = 0.6
# A therapy's evidence mostly concerns a handful of abnormalities of its own.
FOCUS_SHARE = 0.7

COMPONENTS = [
    ("NK cells", AbnormalityCategory.CELLULAR, "natural killer cell cytotoxicity"),
    ("CD8 T cells", AbnormalityCategory.CELLULAR, "cytotoxic T cell function"),
    ("CD4 T cells", AbnormalityCategory.CELLULAR, "helper T cell proliferation"),
    ("B cells", AbnormalityCategory.CELLULAR, "memory B cell subsets"),
    ("Monocytes", AbnormalityCategory.CELLULAR, "monocyte activation markers"),
    ("IgG1", AbnormalityCategory.HUMORAL, "IgG1 subclass level"),
    ("IgG3", AbnormalityCategory.HUMORAL, "IgG3 subclass level"),
    ("IgG4", AbnormalityCategory.HUMORAL, "IgG4 subclass level"),
    ("IgA", AbnormalityCategory.HUMORAL, "mucosal immunoglobulin A"),
    ("Autoantibodies", AbnormalityCategory.HUMORAL, "adrenergic receptor autoantibodies"),
    ("RNase L", AbnormalityCategory.MOLECULAR_PATHWAY, "2-5A synthetase and RNase L pathway"),
    ("TRPM3", AbnormalityCategory.MOLECULAR_PATHWAY, "TRPM3 ion channel signalling"),
    ("Perforin", AbnormalityCategory.MOLECULAR_PATHWAY, "perforin and granzyme expression"),
    ("Interferon", AbnormalityCategory.CYTOKINE, "type I interferon signature"),
    ("IL-6", AbnormalityCategory.CYTOKINE, "interleukin 6 concentration"),
    ("TNF-alpha", AbnormalityCategory.CYTOKINE, "tumour necrosis factor alpha"),
    ("TGF-beta", AbnormalityCategory.CYTOKINE, "transforming growth factor beta"),
    ("Complement", AbnormalityCategory.OTHER, "complement activation products"),
    ("Mast cells", AbnormalityCategory.OTHER, "mast cell mediator release"),
]
CHANGE_WORDS = {
    Change.DECREASED: "low",
    Change.INCREASED: "elevated",
    Change.DYSFUNCTIONAL: "impaired",
    Change.SHIFTED: "shifted",
}
STEMS = [
    "vel", "tor", "ani", "mor", "quin", "dex", "lu", "cari", "zan", "pel", "ro", "sima",
    "tra", "nor", "beli", "oxa", "fen", "ga", "rimo", "sul",
]  # fmt: skip
SUFFIXES = {
    TherapyKind.DRUG: ["xone", "pril", "tinib", "zole", "amide"],
    TherapyKind.BIOLOGIC: ["mab", "cept", "kin", "globulin"],
    TherapyKind.CELL_THERAPY: ["cel", "leucel"],
    TherapyKind.PROCEDURE: ["pheresis", "baric therapy"],
    TherapyKind.SUPPLEMENT: ["ol", "ine", "ate"],
}
MECHANISMS = [
    "modulates toll-like receptor signalling and type I interferon release",
    "blocks opioid growth factor receptors at low dose and may calm microglia",
    "supplies pooled immunoglobulin G to replace missing subclasses",
    "restores natural killer cell perforin and granzyme content",
    "removes circulating autoantibodies against adrenergic receptors",
    "dampens interleukin 6 and tumour necrosis factor alpha production",
    "supports mitochondrial energy metabolism in lymphocytes",
    "shifts the T helper balance from a Th2 towards a Th1 profile",
]
DESIGNS = [
    ("randomized double-blind placebo-controlled trial", {Level.A, Level.B}),
    ("randomized controlled crossover trial", {Level.A, Level.B}),
    ("meta-analysis of randomized trials", {Level.A}),
    ("open-label single-arm trial", {Level.C}),
    ("retrospective chart review", {Level.C}),
    ("case series", {Level.C, Level.E}),
    ("in vitro study of patient cells", {Level.D}),
    ("animal model study", {Level.D}),
    ("study in another condition", {Level.D}),
    ("narrative review", {Level.E}),
    ("patient-organisation web article", {Level.E}),
    ("case report", {Level.E}),
]
OUTCOMES = {
    Direction.SUPPORTS: "improved",
    Direction.DOES_NOT_SUPPORT: "did not change",
    Direction.MIXED: "gave mixed results for",
    Direction.DESCRIBES: "described without judging",
}
FILLER = [
    "Fatigue, post-exertional malaise and cognitive symptoms were recorded with standard "
    "questionnaires at baseline and at follow-up.",
    "Natural killer cell cytotoxicity was measured by flow cytometry against K562 target "
    "cells, alongside perforin and granzyme B expression.",
    "Serum immunoglobulin G subclasses, cytokine panels and complement fragments were "
    "assayed in a central laboratory.",
    "The authors note a small sample, a short follow-up and the absence of an objective "
    "activity measure as limitations.",
    "Adverse events were mostly mild and transient; no serious events were attributed to "
    "the intervention.",
    "Participants were recruited from a specialist clinic, which may not represent "
    "housebound or severely affected patients.",
    "Interferon-stimulated gene expression and RNase L cleavage products were compared with "
    "healthy controls.",
    "T cell proliferation after mitogen stimulation and the Th1 to Th2 ratio were reported "
    "before and after treatment.",
]
CURATOR_NOTES = [
    "Small uncontrolled sample; replication needed.",
    "Patients were selected by a laboratory marker, so results may not generalise.",
    "The abnormality itself was not re-measured after treatment.",
    "Case definition not stated; may include patients without post-exertional malaise.",
    "",
    "",
]
JURISDICTIONS = ["Argentina", "United States", "European Union", "Canada", "Australia", "Japan"]


class SyntheticRefused(Exception):
    """The database holds records the generator did not make; nothing was written."""


@dataclass(frozen=True)
class SyntheticPlan:
    evidence: int
    findings: int
    abnormalities: int
    therapies: int
    sources: int
    lab_tests: int

    @classmethod
    def for_size(cls, evidence: int, findings: int | None = None) -> SyntheticPlan:
        if evidence < 1:
            raise ValueError("evidence must be at least 1")
        return cls(
            evidence=evidence,
            findings=evidence if findings is None else findings,
            abnormalities=max(MIN_ABNORMALITIES, evidence // EVIDENCE_PER_ABNORMALITY),
            therapies=max(MIN_THERAPIES, evidence // EVIDENCE_PER_THERAPY),
            sources=max(MIN_SOURCES, evidence // EVIDENCE_PER_SOURCE),
            lab_tests=max(MIN_LAB_TESTS, evidence // EVIDENCE_PER_LAB_TEST),
        )


@dataclass
class SyntheticReport:
    plan: SyntheticPlan
    written: dict[str, int] = field(default_factory=dict)
    removed_previous: bool = False

    def summary(self) -> str:
        return ", ".join(f"{n} {what}" for what, n in self.written.items())


# ---------------------------------------------------------------------------
# Refusal: never mix synthetic rows into a real knowledge base by accident
# ---------------------------------------------------------------------------


def real_records() -> dict[str, int]:
    """Records the generator did not make (the seed, curators' work), by kind."""
    synthetic_source = Q(source__key__startswith=PREFIX)
    checks = {
        "sources": Source.objects.exclude(key__startswith=PREFIX),
        "abnormalities": Abnormality.objects.exclude(slug__startswith=PREFIX),
        "therapies": Therapy.objects.exclude(slug__startswith=PREFIX),
        "lab tests": LabTest.objects.exclude(slug__startswith=PREFIX),
        "findings": Finding.objects.exclude(synthetic_source),
        "therapy evidence": TherapyEvidence.objects.exclude(synthetic_source),
        "regulatory statuses": RegulatoryStatus.objects.exclude(synthetic_source),
        "harms": Harm.objects.exclude(synthetic_source),
    }
    found = {}
    for what, queryset in checks.items():
        # Existence, not a count: this runs before a 500k-row load.
        if queryset.exists():
            found[what] = queryset.count()
    return found


def _delete_previous_synthetic() -> bool:
    """Remove an earlier synthetic run (and nothing else) so a new one starts clean.

    Plain SQL ``DELETE``: the ORM's cascade collector would load every row first.
    """
    if not Source.objects.filter(key__startswith=PREFIX).exists() and not (
        Therapy.objects.filter(slug__startswith=PREFIX).exists()
        or Abnormality.objects.filter(slug__startswith=PREFIX).exists()
    ):
        return False
    qn = connection.ops.quote_name

    def sql_delete(table: str, where: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {qn(table)} WHERE {where}")

    like = f"'{PREFIX}%'"
    therapy_ids = f"SELECT id FROM {qn(Therapy._meta.db_table)} WHERE slug LIKE {like}"
    source_ids = f"SELECT id FROM {qn(Source._meta.db_table)} WHERE {qn('key')} LIKE {like}"
    abn_ids = f"SELECT id FROM {qn(Abnormality._meta.db_table)} WHERE slug LIKE {like}"
    test_ids = f"SELECT id FROM {qn(LabTest._meta.db_table)} WHERE slug LIKE {like}"
    evidence_ids = (
        f"SELECT id FROM {qn(TherapyEvidence._meta.db_table)} WHERE source_id IN ({source_ids})"
    )
    finding_ids = f"SELECT id FROM {qn(Finding._meta.db_table)} WHERE source_id IN ({source_ids})"
    m2m = TherapyEvidence._meta.get_field("contradicted_by").remote_field.through._meta.db_table
    sql_delete(m2m, f"from_therapyevidence_id IN ({evidence_ids})")
    sql_delete(m2m, f"to_therapyevidence_id IN ({evidence_ids})")
    m2m = TherapyEvidence._meta.get_field("contradicting_findings").remote_field.through
    sql_delete(m2m._meta.db_table, f"therapyevidence_id IN ({evidence_ids})")
    sql_delete(m2m._meta.db_table, f"finding_id IN ({finding_ids})")
    m2m = Finding._meta.get_field("contradicted_by").remote_field.through._meta.db_table
    sql_delete(m2m, f"from_finding_id IN ({finding_ids})")
    sql_delete(m2m, f"to_finding_id IN ({finding_ids})")
    sql_delete(TherapyEvidence._meta.db_table, f"source_id IN ({source_ids})")
    sql_delete(Finding._meta.db_table, f"source_id IN ({source_ids})")
    sql_delete(RegulatoryStatus._meta.db_table, f"source_id IN ({source_ids})")
    sql_delete(Harm._meta.db_table, f"source_id IN ({source_ids})")
    m2m = LabTest._meta.get_field("abnormalities").remote_field.through._meta.db_table
    sql_delete(m2m, f"labtest_id IN ({test_ids})")
    sql_delete(LabTest._meta.db_table, f"slug LIKE {like}")
    sql_delete(Source._meta.db_table, f"{qn('key')} LIKE {like}")
    # The ratings of the synthetic pairs (and any override of them) go with them.
    for rated in (PairCertainty, CertaintyOverride):
        sql_delete(
            rated._meta.db_table,
            f"therapy_id IN ({therapy_ids}) OR abnormality_id IN ({abn_ids})",
        )
    sql_delete(Therapy._meta.db_table, f"id IN ({therapy_ids})")
    sql_delete(Abnormality._meta.db_table, f"id IN ({abn_ids})")
    return True


# ---------------------------------------------------------------------------
# Bulk writing: COPY on PostgreSQL, bulk_create elsewhere
# ---------------------------------------------------------------------------

BATCH_SIZE = 2000


class _Writer:
    def __init__(self, now: datetime):
        self.now = now
        self.postgres = connection.vendor == "postgresql"
        self.written: dict[str, int] = {}

    def next_id(self, model: type[models.Model]) -> int:
        return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def write(self, model: type[models.Model], rows: Iterable[dict[str, Any]], label: str) -> None:
        """Write rows given as {attname: value}, ``id`` included (later tables refer to
        it); other fields take their defaults."""
        fields = model._meta.concrete_fields
        defaults: dict[str, Any] = {}
        for f in fields:
            if f.attname in ("created_at", "updated_at"):
                defaults[f.attname] = self.now
            elif f.has_default():
                defaults[f.attname] = f.get_default()
            elif f.null:
                defaults[f.attname] = None
            else:
                defaults[f.attname] = ""
        count = 0
        if self.postgres:
            qn = connection.ops.quote_name
            attnames = [f.attname for f in fields]
            sql = "COPY {} ({}) FROM STDIN".format(
                qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields)
            )
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row([row[a] if a in row else defaults[a] for a in attnames])
                    count += 1
        else:
            batch: list[models.Model] = []
            for row in rows:
                batch.append(model(**{**defaults, **row}))
                if len(batch) >= BATCH_SIZE:
                    model.objects.bulk_create(batch, batch_size=BATCH_SIZE)
                    count += len(batch)
                    batch = []
            if batch:
                model.objects.bulk_create(batch, batch_size=BATCH_SIZE)
                count += len(batch)
        self.written[label] = self.written.get(label, 0) + count

    def write_links(self, through: type[models.Model], a: str, b: str, pairs, label: str) -> None:
        """Many-to-many rows; the through table numbers them itself."""
        pairs = list(pairs)
        if self.postgres:
            qn = connection.ops.quote_name
            sql = f"COPY {qn(through._meta.db_table)} ({qn(a)}, {qn(b)}) FROM STDIN"
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for pair in pairs:
                    copy.write_row(pair)
        else:
            through.objects.bulk_create(
                [through(**{a: x, b: y}) for x, y in pairs], batch_size=BATCH_SIZE
            )
        self.written[label] = self.written.get(label, 0) + len(pairs)

    def reset_sequences(self, models_: Iterable[type[models.Model]]) -> None:
        """After explicit ids, the next curator's record must not collide with them."""
        if not self.postgres:
            return
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models_):
                cursor.execute(sql)


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------


def _zipf_cum_weights(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, n + 1)))


def _picker(rng: random.Random, weights: dict[Any, int]) -> Callable[[], Any]:
    values = list(weights)
    cum = list(itertools.accumulate(weights.values()))
    total = cum[-1]
    return lambda: values[bisect(cum, rng.random() * total)]


def _ranked_picker(rng: random.Random, n: int, s: float) -> Callable[[], int]:
    """0-based rank drawn with weight 1/(rank+1)**s."""
    cum = _zipf_cum_weights(n, s)
    total = cum[-1]
    last = n - 1
    return lambda: min(bisect(cum, rng.random() * total), last)


def _status(rng_pick: Callable[[], Any], rank: int) -> str:
    return Status.PUBLISHED if rank < ALWAYS_PUBLISHED_RANKS else rng_pick()


def _therapy_word(i: int, kind: str) -> str:
    stem = STEMS[i % len(STEMS)] + STEMS[(i // len(STEMS)) % len(STEMS)]
    suffixes = SUFFIXES[kind]
    return stem + suffixes[(i // 7) % len(suffixes)]


@transaction.atomic
def synthetic_generate(
    *,
    evidence: int,
    seed: int,
    findings: int | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SyntheticReport:
    """Fill the database with a synthetic knowledge base of ``evidence`` items.

    Refuses (``SyntheticRefused``) when the database holds records the generator
    did not make, unless ``force``; then the synthetic rows are added beside them
    and the real records are left untouched. An earlier synthetic run is replaced.
    """
    plan = SyntheticPlan.for_size(evidence, findings)
    say = progress or (lambda message: None)
    real = real_records()
    if real and not force:
        listed = ", ".join(f"{n} {what}" for what, n in real.items())
        raise SyntheticRefused(
            f"this database holds records the generator did not make ({listed}), for example "
            "the seed knowledge base. Synthetic data would mix with them. Use an empty "
            "database, or pass --force to add synthetic records beside them."
        )
    report = SyntheticReport(plan=plan)
    report.removed_previous = _delete_previous_synthetic()
    if report.removed_previous:
        say("removed the previous synthetic data")

    rng = random.Random(seed)
    writer = _Writer(now=timezone.now())
    record_status = _picker(rng, RECORD_STATUSES)
    claim_status = _picker(rng, CLAIM_STATUSES)
    pick_level = _picker(rng, LEVELS)
    pick_direction = _picker(rng, DIRECTIONS)
    pick_link = _picker(rng, LINK_KINDS)
    pick_casedef = _picker(rng, dict.fromkeys(CaseDefinition.values, 1))

    # Abnormalities: rank 1 has the most findings and evidence.
    abn_base = writer.next_id(Abnormality)
    abn_ids = list(range(abn_base, abn_base + plan.abnormalities))
    abn_labels: list[str] = []
    changes = list(Change.values)

    def abnormality_rows() -> Iterator[dict[str, Any]]:
        for rank, pk in enumerate(abn_ids):
            component, category, what = COMPONENTS[rank % len(COMPONENTS)]
            change = changes[(rank // len(COMPONENTS)) % len(changes)]
            label = f"{CHANGE_WORDS[change]} {what}"
            abn_labels.append(label)
            yield {
                "id": pk,
                "status": _status(record_status, rank),
                "name": f"Synthetic {label} {rank + 1}",
                "slug": f"{PREFIX}abnormality-{rank + 1}",
                "aliases": f"SYN-A{rank + 1}",
                "category": category,
                "component": component,
                "change": change,
                "summary": f"{NOTICE} A made-up abnormality: {label} in {component}.",
                "details": " ".join(rng.sample(FILLER, 2)),
            }

    say(f"writing {plan.abnormalities} abnormalities")
    writer.write(Abnormality, abnormality_rows(), "abnormalities")

    test_base = writer.next_id(LabTest)
    test_ids = list(range(test_base, test_base + plan.lab_tests))
    availabilities = list(Availability.values)

    def lab_test_rows() -> Iterator[dict[str, Any]]:
        for rank, pk in enumerate(test_ids):
            component = COMPONENTS[rank % len(COMPONENTS)][0]
            yield {
                "id": pk,
                "status": _status(record_status, rank),
                "name": f"Synthetic {component} assay {rank + 1}",
                "slug": f"{PREFIX}lab-test-{rank + 1}",
                "measures": f"{NOTICE} Measures {component} in a made-up way.",
                "specimen": "Blood (synthetic)",
                "availability": availabilities[rank % len(availabilities)],
            }

    writer.write(LabTest, lab_test_rows(), "lab tests")
    lab_links = [
        (test_ids[i], abn_ids[(i * 7 + k) % plan.abnormalities])
        for i in range(plan.lab_tests)
        for k in range(1 + i % 3)
    ]
    through = LabTest._meta.get_field("abnormalities").remote_field.through
    writer.write_links(through, "labtest_id", "abnormality_id", lab_links, "lab test links")

    therapy_base = writer.next_id(Therapy)
    therapy_ids = list(range(therapy_base, therapy_base + plan.therapies))
    therapy_words: list[str] = []
    kinds = list(TherapyKind.values)
    stages = list(Stage.values)

    def therapy_rows() -> Iterator[dict[str, Any]]:
        for rank, pk in enumerate(therapy_ids):
            kind = kinds[rank % len(kinds)]
            word = _therapy_word(rank, kind)
            therapy_words.append(word)
            yield {
                "id": pk,
                "status": _status(record_status, rank),
                "name": f"Synthetic {word} {rank + 1}",
                "slug": f"{PREFIX}therapy-{rank + 1}",
                "aliases": f"SYN-T{rank + 1}\n{word.upper()}-{rank + 1}",
                "kind": kind,
                "mechanism": f"Synthetic: {MECHANISMS[rank % len(MECHANISMS)]}.",
                "stage": stages[(rank * 3) % len(stages)],
                "summary": f"{NOTICE} {word.capitalize()} is a made-up {kind.replace('_', ' ')} "
                f"that {MECHANISMS[rank % len(MECHANISMS)]}.",
            }

    say(f"writing {plan.therapies} therapies")
    writer.write(Therapy, therapy_rows(), "therapies")

    source_base = writer.next_id(Source)
    source_ids = list(range(source_base, source_base + plan.sources))
    source_years: list[int] = []
    source_kinds = {
        SourceKind.JOURNAL_ARTICLE: 60,
        SourceKind.REVIEW: 15,
        SourceKind.PREPRINT: 5,
        SourceKind.TRIAL_REGISTRY: 8,
        SourceKind.WEB_ARTICLE: 7,
        SourceKind.REGULATORY_DOCUMENT: 2,
        SourceKind.BOOK: 2,
        SourceKind.PATENT: 1,
    }
    pick_source_kind = _picker(rng, source_kinds)
    # More recent years have more papers.
    pick_year = _picker(rng, {year: year - 1980 for year in range(1985, 2026)})

    def source_rows() -> Iterator[dict[str, Any]]:
        for rank, pk in enumerate(source_ids):
            year = pick_year()
            source_years.append(year)
            component = COMPONENTS[rank % len(COMPONENTS)]
            retracted = rng.random() < 0.002
            yield {
                "id": pk,
                "status": _status(record_status, rank),
                "key": f"{PREFIX}source-{rank + 1}",
                "kind": pick_source_kind(),
                "title": f"Synthetic study {rank + 1}: {component[2]} in a made-up ME/CFS "
                f"cohort ({component[0]})",
                "authors": f"Synthetic Author{rank % 997 + 1} A, "
                f"Synthetic Author{rank % 389 + 1} B",
                "container": f"Synthetic Journal of Immunology {rank % 40 + 1}",
                "year": year,
                "published_on": date(year, rank % 12 + 1, rank % 28 + 1),
                "retracted": retracted,
                "retraction_note": "Synthetic retraction." if retracted else "",
                "verification_note": NOTICE,
            }

    say(f"writing {plan.sources} sources")
    writer.write(Source, source_rows(), "sources")

    pick_therapy = _ranked_picker(rng, plan.therapies, THERAPY_SKEW)
    pick_abn = _ranked_picker(rng, plan.abnormalities, ABNORMALITY_SKEW)
    pick_source = _ranked_picker(rng, plan.sources, SOURCE_SKEW)
    # Each therapy's own handful of abnormalities, drawn with the same skew.
    focus = [[pick_abn() for _ in range(3 + t % 6)] for t in range(plan.therapies)]
    designs_by_level = {
        level: [d for d, levels in DESIGNS if level in levels] for level in Level.values
    }

    def claim_fields(level: str, direction: str, subject: str, what: str) -> dict[str, Any]:
        design = rng.choice(designs_by_level[level])
        n = rng.randint(8, 400)
        casedef = pick_casedef()
        return {
            "status": claim_status(),
            "level": level,
            "direction": direction,
            "case_definition": casedef,
            "study_design": f"Synthetic {design}",
            "participants": f"{n} synthetic participants",
            "statement": f"Synthetic {what} (not real data): a {design} of {n} made-up patients "
            f"({CaseDefinition(casedef).label}) {subject}. " + " ".join(rng.sample(FILLER, 2)),
            "curator_note": rng.choice(CURATOR_NOTES),
            # Published claims carry one (the publish rule); no draw, so the same seed
            # still makes the same knowledge base.
            "plain_summary": f"Made-up {what} for testing. It is not real.",
        }

    evidence_base = writer.next_id(TherapyEvidence)

    def evidence_rows() -> Iterator[dict[str, Any]]:
        for i in range(plan.evidence):
            t = pick_therapy()
            if rng.random() < GENERAL_EVIDENCE_SHARE:
                abnormality, link, about = None, "", "ME/CFS symptoms generally"
            else:
                a = rng.choice(focus[t]) if rng.random() < FOCUS_SHARE else pick_abn()
                abnormality, link, about = abn_ids[a], pick_link(), abn_labels[a]
            direction = pick_direction()
            subject = f"found that {therapy_words[t]} {OUTCOMES[direction]} {about}"
            row = claim_fields(pick_level(), direction, subject, "evidence")
            s = pick_source()
            row.update(
                id=evidence_base + i,
                therapy_id=therapy_ids[t],
                abnormality_id=abnormality,
                link_kind=link,
                source_id=source_ids[s],
                source_year=source_years[s],  # the sort key (EvidenceFields.source_year)
            )
            yield row

    say(f"writing {plan.evidence} therapy evidence")
    writer.write(TherapyEvidence, evidence_rows(), "therapy evidence")

    finding_base = writer.next_id(Finding)

    def finding_rows() -> Iterator[dict[str, Any]]:
        for i in range(plan.findings):
            a = pick_abn()
            direction = pick_direction()
            verb = {
                Direction.SUPPORTS: "confirmed",
                Direction.DOES_NOT_SUPPORT: "did not find",
                Direction.MIXED: "found in some but not all patients",
                Direction.DESCRIBES: "described",
            }[direction]
            row = claim_fields(pick_level(), direction, f"{verb} {abn_labels[a]}", "finding")
            row.update(
                id=finding_base + i,
                abnormality_id=abn_ids[a],
                lab_test_id=test_ids[a % plan.lab_tests] if rng.random() < 0.1 else None,
            )
            s = pick_source()
            row.update(source_id=source_ids[s], source_year=source_years[s])
            yield row

    say(f"writing {plan.findings} findings")
    writer.write(Finding, finding_rows(), "findings")

    def contradictions(base: int, n: int) -> list[tuple[int, int]]:
        pairs = set()
        for _ in range(int(n * CONTRADICTED_SHARE)):
            a, b = base + rng.randrange(n), base + rng.randrange(n)
            if a != b:
                pairs.add((a, b))
        return sorted(pairs)

    through = TherapyEvidence._meta.get_field("contradicted_by").remote_field.through
    writer.write_links(
        through,
        "from_therapyevidence_id",
        "to_therapyevidence_id",
        contradictions(evidence_base, plan.evidence),
        "evidence contradictions",
    )
    through = Finding._meta.get_field("contradicted_by").remote_field.through
    writer.write_links(
        through,
        "from_finding_id",
        "to_finding_id",
        contradictions(finding_base, plan.findings),
        "finding contradictions",
    )

    reg_base = writer.next_id(RegulatoryStatus)
    reg_kinds = list(RegulatoryStatusKind.values)

    def regulatory_rows() -> Iterator[dict[str, Any]]:
        pk = reg_base
        for t in range(plan.therapies):
            for k in range(t % 3):
                yield {
                    "id": pk,
                    "status": claim_status(),
                    "therapy_id": therapy_ids[t],
                    "jurisdiction": JURISDICTIONS[(t + k) % len(JURISDICTIONS)],
                    "regulatory_status": reg_kinds[(t + k) % len(reg_kinds)],
                    "date_note": "synthetic",
                    "statement": f"Synthetic regulatory status (not real): {NOTICE}",
                    "source_id": source_ids[pick_source()],
                }
                pk += 1

    writer.write(RegulatoryStatus, regulatory_rows(), "regulatory statuses")

    harm_base = writer.next_id(Harm)
    harm_kinds = list(HarmKind.values)
    severities = list(Severity.values)

    def harm_rows() -> Iterator[dict[str, Any]]:
        # Up to three harms a therapy; every fourth therapy has none, as a real one may.
        pk = harm_base
        for t in range(plan.therapies):
            for k in range(t % 4):
                yield {
                    "id": pk,
                    "status": claim_status(),
                    "therapy_id": therapy_ids[t],
                    "kind": harm_kinds[(t + k) % len(harm_kinds)],
                    "effect": f"Synthetic effect {k + 1} (not real)",
                    "frequency": "synthetic",
                    "severity": severities[(t + k) % len(severities)],
                    "population": "Made-up participants",
                    "statement": f"Synthetic harm (not real): {NOTICE}",
                    "source_id": source_ids[pick_source()],
                }
                pk += 1

    writer.write(Harm, harm_rows(), "harms")
    writer.reset_sequences(CURATED_MODELS)
    # Fresh statistics, or the planner guesses on a table it thinks is empty (PostgreSQL)
    # or has none at all (SQLite: it then takes a status index, which matches most rows,
    # for a selective one: a therapy's page read every published item, issue 14).
    with connection.cursor() as cursor:
        if writer.postgres:
            for model in (Abnormality, Therapy, Source, TherapyEvidence, Finding):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
    report.written = writer.written
    # Bulk writes send no signals: tell the shared cache that public data changed.
    public_cache_invalidate()
    return report
