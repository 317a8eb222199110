"""After a publish the public caches are filled by one background task, not by the
publishing request nor by the first readers (issue 14, mecfs_kb/warm.py)."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django_tasks import default_task_backend

from curation.cache import public_cache_key
from curation.models import Status
from curation.services import record_publish, record_submit
from mecfs_kb import warm
from tests import factories
from treatments.matrix import CACHE_NAME as MATRIX_CACHE
from treatments.models import Therapy

pytestmark = pytest.mark.django_db

DUMMY = "django_tasks.backends.dummy.DummyBackend"


@pytest.fixture
def cached(settings):
    """As in production: the cache on, the site's address known, tasks queued (the
    dummy backend records them; the test runs them)."""
    settings.PUBLIC_CACHE_SECONDS = 600
    settings.SITE_URL = "http://testserver"
    settings.TASKS = {"default": {"BACKEND": DUMMY}}
    cache.clear()
    default_task_backend.clear()
    yield
    cache.clear()
    if hasattr(default_task_backend, "clear"):  # a test may have changed the backend
        default_task_backend.clear()


def warm_tasks() -> list:
    return [
        result
        for result in default_task_backend.results
        if result.task.func is warm.public_cache_warm.func
    ]


def published_through_review(curator, editor, django_capture_on_commit_callbacks):
    abnormality = factories.make_abnormality(slug="low-nk-cell-cytotoxicity")
    factories.make_evidence(abnormality=abnormality)
    therapy = factories.make_therapy(status=Status.DRAFT, created_by=curator, name="Newly")
    record_submit(record=therapy, user=curator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record_publish(record=therapy, user=editor)
    return abnormality, callbacks


def test_a_publish_queues_exactly_one_warm_task_after_its_commit(
    cached, curator, editor, django_capture_on_commit_callbacks
):
    abnormality = factories.make_abnormality()
    therapy = factories.make_therapy(status=Status.DRAFT, created_by=curator)
    record_submit(record=therapy, user=curator)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record_publish(record=therapy, user=editor)
        # Inside the publishing transaction: nothing queued, nothing run.
        assert warm_tasks() == []
    assert warm_tasks() == []  # the commit has not happened yet

    for callback in callbacks:
        callback()  # the commit
    assert len(warm_tasks()) == 1
    # Queued, not run: the publishing request filled nothing.
    assert cache.get(public_cache_key(MATRIX_CACHE)) is None
    assert warm.warm_get("/") == (200, "miss")
    assert abnormality.pk


def test_the_task_fills_the_cache_and_the_first_reader_after_a_publish_gets_a_hit(
    client, cached, curator, editor, django_capture_on_commit_callbacks
):
    abnormality, _ = published_through_review(curator, editor, django_capture_on_commit_callbacks)
    assert len(warm_tasks()) == 1

    answers = warm.public_cache_warm.call()

    export = f"/treatments/?abnormality={abnormality.slug}&format=csv"
    assert answers["/"].startswith("200 miss")
    assert answers[export].startswith("200 miss")
    assert answers["/treatments/?format=csv"].startswith("200 miss")
    for path in ["/", export, "/treatments/?format=json"]:
        response = client.get(path)
        assert response.status_code == 200
        assert response["X-Cache"] == "hit", path
    # The lists vary on Cookie: a reader who sends none (a first visit, a script) is
    # given the kept copy. (Django's test client always sends an empty Cookie header,
    # which is a different key: RFC 9111.)
    for path in ["/treatments/", "/abnormalities/", "/sources/", "/gaps/"]:
        assert warm.warm_get(path) == (200, "hit"), path
    # What the task kept is what a reader would have been given.
    home = client.get("/").content.decode()
    assert "Newly" in client.get("/treatments/?format=csv").content.decode()
    assert abnormality.name in home


def test_a_hit_after_the_warm_runs_no_query(
    client, cached, curator, editor, django_capture_on_commit_callbacks, django_assert_num_queries
):
    published_through_review(curator, editor, django_capture_on_commit_callbacks)
    warm.public_cache_warm.call()

    with django_assert_num_queries(0):
        assert client.get("/")["X-Cache"] == "hit"


def test_the_warm_fills_the_data_caches_of_the_new_version(
    cached, curator, editor, django_capture_on_commit_callbacks
):
    published_through_review(curator, editor, django_capture_on_commit_callbacks)

    assert cache.get(public_cache_key(MATRIX_CACHE)) is None
    warm.public_cache_warm.call()
    assert cache.get(public_cache_key(MATRIX_CACHE)) is not None


def test_without_a_site_address_the_task_fills_the_data_caches_only(
    cached, settings, curator, editor, django_capture_on_commit_callbacks
):
    settings.SITE_URL = ""
    published_through_review(curator, editor, django_capture_on_commit_callbacks)

    assert warm.public_cache_warm.call() == {}
    assert cache.get(public_cache_key(MATRIX_CACHE)) is not None
    # Every published therapy's summary, as the pages read it and as the API reads it,
    # written as JSON.
    for therapy in Therapy.objects.published():
        assert cache.get(public_cache_key("stored-pairs", therapy.pk)) is not None
        assert cache.get(public_cache_key("pairs-json", therapy.pk)) is not None


def test_with_the_cache_off_nothing_is_queued_and_pages_are_computed(
    client, settings, curator, editor, django_capture_on_commit_callbacks
):
    # `make run`: no Redis, no cache, no worker.
    settings.PUBLIC_CACHE_SECONDS = 0
    settings.TASKS = {"default": {"BACKEND": DUMMY}}
    default_task_backend.clear()
    abnormality, _ = published_through_review(curator, editor, django_capture_on_commit_callbacks)

    assert warm_tasks() == []
    assert warm.public_cache_warm_now() == {}
    response = client.get(f"/treatments/?abnormality={abnormality.slug}&format=csv")
    assert response.status_code == 200
    assert "X-Cache" not in response


def test_a_task_that_cannot_be_queued_is_logged_and_the_publish_stands(
    cached, settings, curator, editor, django_capture_on_commit_callbacks, caplog
):
    settings.PUBLIC_CACHE_WARM_TASK = "mecfs_kb.warm.no_such_task"
    therapy = factories.make_therapy(status=Status.DRAFT, created_by=curator)
    record_submit(record=therapy, user=curator)

    with (
        caplog.at_level(logging.ERROR, logger="curation.cache"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        record_publish(record=therapy, user=editor)

    therapy.refresh_from_db()
    assert therapy.status == Status.PUBLISHED
    assert "could not queue the warming of the public cache" in caplog.text


def test_a_failing_warm_is_logged_and_changes_nothing_readers_see(
    client, cached, settings, monkeypatch, curator, editor, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

    def broken():
        raise RuntimeError("cache server on fire")

    monkeypatch.setattr(warm, "warm_paths", broken)
    abnormality, _ = published_through_review(curator, editor, django_capture_on_commit_callbacks)

    # The immediate backend ran it at the commit, and it failed: recorded, not raised.
    response = client.get(f"/treatments/?abnormality={abnormality.slug}&format=csv")
    assert response.status_code == 200
    assert response["X-Cache"] == "miss"
