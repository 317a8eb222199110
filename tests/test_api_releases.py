"""Bulk download (issue 16): /api/v1/releases/ lists the data releases and serves their
files, checksummed and immutable; the newest is always at /api/v1/releases/latest/."""

import hashlib
import json
import os

import pytest
from django.core.management import CommandError, call_command

from curation.models import DataChangeAction
from curation.versions import data_version_record
from tests.factories import make_evidence
from treatments.models import Release
from treatments.releases import MANIFEST, RELEASE_JSON, ReleaseError, release_publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def releases_root(settings, tmp_path):
    settings.RELEASES_ROOT = tmp_path / "releases"
    return settings.RELEASES_ROOT


def publish_something():
    evidence = make_evidence()
    data_version_record(record=evidence, action=DataChangeAction.ADDED)
    return evidence


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_published_release_is_listed_with_its_version_counts_and_checksums(api_client):
    publish_something()
    release = release_publish(label="r1")

    page = api_client.get("/api/v1/releases/").json()

    assert page["count"] == 1
    row = page["results"][0]
    assert row["label"] == "r1"
    assert row["data_version"] == release.data_version == 1
    assert row["counts"]["evidence"] == 1
    assert row["url"].endswith("/api/v1/releases/r1/")
    assert row["download"].endswith(f"/api/v1/releases/r1/files/{RELEASE_JSON}")
    names = [f["name"] for f in row["files"]]
    assert RELEASE_JSON in names and MANIFEST in names and "evidence.csv" in names
    assert api_client.get("/api/v1/releases/r1/").json() == row


def test_every_file_downloads_as_written_with_its_checksum_as_etag(api_client, releases_root):
    publish_something()
    release_publish(label="r1")
    files = api_client.get("/api/v1/releases/r1/").json()["files"]

    for meta in files:
        response = api_client.get(meta["url"], HTTP_ORIGIN="https://app.example")
        content = body(response)
        assert response.status_code == 200, meta["name"]
        assert hashlib.sha256(content).hexdigest() == meta["sha256"]
        assert content == (releases_root / "r1" / meta["name"]).read_bytes()
        assert response["ETag"] == f'"{meta["sha256"]}"'
        assert response["Content-Length"] == str(meta["bytes"]) == str(len(content))
        assert response["Content-Type"] == meta["content_type"]
        assert "immutable" in response["Cache-Control"]
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "ETag" in response["Access-Control-Expose-Headers"]
    types = {meta["name"]: meta["content_type"] for meta in files}
    assert types[RELEASE_JSON] == "application/json"
    assert types["sources.csv"] == "text/csv; charset=utf-8"


def test_a_matching_if_none_match_is_a_304(api_client):
    publish_something()
    release_publish(label="r1")
    url = f"/api/v1/releases/r1/files/{RELEASE_JSON}"
    etag = api_client.get(url)["ETag"]

    response = api_client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304


def test_the_manifest_lists_the_checksums_the_api_lists(api_client):
    publish_something()
    release_publish(label="r1")
    listed = {
        f["name"]: f["sha256"] for f in api_client.get("/api/v1/releases/r1/").json()["files"]
    }

    manifest = json.loads(body(api_client.get(f"/api/v1/releases/r1/files/{MANIFEST}")))

    assert {name: meta["sha256"] for name, meta in manifest["files"].items()} == {
        name: sha for name, sha in listed.items() if name != MANIFEST
    }
    assert manifest["data_version"] == 1


def test_latest_serves_the_newest_release_and_its_files(api_client):
    publish_something()
    release_publish(label="r1")
    publish_something()
    newest = release_publish(label="r2")

    response = api_client.get("/api/v1/releases/latest/")
    file_response = api_client.get(f"/api/v1/releases/latest/files/{RELEASE_JSON}")

    assert response.status_code == 200
    assert response.json() == api_client.get("/api/v1/releases/r2/").json()
    assert response["Content-Location"] == "/api/v1/releases/r2/"
    assert file_response.status_code == 200
    assert file_response["ETag"] == f'"{newest.files[RELEASE_JSON]["sha256"]}"'
    assert file_response["Content-Location"] == f"/api/v1/releases/r2/files/{RELEASE_JSON}"
    assert "no-cache" in file_response["Cache-Control"]
    assert hashlib.sha256(body(file_response)).hexdigest() == newest.files[RELEASE_JSON]["sha256"]
    assert [r["label"] for r in api_client.get("/api/v1/releases/").json()["results"]] == [
        "r2",
        "r1",
    ]


def test_without_a_release_latest_is_a_404_in_the_apis_shape(api_client):
    for url in ("/api/v1/releases/latest/", "/api/v1/releases/latest/files/manifest.json"):
        response = api_client.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_unknown_releases_and_files_are_404s(api_client):
    publish_something()
    release_publish(label="r1")

    for url in (
        "/api/v1/releases/r9/",
        "/api/v1/releases/r9/files/manifest.json",
        "/api/v1/releases/r1/files/secrets.json",
        "/api/v1/releases/r1/files/..%2F..%2Fsettings.py",
    ):
        assert api_client.get(url).status_code == 404, url


def test_releases_are_immutable(releases_root, api_client):
    publish_something()
    release = release_publish(label="r1")

    with pytest.raises(ReleaseError, match="already released"):
        release_publish(label="r1-again")
    publish_something()
    with pytest.raises(ReleaseError, match="exists already"):
        release_publish(label="r1")
    with pytest.raises(ReleaseError, match="not a release label"):
        release_publish(label="../escape")
    with pytest.raises(ReleaseError, match="latest"):
        release_publish(label="latest")
    # Read-only on disk, and the API offers no way to change or delete one.
    for path in (releases_root / "r1").iterdir():
        assert not os.access(path, os.W_OK) or os.geteuid() == 0
        assert path.stat().st_mode & 0o222 == 0
    assert api_client.delete("/api/v1/releases/r1/").status_code == 405
    assert api_client.post("/api/v1/releases/", {}).status_code == 405
    assert Release.objects.get().files == release.files


def test_the_command_publishes_once_per_data_version(capsys):
    publish_something()

    call_command("publish_release", "--label", "seed")
    call_command("publish_release")

    out = capsys.readouterr().out
    assert "Release seed (data version 1) published" in out
    assert "Data version 1 is released already: seed." in out
    assert Release.objects.count() == 1
    with pytest.raises(CommandError):
        publish_something()
        call_command("publish_release", "--label", "seed")


def test_the_list_is_read_in_a_fixed_number_of_queries(api_client, django_assert_num_queries):
    for label in ("r1", "r2", "r3"):
        publish_something()
        release_publish(label=label)

    # COUNT, the releases, data version.
    with django_assert_num_queries(3):
        assert api_client.get("/api/v1/releases/").status_code == 200
    # The release, data version.
    with django_assert_num_queries(2):
        assert api_client.get("/api/v1/releases/r2/files/manifest.json").status_code == 200
