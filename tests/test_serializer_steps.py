"""Model serializers represent an instance by steps made once per serializer
(curation/serializers.py ``representation_steps``): the same representation as DRF's own
loop, for every model serializer of the API and every record of a mixed knowledge base,
and the same API responses byte for byte."""

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from curation.models import Status
from curation.serializers import ModelSerializer, representation_steps
from curation.services import record_edit, record_publish, record_submit
from findings.models import NoticeKind
from mecfs_kb.api import router
from tests.factories import (
    make_curator,
    make_editor,
    make_harm,
    make_regulatory_status,
    make_source,
    make_therapy,
    make_user,
)
from tests.test_api_fast_lists import assert_same, both_ways, build_mixed_data
from tests.test_api_pairs_json import build_pairs
from tests.test_serializer_fields import SERIALIZERS
from treatments.models import Therapy
from treatments.releases import release_publish
from treatments.serializers import TherapySerializer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def releases_root(settings, tmp_path):
    settings.RELEASES_ROOT = tmp_path / "releases"


def build_everything() -> None:
    """The mixed data, summaries to escape, a harm, a status; a therapy published
    through review (a data change), a suggested change to it, and a release."""
    curator, editor = make_curator(), make_editor()
    therapy = make_therapy(status=Status.DRAFT, created_by=curator)
    record_submit(record=therapy, user=curator)
    record_publish(record=therapy, user=editor)
    record_edit(record=therapy, fields={"summary": "A better summary."}, user=curator)
    release_publish(label="r1")
    data = build_mixed_data()
    build_pairs(held=make_source(retracted=True, notice_kind=NoticeKind.RETRACTION))
    source = make_source()
    make_harm(therapy=data["therapy"], source=source)
    make_regulatory_status(therapy=data["therapy"], source=source)


def answered_alike(client, url: str, monkeypatch):
    """``url`` answered by DRF's loop and by the steps: the same status, the same bytes
    (and, for a 200, the same headers); the second answer."""
    drf, fast = both_ways(
        client,
        url,
        monkeypatch,
        switch=(ModelSerializer, "STEPS"),
        serializers=(),
        expect_ok=False,
    )
    assert drf.status_code == fast.status_code, url
    if fast.status_code == 200:
        assert_same(drf, fast, url)
    else:
        assert fast.content == drf.content, url
    return fast


def drf_representation(serializer, instance):
    return serializers.ModelSerializer.to_representation(serializer, instance)


def test_every_record_is_represented_as_drf_represents_it():
    build_everything()
    request = APIRequestFactory().get("/api/v1/")
    request.user = make_editor()
    represented = set()
    for serializer_class in SERIALIZERS:
        model = serializer_class.Meta.model
        for record in model._default_manager.all()[:60]:
            serializer = serializer_class(record, context={"request": request})
            shown = serializer.to_representation(record)
            assert shown == drf_representation(serializer, record), serializer_class
            represented.add(serializer_class.__name__)
    # Every serializer but those of records the mixed data makes none of.
    missing = {cls.__name__ for cls in SERIALIZERS} - represented
    assert not missing, missing


def test_a_missing_attribute_is_left_out_or_an_error_as_drf_says():
    class Shown(ModelSerializer):
        loose = serializers.CharField(read_only=True)  # not required: left out
        kept = serializers.CharField(read_only=True, allow_null=True)  # None
        called = serializers.IntegerField(read_only=True)  # a method, called by DRF

        class Meta:
            model = make_user().__class__
            fields = ["username", "loose", "kept", "called"]

    user = make_user(username="someone")
    user.called = lambda: 7
    serializer = Shown(user)
    assert [name for name, _step in representation_steps(serializer)] == [
        "username",
        "loose",
        "kept",
        "called",
    ]
    assert serializer.to_representation(user) == {"username": "someone", "kept": None, "called": 7}
    assert serializer.to_representation(user) == drf_representation(serializer, user)


@pytest.mark.parametrize("reader", ["anonymous", "editor"])
def test_every_list_and_record_of_the_api_answers_as_before(
    reader, api_client, editor_api, monkeypatch
):
    build_everything()
    client = api_client if reader == "anonymous" else editor_api
    compared = 0
    for prefix, _viewset, basename in router.registry:
        url = f"/api/v1/{prefix}/"
        listed = answered_alike(client, url, monkeypatch)
        assert listed.status_code == 200 or (reader, prefix) == ("anonymous", "suggestions")
        compared += 1
        for row in listed.json().get("results", [])[:3]:
            key = row.get("slug") or row.get("id")
            if key is not None and basename not in {"pair", "change"}:
                answered_alike(client, f"{url}{key}/", monkeypatch)
                compared += 1
    assert compared > len(router.registry) * 2


def test_times_are_shown_in_the_time_zone_drf_shows_them_in():
    build_everything()
    therapy = Therapy.objects.first()
    for zone in ("UTC", "Europe/Paris", "Pacific/Kiritimati"):
        with timezone.override(zone):
            serializer = TherapySerializer(therapy)
            shown = serializer.to_representation(therapy)
            assert shown == drf_representation(serializer, therapy), zone
            assert shown["created_at"] == serializers.DateTimeField().to_representation(
                therapy.created_at
            )
    assert shown["created_at"].endswith("+14:00")
