"""What readers may see, built once per process from a manager's untouched queryset
(curation/models.py ``ModeratedQuerySet._readers``): every caller gets its own clone, no
rows are kept, and anything chained before the call, a related manager's record or a
user who sees every record is never answered from it."""

import pytest
from django.contrib.auth.models import AnonymousUser

from curation import models as curation_models
from curation.models import Status
from findings.models import Finding
from tests.factories import make_curator, make_evidence, make_finding, make_therapy
from treatments.models import Therapy, TherapyEvidence

pytestmark = pytest.mark.django_db

READER = AnonymousUser()


def test_each_call_gets_its_own_clone_of_one_built_queryset():
    first, second = Therapy.objects.published(), Therapy.objects.published()
    assert first is not second
    assert str(first.query) == str(second.query)
    assert (Therapy, "published") in curation_models._READERS_ROWS
    narrowed = first.filter(slug="zzqq")  # a caller's own conditions stay its own
    assert "zzqq" in str(narrowed.query)
    assert "zzqq" not in str(Therapy.objects.published().query)


def test_no_rows_are_kept_between_calls():
    one = make_therapy(slug="one")
    assert list(Therapy.objects.published()) == [one]
    two = make_therapy(slug="two")
    assert set(Therapy.objects.published()) == {one, two}
    two.status = Status.DRAFT
    two.save()
    assert list(Therapy.objects.published()) == [one]


def test_what_is_chained_before_is_kept():
    one, two = make_therapy(slug="one"), make_therapy(slug="two")
    assert set(Therapy.objects.published()) == {one, two}  # the readers' queryset, built
    assert list(Therapy.objects.filter(slug="one").published()) == [one]
    assert list(Therapy.objects.exclude(slug="one").published()) == [two]


def test_a_related_manager_reads_its_own_records():
    one, two = make_therapy(), make_therapy()
    mine, theirs = make_evidence(therapy=one), make_evidence(therapy=two)
    assert set(TherapyEvidence.objects.published()) == {mine, theirs}
    assert list(one.evidence.published()) == [mine]
    assert list(two.evidence.published()) == [theirs]
    assert list(one.evidence.visible_to(READER)) == [mine]
    assert list(two.evidence.linked_visible_to(READER)) == [theirs]


@pytest.mark.parametrize("method", ["visible_to", "listed_visible_to", "linked_visible_to"])
def test_a_curator_sees_every_record_after_a_reader_and_before(method):
    published = make_finding()
    draft = make_finding(status=Status.DRAFT)
    retracted = make_finding(status=Status.RETRACTED)
    curator = make_curator()
    for _ in range(2):  # built for each, then answered again
        assert set(getattr(Finding.objects, method)(curator)) == {published, draft, retracted}
        assert set(getattr(Finding.objects, method)(READER)) == {published}
        assert set(getattr(Finding.objects, method)(READER, retracted=True)) == {
            published,
            retracted,
        }


def test_readers_rows_follow_their_parents_status():
    therapy = make_therapy()
    evidence = make_evidence(therapy=therapy)
    assert list(TherapyEvidence.objects.listed_visible_to(READER)) == [evidence]
    therapy.status = Status.DRAFT
    therapy.save()
    assert list(TherapyEvidence.objects.listed_visible_to(READER)) == []
    assert list(TherapyEvidence.objects.linked_visible_to(READER)) == []
    assert list(TherapyEvidence.objects.published()) == []


def test_reader_methods_chained_from_the_manager_are_built_once_too():
    """``published().with_evidence_summary()`` (the therapy lists' queryset) is built
    once; a condition chained in between makes it the caller's own, built each time."""
    one, two = make_therapy(slug="one"), make_therapy(slug="two")
    make_therapy(slug="draft", status=Status.DRAFT)
    first = Therapy.objects.published().with_evidence_summary()
    second = Therapy.objects.published().with_evidence_summary()
    assert first is not second and str(first.query) == str(second.query)
    assert (Therapy, "published", "with_evidence_summary") in curation_models._READERS_ROWS
    assert {t.slug for t in first} == {"one", "two"}
    assert all(hasattr(t, "best_level") for t in second)
    narrowed = Therapy.objects.published().filter(slug="one").with_evidence_summary()
    assert [t.slug for t in narrowed] == ["one"]
    assert [t.slug for t in Therapy.objects.published().with_evidence_summary()] != ["one"]
    # Not from the manager's untouched queryset: built for the caller.
    assert {t.slug for t in Therapy.objects.filter(slug="two").published()} == {"two"}
    assert two in set(first) and one in set(second)
