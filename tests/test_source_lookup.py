"""Looking a source up by identifier (issue 11, items 1 and 6): the lookup itself, the
admin's "Look up" button, the API's ``sources/lookup`` action and ``lookup_source``.

No test touches the network: each service answers from a recording in
tests/recordings/ (tests/lookup_recordings.py), written in its documented format from
a record of shared/data/references.json; every expected value below is read from that
same record, never typed. Each outcome (found, not found, service down, timeout,
malformed body, a retracted DOI) is checked through the admin, the API and the command.
"""

import datetime
import io
import socket

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from curation.models import Status
from findings.lookup import LookupFailed, identifier_parse, source_lookup
from findings.lookup import http as lookup_http
from findings.models import Source
from tests import factories, network_guard
from tests.admin_helpers import change_form_data
from tests.lookup_recordings import DOWN, SLOW, reference

LUTZ = "lutz2021_igg"  # a DOI with a PMID: Crossref, then Europe PMC
STRAYER = "strayer2012_amp516"  # a PMID with a DOI: PubMed, then Crossref
NATELSON = "natelson1995_igg"  # a PMCID (from the record's notes): Europe PMC
NCT = "nct02965768_ldn_rct"  # a trial registry entry: ClinicalTrials.gov
CABANAS = "cabanas2021_ldn_trpm3"  # the SYNTHETIC retraction recording
NATELSON_PMCID = "PMC170136"  # as written in natelson1995_igg's notes
NCT_NUMBER = "NCT02965768"  # as written in nct02965768_ldn_rct's link


def doi_query(doi: str) -> str:
    return f'DOI:"{doi}"'


# ---------------------------------------------------------------------------------------
# The outcomes, each set up the same way for the three doors
# ---------------------------------------------------------------------------------------


def serve_found(services):
    ref = reference(LUTZ)
    services.crossref(ref["doi"], name="crossref/lutz2021_igg.json")
    services.europepmc(doi_query(ref["doi"]), name="europepmc/doi_lutz2021_igg.json")
    return ref["doi"]


def serve_not_found(services):
    doi = "10.5555/no-such-paper"
    services.crossref(doi)
    services.europepmc(doi_query(doi))
    return doi


def serve_down(services):
    doi = reference(LUTZ)["doi"]
    services.crossref(doi, error=DOWN)
    services.europepmc(doi_query(doi), error=DOWN)
    return doi


def serve_timeout(services):
    doi = reference(LUTZ)["doi"]
    services.crossref(doi, error=SLOW)
    services.europepmc(doi_query(doi), error=SLOW)
    return doi


def serve_malformed(services):
    doi = reference(LUTZ)["doi"]
    services.crossref(doi, body="<html><body>Bad gateway</body></html>", status=200)
    services.europepmc(doi_query(doi), body='{"hitCount": 1, "resultList": ', status=200)
    return doi


def serve_retracted(services):
    ref = reference(CABANAS)
    services.crossref(ref["doi"], name="crossref/SYNTHETIC_retracted_cabanas2021_ldn_trpm3.json")
    services.europepmc(doi_query(ref["doi"]))
    return ref["doi"]


# (set-up, API status, words the curator reads)
OUTCOMES = {
    "found": (serve_found, 200, "Filled from Crossref"),
    "not found": (serve_not_found, 404, "Crossref does not know the DOI 10.5555/no-such-paper"),
    "service down": (serve_down, 502, "Crossref could not be reached"),
    "timeout": (serve_timeout, 502, "Crossref did not answer within"),
    "malformed body": (serve_malformed, 502, "Crossref answered with something that is not"),
    "retracted": (serve_retracted, 200, "Retraction"),
}


# ---------------------------------------------------------------------------------------
# What the lookup finds
# ---------------------------------------------------------------------------------------


def test_a_doi_fills_the_record_from_crossref_and_its_pmid_from_europe_pmc(db, services):
    ref = reference(LUTZ)
    serve_found(services)
    result = source_lookup(f"https://doi.org/{ref['doi'].upper()}")
    fields = result.fields
    assert fields["doi"] == ref["doi"]
    assert fields["title"] == ref["title"]
    assert fields["authors"] == ref["authors"]
    assert fields["container"] == ref["journal"]
    assert fields["year"] == ref["year"]
    assert fields["pmid"] == ref["pmid"]  # cross-filled
    assert fields["publication_type"] == "journal-article"
    assert fields["kind"] == "journal_article"
    assert fields["notices_checked_on"] == datetime.date.today()
    assert "notice_kind" not in fields and "retracted" not in fields
    assert result.sources["title"] == "Crossref"
    assert result.sources["pmid"] == "Europe PMC"
    assert result.complete and result.notices_checked
    assert fields["key"] == f"lutz{ref['year']}_evaluation"


def test_a_pmid_fills_the_record_from_pubmed_with_its_doi_and_checks_crossref(db, services):
    ref = reference(STRAYER)
    services.pubmed(ref["pmid"], name="pubmed/strayer2012_amp516.xml")
    services.crossref(ref["doi"], name="crossref/strayer2012_amp516.json")
    services.europepmc(f"EXT_ID:{ref['pmid']} AND SRC:MED")
    result = source_lookup(f"PMID: {ref['pmid']}")
    fields = result.fields
    assert fields["pmid"] == ref["pmid"]
    assert fields["doi"] == ref["doi"]  # cross-filled
    assert fields["title"] == ref["title"]
    assert fields["container"] == ref["journal"]
    assert fields["year"] == ref["year"]
    # PubMed's own form of the names: family name and initials.
    expected = []
    for name in ref["authors"].split(", "):
        if name.startswith("the "):
            expected.append(name)
        else:
            *given, family = name.split(" ")
            expected.append(f"{family} {''.join(part[0] for part in given)}")
    assert fields["authors"] == ", ".join(expected)
    assert result.sources["title"] == "PubMed (NCBI E-utilities)"
    assert result.notices_checked and result.complete


def test_a_pmcid_is_looked_up_at_europe_pmc(db, services):
    ref = reference(NATELSON)
    services.europepmc(f"PMCID:{NATELSON_PMCID}", name="europepmc/pmcid_natelson1995_igg.json")
    result = source_lookup(f"https://www.ncbi.nlm.nih.gov/pmc/articles/{NATELSON_PMCID}/")
    assert result.fields["pmcid"] == NATELSON_PMCID
    assert result.fields["title"] == ref["title"]
    assert result.fields["authors"] == ref["authors"]
    assert result.fields["container"] == ref["journal"]
    assert result.fields["year"] == ref["year"]
    # Europe PMC gives no DOI for it, so Crossref was not asked and notices are unchecked.
    assert not result.notices_checked
    assert "notices_checked_on" not in result.fields


def test_an_nct_number_is_looked_up_at_clinicaltrials_gov(db, services):
    ref = reference(NCT)
    services.ctgov(NCT_NUMBER, name="ctgov/nct02965768_ldn_rct.json")
    result = source_lookup(f"https://clinicaltrials.gov/study/{NCT_NUMBER.lower()}")
    assert result.fields["nct_id"] == NCT_NUMBER
    assert result.fields["title"] == ref["title"]
    assert result.fields["kind"] == "trial_registry"
    assert result.fields["container"] == "ClinicalTrials.gov"
    assert result.fields["url"] == f"https://clinicaltrials.gov/study/{NCT_NUMBER}"
    assert result.fields["authors"] == "University of Alabama at Birmingham (sponsor)"
    assert result.fields["publication_type"] == "Interventional"
    assert result.fields["key"] == "nct02965768"


def test_an_unknown_trial_number_is_not_found(db, services):
    services.ctgov(NCT_NUMBER)
    with pytest.raises(LookupFailed) as failed:
        source_lookup(NCT_NUMBER)
    assert failed.value.code == "not_found"
    assert "ClinicalTrials.gov does not know the ClinicalTrials.gov number" in failed.value.message


def test_a_pmid_pubmed_does_not_know_is_not_found(db, services):
    services.pubmed("99999999")
    services.europepmc("EXT_ID:99999999 AND SRC:MED")
    with pytest.raises(LookupFailed) as failed:
        source_lookup("99999999")
    assert failed.value.code == "not_found"
    assert "PubMed (NCBI E-utilities) does not know the PMID 99999999" in failed.value.message


def test_a_retracted_doi_brings_the_notice_and_its_link(db, services):
    serve_retracted(services)
    result = source_lookup(reference(CABANAS)["doi"])
    fields = result.fields
    assert fields["retracted"] is True
    assert fields["notice_kind"] == "retraction"
    assert fields["notice_doi"] == "10.5555/synthetic-retraction-notice"
    assert fields["notice_date"] == datetime.date(2024, 3, 1)
    assert "reported by Retraction Watch" in fields["retraction_note"]
    assert "https://doi.org/10.5555/synthetic-retraction-notice" in fields["retraction_note"]
    assert result.notices[0].kind == "retraction"


@pytest.mark.parametrize("outcome", ["service down", "timeout", "malformed body"])
def test_when_every_service_fails_nothing_is_filled_and_each_failure_is_named(
    db, services, outcome
):
    OUTCOMES[outcome][0](services)
    with pytest.raises(LookupFailed) as failed:
        source_lookup(reference(LUTZ)["doi"])
    assert failed.value.code == "unavailable"
    assert OUTCOMES[outcome][2] in failed.value.message
    assert "Europe PMC" in failed.value.message
    assert "enter the source by hand" in failed.value.message


def test_when_crossref_fails_europe_pmc_fills_the_record_and_the_unchecked_notices_are_said(
    db, services
):
    ref = reference(LUTZ)
    services.crossref(ref["doi"], error=SLOW)
    services.europepmc(doi_query(ref["doi"]), name="europepmc/doi_lutz2021_igg.json")
    result = source_lookup(ref["doi"])
    assert result.fields["title"] == ref["title"]
    assert result.fields["pmid"] == ref["pmid"]
    assert not result.complete
    assert any("Crossref did not answer within" in p for p in result.problems)
    assert not result.notices_checked
    assert "notices_checked_on" not in result.fields


def test_when_europe_pmc_fails_after_crossref_found_the_record_the_gap_is_named(db, services):
    ref = reference(LUTZ)
    services.crossref(ref["doi"], name="crossref/lutz2021_igg.json")
    services.europepmc(doi_query(ref["doi"]), status=503, body="Service Unavailable")
    result = source_lookup(ref["doi"])
    assert result.fields["title"] == ref["title"]
    assert "pmid" not in result.fields
    assert result.problems == [
        "Europe PMC answered with an error (HTTP 503). Not checked: PMID, PMCID and abstract."
    ]


def test_requests_name_us_and_our_contact_and_use_the_configured_mirror(db, services, settings):
    ref = reference(STRAYER)
    settings.NCBI_API_KEY = "test-key"
    pubmed = services.pubmed(ref["pmid"], name="pubmed/strayer2012_amp516.xml")
    crossref = services.crossref(ref["doi"], name="crossref/strayer2012_amp516.json")
    services.europepmc(f"EXT_ID:{ref['pmid']} AND SRC:MED")
    source_lookup(ref["pmid"])
    for route in (pubmed, crossref):
        request = route.calls.last.request
        assert request.headers["User-Agent"].endswith("(mailto:curators@example.org)")
        assert request.url.host.endswith(".mirror.test")
    assert pubmed.calls.last.request.url.params["api_key"] == "test-key"
    assert pubmed.calls.last.request.url.params["email"] == "curators@example.org"


def test_ncbi_requests_keep_to_three_a_second_without_a_key_and_ten_with_one(settings):
    settings.NCBI_API_KEY = ""
    assert lookup_http.ncbi().limiter.interval == pytest.approx(1 / 3)
    settings.NCBI_API_KEY = "test-key"
    assert lookup_http.ncbi().limiter.interval == pytest.approx(1 / 10)


def test_a_request_waits_its_turn_under_the_rate_limit(monkeypatch):
    waited = []
    monkeypatch.setattr(lookup_http, "sleep", waited.append)
    limiter = lookup_http.RateLimiter(3.0)
    far = lookup_http.time.monotonic() + 60
    limiter.wait(deadline=far, service="PubMed")
    limiter.wait(deadline=far, service="PubMed")
    assert len(waited) == 1 and 0 < waited[0] <= 1 / 3


def test_a_turn_that_would_come_after_the_deadline_is_refused_at_once(monkeypatch):
    monkeypatch.setattr(lookup_http, "sleep", lambda seconds: pytest.fail("it waited"))
    limiter = lookup_http.RateLimiter(0.1)  # one request every ten seconds
    soon = lookup_http.time.monotonic() + 1
    limiter.wait(deadline=soon, service="Crossref")
    with pytest.raises(lookup_http.ServiceError, match="rate limit"):
        limiter.wait(deadline=soon, service="Crossref")


@pytest.mark.parametrize(
    "pasted",
    ["", "not an identifier", "10.12/x", "PMC", "NCT123", "https://example.org/paper"],
)
def test_what_is_not_an_identifier_is_refused_with_what_is_accepted(pasted):
    with pytest.raises(LookupFailed) as failed:
        identifier_parse(pasted)
    assert failed.value.code == "invalid"
    assert "DOI" in failed.value.message


def test_without_a_contact_address_lookups_are_refused_with_the_setting_named(db, settings):
    settings.LOOKUP_CONTACT_EMAIL = ""
    with pytest.raises(LookupFailed) as failed:
        source_lookup("10.3390/biom11091359")
    assert failed.value.code == "not_configured"
    assert "LOOKUP_CONTACT_EMAIL" in failed.value.message


def test_the_proposed_key_is_unique(db, services):
    serve_found(services)
    first = source_lookup(reference(LUTZ)["doi"]).fields["key"]
    factories.make_source(key=first)
    serve_found(services)
    assert source_lookup(reference(LUTZ)["doi"]).fields["key"] == f"{first}_2"


def test_no_test_can_reach_the_network():
    with pytest.raises(network_guard.NetworkCallInTest, match="never touch the network"):
        socket.create_connection(("api.crossref.org", 443), timeout=1)
    with pytest.raises(network_guard.NetworkCallInTest):
        httpx.get("https://api.crossref.org/works/10.3390/biom11091359", timeout=1)


# ---------------------------------------------------------------------------------------
# The admin: "Look up" fills the add form; nothing is saved
# ---------------------------------------------------------------------------------------


def _admin_lookup(client, identifier):
    response = client.post(
        reverse("admin:findings_source_lookup"), {"lookup_identifier": identifier}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/admin/findings/source/add/?from_lookup=1")
    return client.get(response["Location"])


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_the_admin_lookup_shows_each_outcome_and_saves_nothing(curator_client, services, outcome):
    serve, _, words = OUTCOMES[outcome]
    identifier = serve(services)
    page = _admin_lookup(curator_client, identifier)
    assert page.status_code == 200
    html = page.content.decode()
    assert words in html.replace("&#x27;", "'").replace("&quot;", '"')
    assert 'id="source-lookup"' in html
    assert Source.objects.count() == 0
    if outcome in ("service down", "timeout", "malformed body", "not found"):
        assert "you can go on by hand" in html


def test_the_admin_lookup_fills_the_add_form_for_the_curator_to_check(curator_client, services):
    ref = reference(LUTZ)
    serve_found(services)
    page = _admin_lookup(curator_client, ref["doi"])
    form = page.context["adminform"].form
    assert form.initial["title"] == ref["title"]
    assert form.initial["authors"] == ref["authors"]
    assert form.initial["pmid"] == ref["pmid"]
    assert form.initial["doi"] == ref["doi"]
    assert f'value="{ref["doi"]}"' in page.content.decode()  # the box keeps what was pasted
    assert "Check every field against the paper" in page.content.decode()
    assert Source.objects.count() == 0


def test_saving_the_filled_form_creates_a_draft_with_what_the_curator_checked(
    curator_client, curator, services
):
    ref = reference(CABANAS)
    serve_retracted(services)
    page = _admin_lookup(curator_client, ref["doi"])
    # What the browser sends back: the filled form as shown, unchanged.
    data = {**change_form_data(page), "_save": "Save"}
    response = curator_client.post(reverse("admin:findings_source_add"), data)
    assert response.status_code == 302, response.context["errors"]
    source = Source.objects.get(doi=ref["doi"])
    assert source.status == Status.DRAFT
    assert source.title == ref["title"]
    assert source.retracted and source.notice_kind == "retraction"
    assert source.notice_held
    assert source.history.first().history_user == curator


def test_the_admin_lookup_points_to_a_source_that_already_has_the_identifier(
    curator_client, services
):
    ref = reference(LUTZ)
    existing = factories.make_source(doi=ref["doi"], key="lutz_existing")
    serve_found(services)
    html = _admin_lookup(curator_client, ref["doi"]).content.decode()
    assert "Maybe already in the knowledge base" in html
    assert "the same DOI" in html
    assert reverse("admin:findings_source_change", args=[existing.pk]) in html


def test_the_admin_lookup_is_for_curators_only(db, client, services):
    user = factories.make_user()
    client.force_login(user)
    response = client.post(reverse("admin:findings_source_lookup"), {"lookup_identifier": "x"})
    assert response.status_code in (302, 403)
    assert Source.objects.count() == 0


def test_the_admin_lookup_answers_only_posts(curator_client):
    assert curator_client.get(reverse("admin:findings_source_lookup")).status_code == 405


def test_the_admin_lookup_of_something_that_is_not_an_identifier_says_what_is_accepted(
    curator_client, services
):
    html = _admin_lookup(curator_client, "hello").content.decode()
    assert "is not an identifier we can look up" in html.replace("&#x27;", "'")


# ---------------------------------------------------------------------------------------
# The API: POST /api/v1/sources/lookup/
# ---------------------------------------------------------------------------------------

LOOKUP_URL = "/api/v1/sources/lookup/"


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_the_api_lookup_answers_each_outcome(curator_api, services, outcome):
    serve, status, words = OUTCOMES[outcome]
    identifier = serve(services)
    response = curator_api.post(LOOKUP_URL, {"id": identifier}, format="json")
    assert response.status_code == status, response.content
    body = response.json()
    if status == 200:
        assert body["complete"] is True
        assert body["record"]["doi"] == identifier
    else:
        assert words in body["detail"]
        assert body["code"] == ("not_found" if status == 404 else "lookup_unavailable")
    if outcome == "retracted":
        assert body["record"]["retracted"] is True
        assert body["notices"][0]["kind"] == "retraction"
        assert body["notices"][0]["url"] == "https://doi.org/10.5555/synthetic-retraction-notice"
    assert Source.objects.count() == 0


def test_the_api_lookup_gives_the_record_with_where_each_field_came_from(curator_api, services):
    ref = reference(LUTZ)
    serve_found(services)
    body = curator_api.post(LOOKUP_URL, {"id": ref["doi"]}, format="json").json()
    assert body["identifier"] == {"kind": "doi", "value": ref["doi"]}
    assert body["record"]["title"] == ref["title"]
    assert body["record"]["pmid"] == ref["pmid"]
    assert body["record"]["year"] == ref["year"]
    assert body["filled_from"]["pmid"] == "Europe PMC"
    assert body["notices_checked"] is True
    assert body["existing"] == []


def test_the_api_lookup_answers_only_posts(curator_api):
    assert curator_api.get(LOOKUP_URL, {"id": "10.3390/x"}).status_code == 405


@pytest.mark.parametrize("body", [[None, None], {}, {"id": None}, "10.3390/x"])
def test_the_api_lookup_refuses_a_body_that_is_not_an_id(curator_api, body):
    response = curator_api.post(LOOKUP_URL, body, format="json")
    assert response.status_code == 400


def test_the_api_lookup_refuses_what_is_not_an_identifier_naming_the_parameter(curator_api):
    response = curator_api.post(LOOKUP_URL, {"id": "hello"}, format="json")
    assert response.status_code == 400
    assert "id" in response.json()["errors"]


def test_the_api_lookup_needs_a_curators_token(api_client, token_client_for, db):
    assert api_client.post(LOOKUP_URL, {"id": "10.3390/x"}, format="json").status_code == 401
    reader = token_client_for(factories.make_user())
    assert reader.post(LOOKUP_URL, {"id": "10.3390/x"}, format="json").status_code == 403


def test_the_api_lookup_says_when_lookups_are_not_configured(curator_api, settings):
    settings.LOOKUP_CONTACT_EMAIL = ""
    response = curator_api.post(LOOKUP_URL, {"id": "10.3390/biom11091359"}, format="json")
    assert response.status_code == 503
    assert "LOOKUP_CONTACT_EMAIL" in response.json()["detail"]


@pytest.mark.parametrize("existing", [1, 50])
def test_the_api_lookup_makes_the_same_queries_whatever_the_number_of_sources(
    curator_api, services, django_assert_num_queries, existing
):
    ref = reference(LUTZ)
    for _ in range(existing):
        factories.make_source()
    serve_found(services)
    # 1 the token with its user and the user's permissions (own and through groups);
    # 1 is the proposed key taken?; 1 the sources already holding one of the identifiers;
    # 1 the data version (X-Data-Version). The throttle counts in the cache.
    with django_assert_num_queries(4):
        response = curator_api.post(LOOKUP_URL, {"id": ref["doi"]}, format="json")
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------
# The command: lookup_source ID [--create --user]
# ---------------------------------------------------------------------------------------


def _command(*args):
    out = io.StringIO()
    call_command("lookup_source", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_the_command_prints_each_outcome_and_saves_nothing(db, services, outcome):
    serve, status, words = OUTCOMES[outcome]
    identifier = serve(services)
    if status == 200:
        printed = _command(identifier)
        assert words.replace("Filled from Crossref", "[Crossref]") in printed
    else:
        with pytest.raises(CommandError) as failed:
            _command(identifier)
        assert words in str(failed.value)
    assert Source.objects.count() == 0


def test_the_command_prints_the_record_as_json(db, services):
    import json

    ref = reference(LUTZ)
    serve_found(services)
    body = json.loads(_command(ref["doi"], "--json"))
    assert body["record"]["title"] == ref["title"]


def test_create_saves_a_draft_credited_to_the_curator_with_the_command_in_history(
    curator, services
):
    ref = reference(LUTZ)
    serve_found(services)
    printed = _command(ref["doi"], "--create", "--user", curator.username)
    source = Source.objects.get(doi=ref["doi"])
    assert "Saved as draft source" in printed
    assert source.status == Status.DRAFT and source.created_by == curator
    assert source.pmid == ref["pmid"] and source.title == ref["title"]
    entry = source.history.first()
    assert entry.history_user == curator
    assert entry.history_change_reason == f"Created by lookup_source from DOI {ref['doi']}"


def test_create_saves_nothing_half_filled_when_a_service_failed(curator, services):
    ref = reference(LUTZ)
    services.crossref(ref["doi"], name="crossref/lutz2021_igg.json")
    services.europepmc(doi_query(ref["doi"]), error=SLOW)
    with pytest.raises(CommandError, match="Not saved: not every service answered"):
        _command(ref["doi"], "--create", "--user", curator.username)
    assert Source.objects.count() == 0


def test_create_refuses_a_source_that_exists(curator, services):
    ref = reference(LUTZ)
    factories.make_source(doi=ref["doi"])
    serve_found(services)
    with pytest.raises(CommandError, match="already exists"):
        _command(ref["doi"], "--create", "--user", curator.username)
    assert Source.objects.filter(doi=ref["doi"]).count() == 1


def test_create_needs_a_curator(db, services):
    reader = factories.make_user()
    with pytest.raises(CommandError, match="needs --user"):
        _command("10.3390/x", "--create")
    with pytest.raises(CommandError, match="may not add sources"):
        _command("10.3390/x", "--create", "--user", reader.username)
    assert Source.objects.count() == 0
