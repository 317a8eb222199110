"""`.published()` is the one place that decides what readers may see."""

import pytest

from curation.models import Status
from findings.models import Abnormality, Finding, Source
from tests.factories import (
    make_abnormality,
    make_evidence,
    make_finding,
    make_regulatory_status,
    make_source,
    make_therapy,
)
from treatments.models import RegulatoryStatus, Therapy, TherapyEvidence


@pytest.mark.django_db
def test_it_hides_draft_and_rejected_sources_from_readers():
    published = make_source()
    make_source(status=Status.DRAFT)
    make_source(status=Status.REJECTED)
    assert list(Source.objects.published()) == [published]


@pytest.mark.django_db
def test_it_hides_draft_therapies_and_abnormalities():
    therapy = make_therapy()
    make_therapy(status=Status.SUBMITTED)
    abnormality = make_abnormality()
    make_abnormality(status=Status.DRAFT)
    assert list(Therapy.objects.published()) == [therapy]
    assert list(Abnormality.objects.published()) == [abnormality]


@pytest.mark.django_db
def test_it_hides_draft_evidence_from_readers():
    published = make_evidence()
    make_evidence(status=Status.DRAFT)
    make_evidence(status=Status.RETRACTED)
    assert list(TherapyEvidence.objects.published()) == [published]


@pytest.mark.django_db
def test_it_hides_published_evidence_whose_source_or_therapy_is_not_published():
    visible = make_evidence()
    make_evidence(source=make_source(status=Status.DRAFT))
    make_evidence(therapy=make_therapy(status=Status.DRAFT))
    make_evidence(abnormality=make_abnormality(status=Status.DRAFT))
    assert list(TherapyEvidence.objects.published()) == [visible]


@pytest.mark.django_db
def test_it_shows_general_evidence_that_names_no_abnormality():
    general = make_evidence(abnormality=None)
    assert list(TherapyEvidence.objects.published()) == [general]


@pytest.mark.django_db
def test_it_hides_findings_of_unpublished_sources_or_abnormalities():
    visible = make_finding()
    make_finding(status=Status.DRAFT)
    make_finding(source=make_source(status=Status.SUBMITTED))
    make_finding(abnormality=make_abnormality(status=Status.DRAFT))
    assert list(Finding.objects.published()) == [visible]


@pytest.mark.django_db
def test_it_hides_regulatory_statuses_of_unpublished_therapies():
    visible = make_regulatory_status()
    make_regulatory_status(status=Status.DRAFT)
    make_regulatory_status(therapy=make_therapy(status=Status.DRAFT))
    assert list(RegulatoryStatus.objects.published()) == [visible]
