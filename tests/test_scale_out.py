"""Scale-out: reads to replicas, writes and reads-after-write to the primary, and a
shared public cache invalidated on publish (issue 6)."""

import json
import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from curation.cache import (
    public_cache_get_or_set,
    public_cache_invalidate,
    public_cache_key,
    public_cache_version,
)
from curation.models import Status
from mecfs_kb.db_router import PIN_COOKIE, PrimaryPinMiddleware, PrimaryReplicaRouter
from tests import factories
from treatments.models import Therapy

ROUTED = override_settings(
    DATABASE_REPLICAS=["replica_0", "replica_1"],
    DATABASE_ROUTERS=["mecfs_kb.db_router.PrimaryReplicaRouter"],
)


def through_middleware(request, view):
    """Run ``view`` as the app would: inside the pinning middleware."""
    return PrimaryPinMiddleware(view)(request)


@ROUTED
def test_a_read_only_request_reads_from_a_replica():
    seen = {}

    def view(request):
        seen["db"] = Therapy.objects.published().db
        return HttpResponse("ok")

    response = through_middleware(RequestFactory().get("/treatments/"), view)

    assert seen["db"] in {"replica_0", "replica_1"}
    assert PIN_COOKIE not in response.cookies


@ROUTED
def test_reads_after_a_write_in_the_same_request_go_to_the_primary():
    seen = {}

    def view(request):
        seen["before"] = Therapy.objects.all().db
        seen["write"] = PrimaryReplicaRouter().db_for_write(Therapy)
        seen["after"] = Therapy.objects.all().db
        return HttpResponse("ok")

    response = through_middleware(RequestFactory().get("/"), view)

    assert seen["before"].startswith("replica_")
    assert seen["write"] == "default"
    assert seen["after"] == "default"
    # The client that wrote keeps reading from the primary for a few seconds.
    assert response.cookies[PIN_COOKIE]["max-age"] == 5


@ROUTED
def test_a_client_that_just_wrote_and_unsafe_methods_read_from_the_primary():
    seen = []

    def view(request):
        seen.append(Therapy.objects.all().db)
        return HttpResponse("ok")

    factory = RequestFactory()
    factory.cookies[PIN_COOKIE] = "1"
    through_middleware(factory.get("/"), view)
    through_middleware(RequestFactory().post("/admin/"), view)

    assert seen == ["default", "default"]


@ROUTED
def test_the_pin_ends_with_the_request():
    seen = []

    def writer(request):
        PrimaryReplicaRouter().db_for_write(Therapy)
        return HttpResponse("ok")

    def reader(request):
        seen.append(Therapy.objects.all().db)
        return HttpResponse("ok")

    through_middleware(RequestFactory().get("/"), writer)
    through_middleware(RequestFactory().get("/"), reader)

    assert seen[0].startswith("replica_")


@ROUTED
@pytest.mark.django_db(transaction=True)
def test_reads_inside_an_atomic_block_go_to_the_primary():
    def view(request):
        with transaction.atomic():
            inside = Therapy.objects.all().db
        return HttpResponse(inside)

    response = through_middleware(RequestFactory().get("/"), view)

    assert response.content == b"default"


@ROUTED
def test_writes_go_to_the_primary_and_migrations_only_run_there():
    router = PrimaryReplicaRouter()

    assert router.db_for_write(Therapy) == "default"
    assert router.allow_migrate("default", "treatments")
    assert not router.allow_migrate("replica_0", "treatments")


def test_without_replicas_everything_uses_the_primary():
    assert PrimaryReplicaRouter().db_for_read(Therapy) == "default"


# --- the public cache --------------------------------------------------------


@pytest.fixture
def clean_cache(settings):
    settings.PUBLIC_CACHE_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def test_a_cached_public_value_is_computed_once(clean_cache):
    calls = []

    def compute():
        calls.append(1)
        return {"cells": 3}

    assert public_cache_get_or_set("matrix", compute) == {"cells": 3}
    assert public_cache_get_or_set("matrix", compute) == {"cells": 3}

    assert len(calls) == 1


@pytest.mark.django_db
def test_invalidation_waits_for_the_commit_then_makes_every_public_value_stale(
    clean_cache, django_capture_on_commit_callbacks
):
    public_cache_get_or_set("matrix", lambda: "old")
    before = public_cache_version()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        public_cache_invalidate()
        # Not yet: a reader before the commit must not cache old data as new.
        assert public_cache_version() == before

    assert len(callbacks) == 1
    assert public_cache_version() == before + 1
    assert public_cache_get_or_set("matrix", lambda: "new") == "new"
    assert public_cache_key("matrix") != public_cache_key("matrix", version=before)


@pytest.mark.django_db
def test_publishing_a_record_through_the_orm_invalidates_the_public_cache(
    clean_cache, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        therapy = factories.make_therapy(status=Status.DRAFT)
    before = public_cache_version()

    with django_capture_on_commit_callbacks(execute=True):
        therapy.status = Status.PUBLISHED
        therapy.save()

    assert public_cache_version() > before


def test_a_lost_version_key_starts_again_without_error(clean_cache):
    cache.delete("public:version")

    assert public_cache_version() == 1


def test_replica_urls_from_the_environment_become_routed_aliases():
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.DATABASE_REPLICAS, settings.DATABASE_ROUTERS, "
        "settings.DATABASES['replica_1']['NAME'], settings.DATABASES['replica_1']['TEST'], "
        "settings.CACHES['default']['BACKEND']]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mecfs_kb.settings",
        "DEBUG": "1",
        "REPLICA_DATABASE_URLS": "postgres://u@r0:5432/kb, postgres://u@r1:5432/kb1",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )

    replicas, routers, name, test, backend = json.loads(result.stdout)
    assert replicas == ["replica_0", "replica_1"]
    assert routers == ["mecfs_kb.db_router.PrimaryReplicaRouter"]
    assert name == "kb1"
    assert test["MIRROR"] == "default"
    assert backend == "django_redis.cache.RedisCache"


REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        # Nothing listens on port 1.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2},
    }
}


@pytest.mark.django_db
def test_with_redis_unreachable_pages_are_computed_and_publishing_still_works(
    client, settings, django_capture_on_commit_callbacks
):
    settings.CACHES = REDIS_DOWN
    settings.PUBLIC_CACHE_SECONDS = 600
    evidence = factories.make_evidence(status=Status.DRAFT)

    with django_capture_on_commit_callbacks(execute=True):
        evidence.status = Status.PUBLISHED
        evidence.save()

    assert client.get("/").status_code == 200
    assert client.get(evidence.therapy.get_absolute_url()).status_code == 200
