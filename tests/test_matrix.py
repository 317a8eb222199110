"""The overview's matrix: bounded at scale, whole at seed size, built once per publish."""

import pytest
from django.core.cache import cache

from curation.models import Status
from tests import factories
from treatments.matrix import matrix_build, matrix_cached

pytestmark = pytest.mark.django_db


def test_with_few_records_the_matrix_is_whole_and_published_only(django_assert_num_queries):
    low_nk = factories.make_abnormality(name="Low NK cytotoxicity")
    igg = factories.make_abnormality(name="IgG3 deficiency")
    ldn = factories.make_therapy(name="Low dose naltrexone")
    ivig = factories.make_therapy(name="IVIG")
    factories.make_evidence(therapy=ldn, abnormality=low_nk, level="C")
    factories.make_evidence(therapy=ivig, abnormality=igg, level="B")
    factories.make_evidence(therapy=ivig, abnormality=low_nk, status=Status.DRAFT)
    factories.make_therapy(name="Draft therapy", status=Status.DRAFT)

    # Queries: published abnormalities; published therapies; the stored counts and
    # certainty of the pairs.
    with django_assert_num_queries(3):
        matrix = matrix_build()

    # As many pairs each: name order.
    assert [a.name for a in matrix.rows] == ["IgG3 deficiency", "Low NK cytotoxicity"]
    assert [t.name for t in matrix.columns] == ["IVIG", "Low dose naltrexone"]
    assert set(matrix.pairs) == {(low_nk.pk, ldn.pk), (igg.pk, ivig.pk)}
    assert matrix.pairs[(igg.pk, ivig.pk)]["best_level"] == "B"
    assert (matrix.hidden_rows, matrix.hidden_columns) == (0, 0)


def test_at_scale_it_shows_the_most_connected_records_first(monkeypatch):
    monkeypatch.setattr("treatments.matrix.MAX_ROWS", 2)
    monkeypatch.setattr("treatments.matrix.MAX_COLUMNS", 2)
    abnormalities = [factories.make_abnormality(name=f"Abnormality {i}") for i in range(4)]
    therapies = [factories.make_therapy(name=f"Therapy {i}") for i in range(4)]
    # Pairs: abnormality 3 in three, abnormality 1 in two; therapy 2 in three, 0 in two.
    for therapy, abnormality in [(2, 3), (0, 3), (1, 3), (2, 1), (0, 1), (2, 0)]:
        factories.make_evidence(therapy=therapies[therapy], abnormality=abnormalities[abnormality])

    matrix = matrix_build()

    assert [a.name for a in matrix.rows] == ["Abnormality 3", "Abnormality 1"]
    assert [t.name for t in matrix.columns] == ["Therapy 2", "Therapy 0"]
    assert (matrix.hidden_rows, matrix.hidden_columns) == (2, 2)
    # Every published abnormality stays available to start from.
    assert len(matrix.abnormalities) == 4
    assert (abnormalities[0].pk, therapies[2].pk) not in matrix.pairs


def test_the_matrix_is_built_once_until_the_next_publish(
    settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.PUBLIC_CACHE_SECONDS = 600
    cache.clear()
    evidence = factories.make_evidence(status=Status.DRAFT)
    matrix_cached()

    with django_assert_num_queries(0):
        assert matrix_cached().pairs == {}

    with django_capture_on_commit_callbacks(execute=True):
        evidence.status = Status.PUBLISHED
        evidence.save()
        factories.rate(evidence.therapy_id)  # as publishing through the services does

    assert len(matrix_cached().pairs) == 1
    cache.clear()
