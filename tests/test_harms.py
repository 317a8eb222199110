"""Harms as records (issue 13, "Harms, structured and sourced"): each one sourced and
reviewed like any claim, shown on its therapy's page with how often, how severe and in
whom, and "No harm data in the sources we hold." where there is none.

The seed's harms are checked against the checked references (numbers, severities,
sources), as tests/test_seed.py checks its claims; the rest builds its own data.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from curation.models import DataChange, Status, Suggestion
from curation.roles import CURATORS, EDITORS
from curation.services import record_retract
from findings.models import Source
from tests import factories
from tests.test_seed import NOT_REFERENCES, SEED_TEXTS, _shared_data
from treatments.models import (
    ControlComparison,
    Harm,
    HarmKind,
    Severity,
    Therapy,
    TherapyEvidence,
)
from treatments.releases import release_data
from treatments.seed import SEED_PATH, seed_load

SEED = json.loads(SEED_PATH.read_text(encoding="utf-8"))
NO_HARM_DATA = "No harm data in the sources we hold."


@pytest.fixture(scope="module")
def references() -> dict[str, dict]:
    data = json.loads((_shared_data() / "references.json").read_text(encoding="utf-8"))
    return {r["key"]: r for r in data if r["title"] is not None}


@pytest.fixture(scope="module")
def seed_texts() -> dict[str, str]:
    folder = _shared_data() / "seeds"
    return {key: (folder / name).read_text(encoding="utf-8") for key, name in SEED_TEXTS.items()}


@pytest.fixture
def seeded(db):
    seed_load()


def harms_section(html: str) -> str:
    """The therapy page's "Harms and risks" section."""
    start = html.index('<section aria-labelledby="harms-heading">')
    return html[start : html.index("</section>", start)]


def source_text(key: str, references: dict[str, dict]) -> str:
    """What was read of a source: a reference's record, or the verification note of a
    source that is not in references.json (the seed says what was read there)."""
    if key in references:
        ref = references[key]
        fields = ("title", "year", "study_design", "n", "outcome_summary", "notes")
        return " ".join(str(ref[f]) for f in fields if ref[f] is not None)
    [source] = [s for s in SEED["sources"] if s["key"] == key]
    return f"{source['title']} {source.get('year')} {source['verification_note']}"


def numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


# --- the seed: every therapy shows sourced harms or says there is no harm data --------------


def test_every_therapy_page_shows_its_sourced_harms_or_says_there_is_no_harm_data(seeded, client):
    with_harms = {h["therapy"] for h in SEED["harms"]}
    assert with_harms  # the seed holds harms
    for therapy in Therapy.objects.published():
        html = harms_section(client.get(therapy.get_absolute_url()).content.decode())
        assert "Harms and risks" in html
        assert "not reported" not in html.lower(), therapy.slug
        harms = list(Harm.objects.published().filter(therapy=therapy).select_related("source"))
        if therapy.slug in with_harms:
            assert harms, therapy.slug
            assert NO_HARM_DATA not in html, therapy.slug
            for harm in harms:
                assert f'id="harm-{harm.pk}"' in html
                assert harm.source.get_absolute_url() in html
        else:
            assert not harms
            assert NO_HARM_DATA in html, therapy.slug
    # The two therapies no source we hold reports a harm of.
    assert {t.slug for t in Therapy.objects.exclude(harms__isnull=False)} == {
        "inosine-pranobex",
        "sizofiran",
    }


def test_the_therapies_free_text_harms_are_gone_from_the_seed():
    assert [t["slug"] for t in SEED["therapies"] if "harms" in t] == []


def test_every_seed_harm_rests_on_a_source_we_read_and_quotes_nothing_unverified(
    references, seed_texts
):
    seed_sources = {s["key"] for s in SEED["sources"] if "same_as" not in s}
    for harm in SEED["harms"]:
        where = (harm["therapy"], harm["effect"])
        assert harm["source"] in seed_sources, where
        assert harm["source"] in references or harm["source"] in NOT_REFERENCES, where
        assert harm["source"] not in SEED_TEXTS or harm["quote"] in seed_texts[harm["source"]]
        # References carry summaries, never quotations; a page read with the search tool
        # is summarised too.
        if harm["source"] not in SEED_TEXTS:
            assert harm["quote"] == "", where
        assert harm["statement"] and harm["population"] and harm["effect"], where


def test_every_number_in_a_seed_harm_is_in_what_was_read_of_its_source(references):
    problems = {}
    for harm in SEED["harms"]:
        read = numbers(source_text(harm["source"], references))
        said = numbers(
            " ".join(harm[f] for f in ("effect", "frequency", "population", "statement"))
        )
        if missing := said - read:
            problems[(harm["therapy"], harm["effect"])] = sorted(missing)
    assert problems == {}


def test_a_number_typed_from_memory_would_be_caught(references):
    harm = next(h for h in SEED["harms"] if h["source"] == "peterson1990_ivig")
    assert "20" in numbers(source_text(harm["source"], references))
    assert "35" not in numbers(source_text(harm["source"], references))


def test_a_seed_harm_is_graded_mild_or_serious_only_where_its_source_says_so(references):
    for harm in SEED["harms"]:
        assert harm["kind"] in HarmKind.values
        assert harm["severity"] in Severity.values
        assert harm["control_comparison"] in [*ControlComparison.values, ""]
        if harm["severity"] != Severity.NOT_STATED:
            word = Severity(harm["severity"]).label.lower()
            assert word in source_text(harm["source"], references).lower(), harm["effect"]


def test_regulators_warnings_come_with_their_source_and_no_comparison(seeded, client):
    warnings = Harm.objects.published().filter(kind=HarmKind.REGULATOR)
    assert {h.therapy.slug for h in warnings} == {"rintatolimod", "hyperbaric-oxygen-therapy"}
    assert not warnings.exclude(control_comparison="").exists()

    html = client.get("/treatments/hyperbaric-oxygen-therapy/").content.decode()
    alert = Source.objects.get(key="nursecom2013_fda_hbot_alert")
    assert "Regulator&#x27;s warning or safety judgement" in html
    assert "Paralysis, air embolism" in html
    assert alert.get_absolute_url() in html
    # The page that links the FDA's warning is named in the source's verification note.
    assert "Hyperbaric Oxygen Therapy: Don't Be Misled" in alert.verification_note
    assert alert.accessed_on is not None


# --- load_seed --update: a live database gets the harm records, with a history note ---------


def old_seed() -> dict:
    """The seed before harm records and the sizofiran no-trial finding (issue 13)."""
    old = copy.deepcopy(SEED)
    old.pop("harms")
    old["evidence"] = [e for e in old["evidence"] if e["source"] != "kb_reference_check"]
    old["sources"] = [s for s in old["sources"] if s["key"] != "kb_reference_check"]
    for pair in old["contradictions"]:
        if "no_longer" in pair:
            pair["contradicted_by"] = pair.pop("no_longer")
            pair.pop("note")
    return old


@pytest.mark.django_db
def test_load_seed_update_adds_the_harm_records_with_a_history_note_and_keeps_the_old_text(
    tmp_path,
):
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old_seed()), encoding="utf-8")
    seed_load(path=path)
    Therapy.objects.filter(slug="ivig").update(legacy_harms="Typed by a curator before.")
    assert not Harm.objects.exists()

    seed_load(update=True)

    assert Harm.objects.published().count() == len(SEED["harms"])
    for harm in Harm.objects.all():
        assert harm.history.first().history_change_reason == SEED["harms_note"]
    # The old free text is kept, read-only, and readers never see it.
    ivig = Therapy.objects.get(slug="ivig")
    assert ivig.legacy_harms == "Typed by a curator before."


@pytest.mark.django_db
def test_load_seed_update_pairs_sizofiran_with_the_no_trial_finding_and_says_why(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old_seed()), encoding="utf-8")
    seed_load(path=path)
    claim = TherapyEvidence.objects.get(therapy__slug="sizofiran", source__key__in=SEED_TEXTS)
    assert claim.contradicted_by.count() == 2

    seed_load(update=True)

    assert [e.source.key for e in claim.contradicted_by.all()] == ["kb_reference_check"]
    [pair] = [p for p in SEED["contradictions"] if p["claim"] == "s25-sizofiran"]
    reasons = set(claim.history.values_list("history_change_reason", flat=True))
    assert pair["note"] in reasons
    revised = DataChange.objects.filter(
        content_type=ContentType.objects.get_for_model(TherapyEvidence),
        object_id=claim.pk,
        action="revised",
    ).get()
    assert revised.fields == ["contradicted_by"]
    # Loading again changes nothing more.
    before = claim.history.count()
    seed_load(update=True)
    assert claim.history.count() == before


# --- visibility: a draft harm is nowhere public ----------------------------------------------


@pytest.mark.django_db
def test_a_draft_harm_is_hidden_from_readers_the_api_downloads_and_releases(client, api_client):
    therapy = factories.make_therapy(slug="ldn")
    shown = factories.make_harm(therapy=therapy, effect="Vivid dreams")
    factories.make_harm(therapy=therapy, effect="Draft nausea", status=Status.DRAFT)
    hidden_source = factories.make_source(status=Status.DRAFT)
    factories.make_harm(therapy=therapy, effect="Unsourced yet", source=hidden_source)
    draft = Harm.objects.get(effect="Draft nausea")

    page = client.get("/treatments/ldn/").content.decode()
    listed = api_client.get("/api/v1/harms/").json()["results"]
    nested = api_client.get("/api/v1/therapies/ldn/").json()["harms"]
    download = client.get("/treatments/?format=csv").content.decode("utf-8-sig")

    assert "Vivid dreams" in page and "Draft nausea" not in page and "Unsourced yet" not in page
    assert [h["id"] for h in listed] == [shown.pk]
    assert [h["effect"] for h in nested] == ["Vivid dreams"]
    assert api_client.get(f"/api/v1/harms/{draft.pk}/").status_code == 404
    [row] = csv.DictReader(io.StringIO(download))
    assert "Vivid dreams" in row["harms"] and "Draft nausea" not in row["harms"]
    assert [h["effect"] for h in release_data()["harms"]] == ["Vivid dreams"]


@pytest.mark.django_db
def test_a_curator_sees_their_draft_harm_through_the_api(curator, curator_api):
    draft = factories.make_harm(status=Status.DRAFT, created_by=curator)
    assert curator_api.get(f"/api/v1/harms/{draft.pk}/").json()["status"] == "draft"


@pytest.mark.django_db
def test_a_therapy_without_published_harms_says_there_is_no_harm_data(client, api_client):
    therapy = factories.make_therapy(slug="quiet")
    factories.make_harm(therapy=therapy, status=Status.SUBMITTED)

    html = client.get("/treatments/quiet/").content.decode()

    assert NO_HARM_DATA in html
    assert api_client.get("/api/v1/therapies/quiet/").json()["harms"] == []


@pytest.mark.django_db
def test_a_retracted_harm_is_shown_apart_with_its_reason_and_listed_only_when_asked(
    client, api_client, editor
):
    therapy = factories.make_therapy(slug="hbot")
    factories.make_harm(therapy=therapy, effect="Ear pressure")
    withdrawn = record_retract(
        record=factories.make_harm(therapy=therapy, effect="Made-up seizures"),
        user=editor,
        note="The source never said this.",
    )

    response = client.get("/treatments/hbot/")
    html = response.content.decode()

    assert [h.effect for h in response.context["harms"]] == ["Ear pressure"]
    assert [h.effect for h in response.context["retracted_harms"]] == ["Made-up seizures"]
    assert "Retracted harms" in html and "The source never said this." in html
    assert f'id="harm-{withdrawn.pk}"' in html  # as a retracted item, apart
    assert [h["effect"] for h in api_client.get("/api/v1/harms/").json()["results"]] == [
        "Ear pressure"
    ]
    retracted = api_client.get("/api/v1/harms/?status=retracted").json()["results"]
    assert [h["retraction"]["reason"] for h in retracted] == ["The source never said this."]
    assert api_client.get(f"/api/v1/harms/{withdrawn.pk}/").json()["status"] == "retracted"


@pytest.mark.django_db
def test_a_source_page_lists_the_harms_it_reports(client):
    source = factories.make_source()
    harm = factories.make_harm(source=source, effect="Flu-like symptoms")
    factories.make_harm(source=source, effect="Draft rash", status=Status.DRAFT)

    html = client.get(source.get_absolute_url()).content.decode()

    assert "About harms (1)" in html
    assert "Flu-like symptoms" in html and "Draft rash" not in html
    assert f"{harm.therapy.get_absolute_url()}#harm-{harm.pk}" in html


# --- the API: filters and draft writes --------------------------------------------------------


@pytest.mark.django_db
def test_harms_are_filtered_by_therapy_kind_severity_and_text(api_client):
    ldn = factories.make_therapy(slug="ldn")
    mild = factories.make_harm(therapy=ldn, effect="Vivid dreams", severity=Severity.MILD)
    warning = factories.make_harm(
        kind=HarmKind.REGULATOR, severity=Severity.SERIOUS, effect="Air embolism"
    )

    def ids(query: str) -> list[int]:
        return [h["id"] for h in api_client.get(f"/api/v1/harms/?{query}").json()["results"]]

    assert ids("therapy=ldn") == [mild.pk]
    assert ids("kind=regulator") == [warning.pk]
    assert ids("severity=mild") == [mild.pk]
    assert ids("q=embolism") == [warning.pk]
    body = api_client.get(f"/api/v1/harms/{mild.pk}/").json()
    assert body["citation"]["key"] == mild.source.key
    assert body["therapy"] == "ldn" and body["frequency"] == "3 of 20"


@pytest.mark.django_db
def test_a_curator_writes_a_draft_harm_and_never_its_status(curator, curator_api):
    therapy, source = factories.make_therapy(slug="ldn"), factories.make_source()
    body = {
        "therapy": "ldn",
        "source": source.pk,
        "kind": "adverse_effect",
        "effect": "Insomnia",
        "frequency": "2 of 30",
        "severity": "mild",
        "population": "30 adults with ME/CFS",
        "statement": "Two participants slept badly.",
    }

    created = curator_api.post("/api/v1/harms/", body, format="json")
    refused = curator_api.post("/api/v1/harms/", {**body, "status": "published"}, format="json")
    bad = curator_api.post("/api/v1/harms/", {**body, "severity": "awful"}, format="json")

    assert created.status_code == 201, created.content
    harm = Harm.objects.get(pk=created.json()["id"])
    assert (harm.status, harm.created_by, harm.therapy) == (Status.DRAFT, curator, therapy)
    assert harm.history.first().history_user == curator
    assert refused.status_code == 400 and "status" in refused.json()["errors"]
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["severity"]
    assert Harm.objects.count() == 1


@pytest.mark.django_db
def test_a_change_to_a_published_harm_waits_as_a_suggestion(editor_api):
    harm = factories.make_harm(frequency="3 of 20")

    response = editor_api.patch(
        f"/api/v1/harms/{harm.pk}/",
        {"frequency": "4 of 20", "reason": "Miscounted."},
        format="json",
    )

    assert response.status_code == 202, response.content
    assert Harm.objects.get(pk=harm.pk).frequency == "3 of 20"
    changes = Suggestion.objects.for_record(harm).get().changes
    assert changes == {"frequency": {"old": "3 of 20", "new": "4 of 20"}}


# --- the admin and the roles --------------------------------------------------------------------


@pytest.mark.django_db
def test_both_roles_have_the_harm_permissions_their_role_gives():
    def codenames(role: str) -> set[str]:
        perms = Group.objects.get(name=role).permissions.filter(content_type__model="harm")
        return set(perms.values_list("codename", flat=True))

    assert codenames(CURATORS) == {"view_harm", "add_harm", "change_harm"}
    assert codenames(EDITORS) == {
        "view_harm",
        "add_harm",
        "change_harm",
        "delete_harm",
        "review_harm",
    }


@pytest.mark.django_db
def test_the_old_free_text_is_shown_read_only_in_the_admin_and_never_to_readers(
    curator_client, client
):
    therapy = factories.make_therapy(slug="ldn", status=Status.DRAFT, legacy_harms="Old text.")
    url = reverse("admin:treatments_therapy_change", args=[therapy.pk])

    page = curator_client.get(url)

    assert "legacy_harms" not in page.context["adminform"].form.fields
    assert "Old free-text harms (read-only, not shown to readers)" in page.content.decode()
    assert "Old text." in page.content.decode()
    Therapy.objects.filter(pk=therapy.pk).update(status=Status.PUBLISHED)
    assert "Old text." not in client.get("/treatments/ldn/").content.decode()


@pytest.mark.django_db
def test_a_curator_adds_a_harm_in_the_admin_as_a_draft(curator_client, curator):
    therapy, source = factories.make_therapy(), factories.make_source()

    response = curator_client.post(
        reverse("admin:treatments_harm_add"),
        {
            "therapy": therapy.pk,
            "kind": "adverse_effect",
            "source": source.pk,
            "effect": "Headache",
            "statement": "Some had headaches.",
            "severity": "not_stated",
            "population": "12 patients",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    harm = Harm.objects.get()
    assert (harm.status, harm.created_by) == (Status.DRAFT, curator)


@pytest.mark.django_db
def test_a_harm_without_a_population_is_a_form_error_and_saves_nothing(curator_client):
    therapy, source = factories.make_therapy(), factories.make_source()

    response = curator_client.post(
        reverse("admin:treatments_harm_add"),
        {
            "therapy": therapy.pk,
            "kind": "adverse_effect",
            "source": source.pk,
            "effect": "Headache",
            "statement": "Some had headaches.",
            "severity": "not_stated",
        },
    )

    assert response.status_code == 200
    assert "population" in response.context["adminform"].form.errors
    assert not Harm.objects.exists()


@pytest.mark.django_db
def test_a_suggestion_about_a_harm_is_made_by_its_kind(curator_api):
    harm = factories.make_harm(severity=Severity.MILD)

    response = curator_api.post(
        "/api/v1/suggestions/",
        {"kind": "harm", "record": harm.pk, "changes": {"severity": "serious"}, "reason": "Why."},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "harm"
    assert Harm.objects.get(pk=harm.pk).severity == Severity.MILD


@pytest.mark.django_db
def test_a_source_is_submitted_and_published_with_its_harms(curator, editor):
    from curation.bundles import bundle_publish, bundle_submit

    source = factories.make_source(status=Status.DRAFT, created_by=curator)
    harm = factories.make_harm(source=source, status=Status.DRAFT, created_by=curator)

    assert bundle_submit(record=source, user=curator).submitted == [harm]
    review = bundle_publish(record=source, user=editor, claims=[harm])

    assert review.published == [harm]
    assert Harm.objects.get(pk=harm.pk).status == Status.PUBLISHED


@pytest.mark.django_db
def test_a_source_page_shows_its_retracted_harm_apart_with_the_reason(client, editor):
    source = factories.make_source()
    harm = factories.make_harm(source=source, effect="Withdrawn rash")
    record_retract(record=harm, user=editor, note="Misread table.")

    html = client.get(source.get_absolute_url()).content.decode()

    assert "About harms" not in html
    assert "Retracted claims" in html and "Misread table." in html
    assert f'id="harm-{harm.pk}"' in html and ": harm, Withdrawn rash" in html


@pytest.mark.django_db
def test_a_curator_previews_a_draft_harm_where_readers_will_find_it(curator_client, client):
    from curation.preview import preview_url

    therapy = factories.make_therapy(slug="ldn")
    factories.make_harm(therapy=therapy, effect="Vivid dreams")
    draft = factories.make_harm(therapy=therapy, effect="Draft insomnia", status=Status.DRAFT)

    response = curator_client.get(preview_url(draft))
    html = harms_section(response.content.decode())

    assert response.status_code == 200
    assert [h.effect for h in response.context["harms"]] == ["Draft insomnia", "Vivid dreams"]
    assert 'class="evidence harm previewed"' in html
    assert client.get(preview_url(draft)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("resource", "field"),
    [("harms", "therapy"), ("evidence", "abnormality"), ("findings", "lab_test")],
)
def test_a_slug_with_a_null_character_is_a_400_on_its_field(curator_api, resource, field):
    """PostgreSQL refuses NUL in text: the API says so on the field, never with a 500
    (found by the contract test on PostgreSQL)."""
    response = curator_api.post(f"/api/v1/{resource}/", {field: "l\x00dn"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][field] == ["Null characters are not allowed."]
