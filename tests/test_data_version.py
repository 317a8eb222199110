"""The data version (issue 10, item 5): every publish, accepted change or retraction
moves it; every public page, feed, export and API response names it; ``/changes/`` (a
page, an Atom feed and ``/api/v1/changes/``) lists what each version did."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree

import pytest
from django.core.cache import cache

from curation.models import DataChange, DataChangeAction, DataVersion, Status
from curation.services import record_publish, record_retract, record_submit
from curation.versions import data_version_batch, data_version_record
from tests import factories

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def publish(record, curator, editor, note=""):
    """Through the review service, as the admin and the API do."""
    record_submit(record=record, user=curator)
    return record_publish(record=record, user=editor, note=note)


def submitted_therapy(curator, **kwargs):
    return factories.make_therapy(status=Status.DRAFT, created_by=curator, **kwargs)


def version_of(response) -> int:
    return int(response["X-Data-Version"])


# ---------------------------------------------------------------------------
# The version moves with what readers see, and every response names it
# ---------------------------------------------------------------------------


def test_before_anything_is_published_the_version_is_0(client, api_client):
    assert version_of(client.get("/")) == 0
    assert api_client.get("/api/v1/therapies/").json()["data_version"] == 0
    assert "Data version 0 (nothing published yet)" in client.get("/").content.decode()


def test_a_publish_through_the_service_moves_the_header_and_the_changes_page(
    client, curator, editor
):
    before = version_of(client.get("/treatments/"))
    therapy = submitted_therapy(curator, name="Rintatolimod", slug="rintatolimod")

    publish(therapy, curator, editor)

    response = client.get("/treatments/")
    assert version_of(response) == before + 1
    changes = client.get("/changes/").content.decode()
    assert f"Data version {before + 1}" in changes
    assert 'href="/treatments/rintatolimod/">Rintatolimod</a>' in changes
    assert "Added" in changes


def test_a_retraction_moves_the_version_and_the_changes_page_shows_why(client, curator, editor):
    therapy = submitted_therapy(curator, name="Sizofiran", slug="sizofiran")
    publish(therapy, curator, editor)
    published_in = version_of(client.get("/"))

    record_retract(record=therapy, user=editor, note="No such trial was found.")

    assert version_of(client.get("/")) == published_in + 1
    changes = client.get("/changes/").content.decode()
    assert "Retracted" in changes
    assert "Why it was retracted:</strong> No such trial was found." in changes
    # Retracted: no longer a public page to link to.
    assert 'href="/treatments/sizofiran/"' not in changes


def test_an_accepted_suggestion_moves_the_version_and_names_the_fields_it_revised(
    client, curator, editor
):
    from curation.revisions import suggestion_accept
    from curation.services import record_edit

    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod")
    before = version_of(client.get("/"))
    edit = record_edit(
        record=therapy,
        fields={"summary": "A corrected summary.", "mechanism": "TLR3 agonist."},
        user=curator,
        reason="Typo",
    )
    assert version_of(client.get("/")) == before  # a suggestion is not yet public

    suggestion_accept(suggestion=edit.suggestion, user=editor, note="Checked; internal.")

    assert version_of(client.get("/")) == before + 1
    html = client.get("/changes/").content.decode()
    assert "<h3>Revised</h3>" in html
    assert "changed: mechanism, plain-language summary" in html
    assert "Checked; internal." not in html  # an accept note is for curators


def test_every_public_page_shows_the_version_in_its_footer(client, curator, editor):
    publish(submitted_therapy(curator, slug="ldn"), curator, editor)
    version = DataVersion.objects.get()

    for url in ("/", "/treatments/", "/treatments/ldn/", "/sources/", "/search/?q=x"):
        html = client.get(url).content.decode()
        assert f'<a href="/changes/">Data version {version.number}, <time' in html, url
    assert client.get("/no/such/page/").status_code == 404
    assert "Data version" in client.get("/no/such/page/").content.decode()


def test_feeds_exports_and_every_api_response_carry_the_header(client, api_client, editor_api):
    factories.make_therapy(slug="ldn")
    data_version_record(record=factories.make_source(), action=DataChangeAction.ADDED)

    for url in (
        "/feeds/evidence/",
        "/changes/feed/",
        "/treatments/?format=csv",
        "/sources/?format=json",
        "/api/v1/therapies/",
        "/api/v1/therapies/ldn/",
        "/api/v1/therapies/no-such/",
        "/api/v1/nothing-here/",
        "/api/v1/changes/?since=abc",
    ):
        response = (api_client if url.startswith("/api/") else client).get(url)
        assert response["X-Data-Version"] == "1", url
    assert editor_api.get("/api/v1/therapies/")["X-Data-Version"] == "1"


def test_the_admin_and_the_health_check_pay_nothing_for_it(editor_client):
    assert "X-Data-Version" not in editor_client.get("/admin/")
    assert "X-Data-Version" not in editor_client.get("/healthz")


def test_the_header_is_exposed_to_cross_origin_readers(api_client):
    response = api_client.get("/api/v1/therapies/", HTTP_ORIGIN="https://app.example")

    assert "X-Data-Version" in response["Access-Control-Expose-Headers"]


def test_a_cached_response_carries_the_version_it_was_stored_with_until_the_next_publish(
    client, settings, curator, editor, django_capture_on_commit_callbacks
):
    settings.PUBLIC_CACHE_SECONDS = 600
    cache.clear()
    factories.make_therapy()
    with django_capture_on_commit_callbacks(execute=True):
        publish(submitted_therapy(curator), curator, editor)
    first = client.get("/treatments/")
    again = client.get("/treatments/")
    assert again["X-Cache"] == "hit"
    assert version_of(again) == version_of(first)
    # Revalidating the cached copy keeps the header on the 304.
    not_modified = client.get("/treatments/", HTTP_IF_NONE_MATCH=again["ETag"])
    assert not_modified.status_code == 304
    assert version_of(not_modified) == version_of(first)

    with django_capture_on_commit_callbacks(execute=True):
        publish(submitted_therapy(curator), curator, editor)

    after = client.get("/treatments/")
    assert after["X-Cache"] == "miss"
    assert version_of(after) == version_of(first) + 1
    cache.clear()


# ---------------------------------------------------------------------------
# API: list bodies and ETags
# ---------------------------------------------------------------------------


def test_a_list_body_carries_the_version_and_its_etag_changes_with_it(api_client, curator, editor):
    factories.make_therapy()
    first = api_client.get("/api/v1/therapies/")
    assert first.json()["data_version"] == 0
    assert list(first.json()) == ["count", "data_version", "next", "previous", "results"]
    assert first["ETag"].startswith('"d0-')

    publish(submitted_therapy(curator), curator, editor)

    second = api_client.get("/api/v1/therapies/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.json()["data_version"] == 1
    assert second["ETag"].startswith('"d1-')
    assert (
        api_client.get("/api/v1/therapies/", HTTP_IF_NONE_MATCH=second["ETag"]).status_code == 304
    )


def test_a_records_etag_still_names_the_records_own_version(api_client, curator, editor):
    therapy = factories.make_therapy(slug="ldn")
    etag = api_client.get("/api/v1/therapies/ldn/")["ETag"]

    publish(submitted_therapy(curator), curator, editor)  # another record

    assert etag.startswith(f'"v{therapy.version}-')
    assert api_client.get("/api/v1/therapies/ldn/", HTTP_IF_NONE_MATCH=etag).status_code == 304


# ---------------------------------------------------------------------------
# /api/v1/changes/ and ?since=N
# ---------------------------------------------------------------------------


def test_the_api_lists_changes_newest_first_with_their_version(api_client, editor):
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod")
    data_version_record(record=therapy, action=DataChangeAction.ADDED, note="Editor's note.")
    data_version_record(record=therapy, action=DataChangeAction.REVISED, fields=["summary"])
    record_retract(record=therapy, user=editor, note="Withdrawn by the authors.")

    body = api_client.get("/api/v1/changes/").json()

    assert body["data_version"] == 3
    assert [(c["version"], c["action"]) for c in body["results"]] == [
        (3, "retracted"),
        (2, "revised"),
        (1, "added"),
    ]
    retracted, revised, added = body["results"]
    assert retracted["reason"] == "Withdrawn by the authors."
    assert retracted["url"] is None  # retracted: no public page
    assert revised["fields"] == ["summary"]
    assert revised["field_labels"] == ["plain-language summary"]
    assert added["reason"] == ""  # a publish note is written for curators, not readers
    assert added["kind"] == "therapy"
    assert added["record"] == therapy.pk
    assert added["kind_label"] == "therapy"
    assert added["label"] == "Rintatolimod"
    assert set(added) == {
        "id",
        "version",
        "version_created_at",
        "action",
        "kind",
        "kind_label",
        "record",
        "label",
        "fields",
        "field_labels",
        "reason",
        "url",
    }


def test_since_returns_only_changes_made_after_that_version(api_client):
    therapy = factories.make_therapy(slug="ldn")
    for _ in range(3):
        data_version_record(record=therapy, action=DataChangeAction.REVISED, fields=["name"])

    later = api_client.get("/api/v1/changes/?since=1").json()["results"]
    none = api_client.get("/api/v1/changes/?since=3").json()["results"]
    everything = api_client.get("/api/v1/changes/?since=0").json()["results"]

    assert [c["version"] for c in later] == [3, 2]
    assert none == []
    assert len(everything) == 3
    assert later[0]["url"] == "http://testserver/treatments/ldn/"


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("-1", "greater than or equal to 0"),
        ("abc", "Enter a whole number"),
        ("1.5", "Enter a whole number"),
        ("9" * 30, "less than or equal to"),
    ],
)
def test_a_bad_since_is_a_400_in_the_apis_shape(api_client, since, message):
    response = api_client.get(f"/api/v1/changes/?since={since}")

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and body["code"] == "invalid"
    assert list(body["errors"]) == ["since"]
    assert message in body["errors"]["since"][0]


def test_the_changes_resource_is_read_only(editor_api):
    assert editor_api.post("/api/v1/changes/", {}, format="json").status_code == 405


def _changes(n: int) -> None:
    """n versions, each adding a therapy, a source and an abnormality (three kinds of
    record with public pages) and a finding (a kind without)."""
    for _ in range(n):
        with data_version_batch():
            for record in (
                factories.make_therapy(),
                factories.make_source(),
                factories.make_abnormality(),
                factories.make_finding(),
            ):
                data_version_record(record=record, action=DataChangeAction.ADDED)


@pytest.mark.parametrize("n", [1, 50])
def test_the_changes_api_takes_a_fixed_number_of_queries(api_client, django_assert_num_queries, n):
    _changes(n)
    # COUNT; a page of changes with version and content type joined; the published
    # therapies, sources and abnormalities among them (one query per kind of record
    # with a public page); data version.
    with django_assert_num_queries(6):
        response = api_client.get("/api/v1/changes/?since=0")
    assert response.status_code == 200


# ---------------------------------------------------------------------------
# /changes/ and /changes/<N>/
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 50])
def test_the_changes_page_takes_a_fixed_number_of_queries(client, django_assert_num_queries, n):
    _changes(n)
    # COUNT of versions; a page of versions with their counts per action; their first
    # changes with content types (one window-function query); the published
    # therapies, sources and abnormalities among them; data version (footer).
    with django_assert_num_queries(7):
        response = client.get("/changes/")
    assert response.status_code == 200


@pytest.mark.parametrize("n", [1, 50])
def test_a_version_page_takes_a_fixed_number_of_queries(client, django_assert_num_queries, n):
    _changes(1)
    with data_version_batch():
        for _ in range(n):
            data_version_record(record=factories.make_therapy(), action=DataChangeAction.ADDED)
    # The version; COUNT of its changes; a page of them with content types; the
    # published therapies among them; data version (footer).
    with django_assert_num_queries(5):
        response = client.get("/changes/2/")
    assert response.status_code == 200
    assert response.content.decode().count('class="change change-added"') == n


def test_the_changes_page_groups_a_versions_changes_in_readers_words(client, curator, editor):
    source = factories.make_source(title="An NK cell study")
    evidence = factories.make_evidence(source=source, therapy=factories.make_therapy(name="LDN"))
    with data_version_batch():
        data_version_record(record=source, action=DataChangeAction.ADDED)
        data_version_record(
            record=evidence, action=DataChangeAction.REVISED, fields=["quote", "level"]
        )

    html = client.get("/changes/").content.decode()

    assert html.index("<h3>Added</h3>") < html.index("<h3>Revised</h3>")
    assert "1 added, 1 revised" in html
    assert f'href="{source.get_absolute_url()}"' in html
    assert "Therapy evidence:</span>" in html
    assert "changed: level, quote" in html


def test_a_large_version_shows_its_first_changes_and_links_to_the_rest(client):
    with data_version_batch():
        for _ in range(30):
            data_version_record(record=factories.make_therapy(), action=DataChangeAction.ADDED)

    html = client.get("/changes/").content.decode()
    version_page = client.get("/changes/1/").content.decode()

    assert html.count('class="change change-added"') == 25
    assert '<a href="/changes/1/">All 30 changes of data version 1</a>' in html
    assert version_page.count('class="change change-added"') == 30


def test_an_unknown_version_is_a_404(client):
    assert client.get("/changes/7/").status_code == 404


def test_with_nothing_published_the_changes_page_says_so(client):
    response = client.get("/changes/")

    assert response.status_code == 200
    assert "Nothing has been published yet" in response.content.decode()


# ---------------------------------------------------------------------------
# The Atom feed
# ---------------------------------------------------------------------------


def test_the_atom_feed_lists_versions_newest_first(client, curator, editor):
    therapy = submitted_therapy(curator, name="Rintatolimod")
    publish(therapy, curator, editor)
    record_retract(record=therapy, user=editor, note="A <b>reason</b>.")

    response = client.get("/changes/feed/")

    assert response["Content-Type"].startswith("application/atom+xml")
    entries = ElementTree.fromstring(response.content).findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == [
        "Data version 2: 1 retracted",
        "Data version 1: 1 added",
    ]
    assert entries[0].find(f"{ATOM}link").get("href") == "http://testserver/changes/2/"
    summary = entries[0].find(f"{ATOM}summary").text
    assert "Why: A &lt;b&gt;reason&lt;/b&gt;." in summary
    assert "Not medical advice." in summary


def test_every_page_links_to_the_changes_feed(client):
    html = client.get("/").content.decode()

    assert 'href="/changes/feed/"' in html


# ---------------------------------------------------------------------------
# Exports and releases
# ---------------------------------------------------------------------------


def test_exports_carry_the_version_in_the_header_the_file_name_and_the_json_body(client):
    factories.make_source()
    data_version_record(record=factories.make_therapy(), action=DataChangeAction.ADDED)

    as_csv = client.get("/sources/?format=csv")
    as_json = client.get("/sources/?format=json")

    assert as_csv["X-Data-Version"] == "1"
    assert as_csv["Content-Disposition"] == 'attachment; filename="sources-v1.csv"'
    # The CSV file holds rows only: its first line is the header row.
    assert next(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))[0] == "id"
    assert as_json["Content-Disposition"] == 'attachment; filename="sources-v1.json"'
    assert as_json.json()["data_version"] == 1


def test_a_release_manifest_names_its_data_version(tmp_path):
    import json

    from treatments.releases import release_export

    data_version_record(record=factories.make_therapy(), action=DataChangeAction.ADDED)

    release_export(directory=tmp_path, release="test")

    assert json.loads((tmp_path / "manifest.json").read_text())["data_version"] == 1


# ---------------------------------------------------------------------------
# The seed
# ---------------------------------------------------------------------------


def test_a_seed_load_is_one_version_and_a_rerun_that_changes_nothing_adds_none():
    from treatments.seed import seed_load

    report = seed_load()

    version = DataVersion.objects.get()
    assert version.number == 1
    assert version.changes.count() == sum(report.created.values())
    assert set(version.changes.values_list("action", flat=True)) == {"added"}

    seed_load()
    seed_load(update=True)

    assert DataVersion.objects.count() == 1


def test_a_seed_update_that_changes_a_record_is_a_revision_naming_its_fields(tmp_path):
    import json

    from django.conf import settings

    from treatments.seed import seed_load

    seed_load()
    data = json.loads((settings.BASE_DIR / "fixtures" / "seed.json").read_text())
    data["therapies"][0]["summary"] = "A changed summary."
    changed = tmp_path / "seed.json"
    changed.write_text(json.dumps(data))

    seed_load(path=changed, update=True)

    [change] = DataChange.objects.filter(version__number=2)
    assert change.action == DataChangeAction.REVISED
    assert change.fields == ["summary"]


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99"])
def test_a_bad_page_on_the_changes_pages_is_a_400_naming_the_parameter(client, page):
    therapy = factories.make_therapy(status=Status.PUBLISHED)
    version = data_version_record(record=therapy, action=DataChangeAction.ADDED).version
    for url in ("/changes/", f"/changes/{version.number}/"):
        response = client.get(url, {"page": page})
        assert response.status_code == 400, url
        assert "(<code>page</code>)" in response.content.decode(), url


def test_the_version_read_by_the_kept_statement_is_the_newest(curator, editor, monkeypatch):
    """The stamp is read by a statement compiled once (curation/statements.py): after
    each publish it names the newest version, as the query built each time does."""
    from curation import statements, versions

    statements.forget_templates()
    seen = [versions._read_stamp()]
    for _ in range(2):
        publish(submitted_therapy(curator), curator, editor)
        seen.append(versions._read_stamp())
    assert statements.kept("data version")
    newest = DataVersion.objects.order_by("-number").first()
    assert seen[-1] == versions.VersionStamp(newest.number, newest.created_at)
    assert [stamp.number for stamp in seen] == sorted({stamp.number for stamp in seen})
    monkeypatch.setattr(versions, "template_rows", lambda *args: None)
    assert versions._read_stamp() == seen[-1]
