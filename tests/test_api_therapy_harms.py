"""A therapy's harms, represented from values() rows (treatments/api.py attach_harms,
curation/rowlists.py), answer byte for byte what DRF's serializers answered from model
instances: in the therapy list, filtered or not, a page at a time, and in one therapy."""

import pytest

from curation.models import Status
from findings.serializers import CitationSerializer
from tests.factories import make_abnormality, make_evidence, make_harm, make_therapy
from tests.test_api_fast_lists import assert_same, both_ways, noticed_sources
from treatments import api
from treatments.models import HarmKind, Severity
from treatments.serializers import TherapyHarmSerializer


def build_harms() -> dict:
    """Three therapies: one with harms from a retracted source with a notice, a source
    under an expression of concern already reviewed and a plain one (one of its harms a
    draft, one retracted), one with a harm of each kind, and one with none."""
    nk = make_abnormality(slug="low-nk")
    held, reviewed, plain = noticed_sources()
    harmed = make_therapy(slug="harmed")
    for source in (held, reviewed, plain):
        make_harm(therapy=harmed, source=source, frequency="", quote="“Quoted”, ünïcode")
    make_harm(therapy=harmed, source=plain, status=Status.DRAFT)
    retracted = make_harm(therapy=harmed, source=plain)
    retracted.status = Status.RETRACTED
    retracted.save()
    kinds = make_therapy(slug="kinds")
    for kind, severity in zip(HarmKind.values, Severity.values * 3, strict=False):
        make_harm(therapy=kinds, source=plain, kind=kind, severity=severity)
    none = make_therapy(slug="none")
    for therapy in (harmed, kinds, none):
        make_evidence(therapy=therapy, abnormality=nk)
    return {"abnormality": nk}


@pytest.mark.django_db
@pytest.mark.parametrize("reader", ["anonymous", "curator"])
def test_harms_from_rows_answer_what_the_serializers_did(
    reader, api_client, curator_api, monkeypatch
):
    client = api_client if reader == "anonymous" else curator_api
    data = build_harms()
    shown = {}
    for url in [
        "/api/v1/therapies/",
        "/api/v1/therapies/?page_size=1",
        "/api/v1/therapies/?page_size=1&page=2",
        f"/api/v1/therapies/?abnormality={data['abnormality'].slug}",
        "/api/v1/therapies/?sort=evidence",
        "/api/v1/therapies/harmed/",
        "/api/v1/therapies/kinds/",
        "/api/v1/therapies/none/",
    ]:
        drf, fast = both_ways(
            client,
            url,
            monkeypatch,
            switch=(api, "HARMS_FROM_VALUES"),
            serializers=(TherapyHarmSerializer, CitationSerializer),
        )
        assert_same(drf, fast, url)
        body = fast.json()
        for therapy in body.get("results", [body]):
            shown[therapy["slug"]] = therapy["harms"]
    # What the comparison covered: published harms only, with their citations' notices.
    assert len(shown["harmed"]) == 3
    assert [harm["citation"]["notice_held"] for harm in shown["harmed"]].count(True) == 1
    assert len(shown["kinds"]) == len(HarmKind.values)
    assert shown["none"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 20])
def test_a_page_of_therapies_reads_its_harms_in_one_query(api_client, django_assert_num_queries, n):
    """The data version, the count, the page, the pairs, the ratings, the harms."""
    nk = make_abnormality()
    for _ in range(n):
        therapy = make_therapy()
        make_evidence(therapy=therapy, abnormality=nk)
        make_harm(therapy=therapy)
        make_harm(therapy=therapy)
    with django_assert_num_queries(6):
        response = api_client.get("/api/v1/therapies/?page_size=100")
    assert sum(len(t["harms"]) for t in response.json()["results"]) == 2 * n
