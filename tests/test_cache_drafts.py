"""A curator's draft changes nothing readers see: creating, editing and submitting it
leave the public cache (and so every cached page and API response) alone; publishing,
retracting, or a save whose earlier state is unknown invalidate it (curation/cache.py)."""

import pytest
from django.core.cache import cache

from curation.cache import public_cache_version
from curation.models import Status
from tests import factories
from treatments.models import Therapy


@pytest.fixture
def clean_cache(settings):
    settings.PUBLIC_CACHE_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_creating_editing_and_submitting_a_draft_keep_the_public_cache(
    clean_cache, django_capture_on_commit_callbacks
):
    before = public_cache_version()
    with django_capture_on_commit_callbacks(execute=True):
        therapy = factories.make_therapy(status=Status.DRAFT)
        therapy.summary = "Edited while a draft."
        therapy.save()
        stored = Therapy.objects.get(pk=therapy.pk)
        stored.status = Status.SUBMITTED
        stored.save()
        stored.status = Status.REJECTED
        stored.save()

    assert public_cache_version() == before


@pytest.mark.django_db
def test_publishing_then_retracting_a_read_record_invalidates_each_time(
    clean_cache, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        therapy = factories.make_therapy(status=Status.SUBMITTED)
    stored = Therapy.objects.get(pk=therapy.pk)
    before = public_cache_version()

    with django_capture_on_commit_callbacks(execute=True):
        stored.status = Status.PUBLISHED
        stored.save()
    assert public_cache_version() == before + 1

    with django_capture_on_commit_callbacks(execute=True):
        stored.status = Status.RETRACTED
        stored.save()
    assert public_cache_version() == before + 2


@pytest.mark.django_db
def test_a_published_record_saved_as_a_draft_invalidates(
    clean_cache, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        therapy = factories.make_therapy(status=Status.PUBLISHED)
    stored = Therapy.objects.get(pk=therapy.pk)
    before = public_cache_version()

    with django_capture_on_commit_callbacks(execute=True):
        stored.status = Status.DRAFT  # readers saw it: now they do not
        stored.save()

    assert public_cache_version() == before + 1


@pytest.mark.django_db
def test_a_save_of_a_record_not_read_from_the_database_invalidates(
    clean_cache, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        therapy = factories.make_therapy(status=Status.PUBLISHED)
    # Built by hand (as a history revert does): what readers saw before is unknown.
    unread = Therapy(
        **{f.attname: getattr(therapy, f.attname) for f in Therapy._meta.concrete_fields}
    )
    unread.status = Status.DRAFT
    before = public_cache_version()

    with django_capture_on_commit_callbacks(execute=True):
        unread.save()

    assert public_cache_version() == before + 1
