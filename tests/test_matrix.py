"""The overview's matrix: bounded at scale, whole at seed size, built once per publish."""

from collections import Counter

import pytest
from django.core.cache import cache

from curation.models import Status
from findings.models import Abnormality
from tests import factories
from treatments.matrix import matrix_build, matrix_cached
from treatments.models import PairCertainty, Therapy
from treatments.summaries import SUMMARY_FIELDS, stored_pairs

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

    # Queries: published abnormalities; published therapies; how many pairs each
    # abnormality and each therapy is in; the stored counts and certainty of the pairs.
    with django_assert_num_queries(5):
        matrix = matrix_build()

    # As many pairs each: name order.
    assert [a.name for a in matrix.rows] == ["IgG3 deficiency", "Low NK cytotoxicity"]
    assert [t.name for t in matrix.columns] == ["IVIG", "Low dose naltrexone"]
    assert set(matrix.pairs) == {(low_nk.pk, ldn.pk), (igg.pk, ivig.pk)}
    assert matrix.pairs[(igg.pk, ivig.pk)].best_level == "B"
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


def every_pair_read(max_rows: int, max_columns: int):
    """The matrix as it was built before the database counted the pairs: every stored
    pair read and counted in Python, then those of the rows and columns shown kept."""
    abnormalities = list(Abnormality.objects.published().only("name", "slug"))
    therapies = list(Therapy.objects.published().only("name", "slug"))
    pairs = {
        (pair.abnormality_id, pair.therapy_id): pair
        for pair in stored_pairs(
            PairCertainty.objects.public()
            .pairs()
            .exclude(evidence_best_level="")
            .values_list(*SUMMARY_FIELDS)
        )
    }
    per_abnormality = Counter(a for a, _ in pairs)
    per_therapy = Counter(t for _, t in pairs)
    rows = sorted(abnormalities, key=lambda a: -per_abnormality[a.pk])[:max_rows]
    columns = sorted(therapies, key=lambda t: -per_therapy[t.pk])[:max_columns]
    shown = {(a.pk, t.pk) for a in rows for t in columns}
    return rows, columns, {key: row for key, row in pairs.items() if key in shown}


@pytest.mark.parametrize("bounds", [(2, 3), (3, 2), (1, 1), (20, 20), (0, 3)])
def test_the_pairs_counted_by_the_database_give_the_same_matrix(bounds, django_assert_num_queries):
    """Rows and columns chosen, and cells filled, as when every pair was read; drafts,
    a draft parent and pairs without counted evidence left out; five queries however
    many pairs there are (four with no row or no column: none of its pairs is read)."""
    abnormalities = [factories.make_abnormality(name=f"Abnormality {i}") for i in range(5)]
    abnormalities.append(factories.make_abnormality(name="Draft one", status=Status.DRAFT))
    therapies = [factories.make_therapy(name=f"Therapy {i}") for i in range(4)]
    therapies.append(factories.make_therapy(name="Draft therapy", status=Status.DRAFT))
    with factories.rated_once():
        for n, (therapy, abnormality) in enumerate(
            [(2, 3), (0, 3), (1, 3), (2, 1), (0, 1), (2, 0), (3, 4), (4, 3), (1, 5), (3, 2)]
        ):
            factories.make_evidence(
                therapy=therapies[therapy],
                abnormality=abnormalities[abnormality],
                level="ABCDE"[n % 5],
                status=Status.DRAFT if n == 9 else Status.PUBLISHED,
            )
    rows, columns, pairs = every_pair_read(*bounds)
    with django_assert_num_queries(5 if all(bounds) else 4):
        matrix = matrix_build(max_rows=bounds[0], max_columns=bounds[1])
    assert [a.pk for a in matrix.rows] == [a.pk for a in rows]
    assert [t.pk for t in matrix.columns] == [t.pk for t in columns]
    assert matrix.pairs == pairs
    assert matrix.hidden_rows == 5 - len(rows) and matrix.hidden_columns == 4 - len(columns)
