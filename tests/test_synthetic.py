"""generate_synthetic: a synthetic knowledge base for benchmarks (issue 6)."""

from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from curation.models import Status
from findings.models import Abnormality, Finding, Source
from tests import factories
from treatments.models import RegulatoryStatus, Therapy, TherapyEvidence
from treatments.synthetic import SyntheticPlan, SyntheticRefused, synthetic_generate

pytestmark = pytest.mark.django_db

SMALL = 1000


def snapshot() -> list[tuple]:
    """What a reader could tell apart, without ids or timestamps."""
    return list(
        TherapyEvidence.objects.order_by("pk").values_list(
            "therapy__slug",
            "abnormality__slug",
            "source__key",
            "status",
            "level",
            "direction",
            "link_kind",
            "statement",
        )
    )


def test_it_writes_the_counts_the_plan_scales_from_the_evidence_count():
    report = synthetic_generate(evidence=SMALL, seed=1)

    plan = SyntheticPlan.for_size(SMALL)
    assert TherapyEvidence.objects.count() == SMALL
    assert Finding.objects.count() == SMALL
    assert Therapy.objects.count() == plan.therapies
    assert Abnormality.objects.count() == plan.abnormalities
    assert Source.objects.count() == plan.sources
    assert RegulatoryStatus.objects.exists()
    assert report.written["therapy evidence"] == SMALL


def test_the_full_scale_plan_matches_the_issue():
    plan = SyntheticPlan.for_size(500_000)

    assert (plan.abnormalities, plan.therapies, plan.sources, plan.findings) == (
        1_000,
        2_000,
        50_000,
        500_000,
    )


def test_a_few_therapies_and_abnormalities_hold_most_of_the_evidence():
    synthetic_generate(evidence=SMALL, seed=1)

    per_therapy = sorted(
        Counter(TherapyEvidence.objects.values_list("therapy", flat=True)).values()
    )
    top_tenth = sum(per_therapy[-len(per_therapy) // 10 :])
    assert top_tenth > 0.3 * SMALL
    assert per_therapy[-1] > 4 * per_therapy[len(per_therapy) // 2]
    per_abnormality = Counter(
        TherapyEvidence.objects.filter(abnormality__isnull=False).values_list(
            "abnormality", flat=True
        )
    )
    counts = sorted(per_abnormality.values())
    assert counts[-1] > 3 * counts[len(counts) // 2]
    # The best-ranked records are the published ones a benchmark can name.
    top = Therapy.objects.get(slug="synthetic-therapy-1")
    assert top.status == Status.PUBLISHED
    assert top.evidence.count() == per_therapy[-1]


def test_every_status_level_direction_and_link_kind_is_present():
    synthetic_generate(evidence=SMALL, seed=1)

    for model in (TherapyEvidence, Finding):
        statuses = Counter(model.objects.values_list("status", flat=True))
        assert set(statuses) == set(Status.values)
        assert statuses[Status.PUBLISHED] > SMALL // 2
        assert set(model.objects.values_list("level", flat=True)) == {"A", "B", "C", "D", "E"}
        assert len(set(model.objects.values_list("direction", flat=True))) == 4
    links = set(TherapyEvidence.objects.values_list("link_kind", flat=True))
    assert links == {"", "rationale", "selected", "measured"}
    # A link kind goes with an abnormality, and only with one.
    assert not TherapyEvidence.objects.filter(abnormality__isnull=True).exclude(link_kind="")
    assert TherapyEvidence.objects.published().exists()


def test_everything_it_writes_says_it_is_synthetic_and_invents_no_identifier_or_quote():
    synthetic_generate(evidence=SMALL, seed=1)

    assert not Therapy.objects.exclude(name__startswith="Synthetic")
    assert not Abnormality.objects.exclude(name__startswith="Synthetic")
    assert not Source.objects.exclude(title__startswith="Synthetic")
    assert not TherapyEvidence.objects.exclude(statement__startswith="Synthetic")
    assert not Finding.objects.exclude(statement__startswith="Synthetic")
    assert not TherapyEvidence.objects.exclude(quote="")
    assert not Source.objects.exclude(doi="", pmid="", url="")
    # Long enough for full-text search to have something to find.
    statement = TherapyEvidence.objects.first().statement
    assert len(statement) > 200


def test_it_is_deterministic_for_a_seed_and_replaces_its_previous_run():
    synthetic_generate(evidence=500, seed=7)
    first = snapshot()
    synthetic_generate(evidence=500, seed=7)

    assert snapshot() == first
    assert TherapyEvidence.objects.count() == 500
    synthetic_generate(evidence=500, seed=8)
    assert snapshot() != first


def test_it_refuses_a_database_with_real_records_and_writes_nothing():
    real = factories.make_evidence()

    with pytest.raises(CommandError, match="--force"):
        call_command("generate_synthetic", "--evidence", "200", "--seed", "1")

    assert list(TherapyEvidence.objects.all()) == [real]
    assert Therapy.objects.count() == 1
    with pytest.raises(SyntheticRefused, match="1 sources"):
        synthetic_generate(evidence=200, seed=1)


def test_with_force_it_adds_synthetic_records_beside_the_real_ones():
    real = factories.make_evidence()

    call_command("generate_synthetic", "--evidence", "200", "--seed", "1", "--force")

    assert TherapyEvidence.objects.count() == 201
    real.refresh_from_db()
    assert real.therapy.slug.startswith("therapy-")
    # A second forced run replaces only the synthetic rows.
    call_command("generate_synthetic", "--evidence", "100", "--seed", "1", "--force")
    assert TherapyEvidence.objects.count() == 101
    assert TherapyEvidence.objects.filter(pk=real.pk).exists()


def test_curators_can_add_records_after_a_run():
    synthetic_generate(evidence=200, seed=1)

    # Explicit ids must not leave the id sequences behind (PostgreSQL).
    evidence = factories.make_evidence()

    assert evidence.pk > TherapyEvidence.objects.exclude(pk=evidence.pk).latest("pk").pk


def test_the_command_rejects_a_size_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("generate_synthetic", "--evidence", "0")
