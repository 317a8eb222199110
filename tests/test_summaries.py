"""Per-therapy evidence summaries (the stored counts), cached until the next publish
(issues 6 and 18)."""

import pytest
from django.core.cache import cache

from curation.models import Status
from findings.models import Direction
from tests import factories
from treatments.models import Therapy
from treatments.summaries import attach_evidence_counts, pair_summaries

pytestmark = pytest.mark.django_db


def test_each_therapy_gets_its_published_pairs_strongest_first(django_assert_num_queries):
    ldn = factories.make_therapy()
    other = factories.make_therapy()
    nk = factories.make_abnormality(name="NK", slug="nk")
    igg = factories.make_abnormality(name="IgG", slug="igg")
    factories.make_evidence(therapy=ldn, abnormality=nk, level="C")
    factories.make_evidence(
        therapy=ldn, abnormality=nk, level="B", direction=Direction.DOES_NOT_SUPPORT
    )
    factories.make_evidence(therapy=ldn, abnormality=igg, level="A")
    factories.make_evidence(therapy=ldn, abnormality=None, level="E")
    factories.make_evidence(therapy=ldn, abnormality=igg, level="A", status=Status.DRAFT)
    factories.make_evidence(therapy=other, abnormality=nk, level="D")

    # One query of the stored counts for every therapy asked for.
    with django_assert_num_queries(1):
        summaries = pair_summaries([ldn.pk, other.pk])

    rows = summaries[ldn.pk]
    assert [(r.abnormality_slug, r.best_level, r.total) for r in rows] == [
        ("igg", "A", 1),
        ("nk", "B", 2),
        # The therapy as a whole: all its evidence, last.
        (None, "A", 4),
    ]
    assert (rows[1].supporting, rows[1].not_supporting) == (1, 1)
    assert (rows[1].counts.supporting, rows[1].counts.total) == (1, 2)
    assert [r.abnormality_slug for r in summaries[other.pk]] == ["nk", None]


def test_summaries_read_by_the_kept_statement_are_those_built_each_time(monkeypatch):
    from curation import statements
    from treatments import summaries as module

    statements.forget_templates()
    therapies = [factories.make_therapy() for _ in range(3)]
    nk = factories.make_abnormality(slug="nk")
    draft = factories.make_abnormality(slug="draft", status=Status.DRAFT)
    for n, therapy in enumerate(therapies):
        factories.make_evidence(therapy=therapy, abnormality=nk, level="BCD"[n])
        factories.make_evidence(therapy=therapy, abnormality=draft, level="A")
        factories.make_evidence(therapy=therapy, abnormality=None, level="E")
    ids = [t.pk for t in therapies]
    kept = [pair_summaries(ids), pair_summaries(ids[:1]), pair_summaries(ids)]
    assert statements.kept("pair_summaries")
    monkeypatch.setattr(module, "template_rows", lambda *args: None)
    built = [pair_summaries(ids), pair_summaries(ids[:1]), pair_summaries(ids)]
    assert kept == built
    assert [r.abnormality_slug for r in kept[0][ids[0]]] == ["nk", None]


def test_a_therapy_without_published_evidence_gets_an_empty_list():
    therapy = factories.make_therapy()

    assert pair_summaries([therapy.pk]) == {therapy.pk: []}


def test_summaries_are_read_from_the_cache_until_the_next_publish(
    settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.PUBLIC_CACHE_SECONDS = 600
    cache.clear()
    therapy = factories.make_therapy()
    draft = factories.make_evidence(therapy=therapy, status=Status.DRAFT)
    assert pair_summaries([therapy.pk]) == {therapy.pk: []}

    with django_assert_num_queries(0):
        assert pair_summaries([therapy.pk]) == {therapy.pk: []}

    with django_capture_on_commit_callbacks(execute=True):
        draft.status = Status.PUBLISHED
        draft.save()
        factories.rate(therapy.pk)  # as publishing through the services does

    # The pair and the therapy as a whole.
    assert len(pair_summaries([therapy.pk])[therapy.pk]) == 2
    cache.clear()


def test_a_therapys_counts_are_its_pairs_and_its_general_evidence():
    therapy = factories.make_therapy()
    for direction, abnormality in [
        (Direction.SUPPORTS, factories.make_abnormality()),
        (Direction.SUPPORTS, None),
        (Direction.DOES_NOT_SUPPORT, None),
        (Direction.MIXED, factories.make_abnormality()),
    ]:
        factories.make_evidence(therapy=therapy, abnormality=abnormality, direction=direction)
    factories.make_evidence(therapy=therapy, status=Status.DRAFT)
    light = Therapy.objects.with_evidence_summary().get(pk=therapy.pk)

    attach_evidence_counts([light], pair_summaries([therapy.pk]))

    assert light.best_level == light.counts.best_level
    assert (light.supporting, light.not_supporting, light.counts.other) == (2, 1, 1)


def test_stored_counts_are_read_back_field_by_field():
    # EvidenceCounts.of reads the columns by position: STORED must list the fields in
    # their order.
    import dataclasses

    from treatments.counts import STORED, EvidenceCounts

    assert tuple(field.name for field in dataclasses.fields(EvidenceCounts)) == STORED
    row = {f"evidence_{name}": number for number, name in enumerate(STORED)}
    assert [getattr(EvidenceCounts.of(row), name) for name in STORED] == list(range(len(STORED)))
