"""CSV on every list of the API (issue 16): `Accept: text/csv` or `?format=csv` answers
every row the filters select, streamed a chunk at a time through the one CSV writer."""

import csv
import io

import pytest

from curation.apicsv import CSVListMixin
from tests.factories import make_evidence, make_source
from tests.test_api_reads import _rows
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db

LISTS = [
    "therapies",
    "abnormalities",
    "lab-tests",
    "regulatory-statuses",
    "evidence",
    "findings",
    "sources",
    "harms",
    "pairs",
    "changes",
    "releases",
]


def read_csv(response) -> list[dict]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("name", LISTS)
def test_every_list_answers_csv_by_format_or_accept(api_client, name):
    _rows(2)
    json_count = api_client.get(f"/api/v1/{name}/").json()["count"]

    by_format = api_client.get(f"/api/v1/{name}/?format=csv")
    by_accept = api_client.get(f"/api/v1/{name}/", HTTP_ACCEPT="text/csv")

    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith(f'attachment; filename="{name}-v')
        assert response["X-Data-Version"]
        assert len(read_csv(response)) == json_count


def test_csv_is_sent_to_other_origins(api_client):
    response = api_client.get("/api/v1/evidence/?format=csv", HTTP_ORIGIN="https://app.example")

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Content-Disposition" in response["Access-Control-Expose-Headers"]


def test_the_columns_are_the_json_fields_with_nested_objects_flattened(api_client):
    evidence = make_evidence(quote="verbatim")

    rows = read_csv(api_client.get("/api/v1/evidence/?format=csv"))

    assert rows[0]["id"] == str(evidence.pk)
    assert rows[0]["citation.key"] == evidence.source.key
    assert rows[0]["therapy"] == evidence.therapy.slug
    assert rows[0]["retraction.reason"] == ""  # null nested object: empty cells


def test_every_row_the_filters_select_not_one_page(api_client):
    _rows(40)
    count = TherapyEvidence.objects.published().count()
    assert count > 100

    rows = read_csv(api_client.get("/api/v1/evidence/?format=csv&page_size=10"))

    assert len(rows) == count


def test_csv_cells_that_start_like_a_formula_are_neutralised(api_client):
    make_source(title='=HYPERLINK("http://x","y")', authors="@SUM(A1)")

    rows = read_csv(api_client.get("/api/v1/sources/?format=csv"))

    assert rows[0]["title"] == '\'=HYPERLINK("http://x","y")'
    assert rows[0]["authors"] == "'@SUM(A1)"


def test_a_bad_filter_is_a_json_400_naming_it(api_client):
    response = api_client.get("/api/v1/evidence/?format=csv&level=Z")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "level" in response.json()["errors"]


def test_a_detail_does_not_answer_csv(api_client):
    evidence = make_evidence()

    response = api_client.get(f"/api/v1/evidence/{evidence.pk}/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 406


# Anonymous CSV: no COUNT and no page; the data version, then the list's own queries
# (one, plus its prefetches), once per chunk of up to 500 rows.
CSV_QUERIES = [
    # data version, therapies with their summary, prefetch of harms with sources, one
    # pair_summary for the chunk, the chunk's ratings.
    ("therapies", 5),
    # data version, abnormalities, prefetch of lab tests.
    ("abnormalities", 3),
    ("lab-tests", 3),
    # data version, evidence joined, prefetch contradicted_by, contradicting_findings.
    ("evidence", 4),
    ("findings", 3),
    ("sources", 2),
    ("regulatory-statuses", 2),
    ("harms", 2),
    ("pairs", 2),
]


@pytest.mark.parametrize("n", [1, 50])
def test_csv_takes_a_fixed_number_of_queries(api_client, django_assert_num_queries, n):
    _rows(n)
    for name, queries in CSV_QUERIES:
        with django_assert_num_queries(queries):
            response = api_client.get(f"/api/v1/{name}/?format=csv")
            read_csv(response)


def test_csv_is_read_and_written_a_chunk_at_a_time(
    api_client, django_assert_num_queries, monkeypatch
):
    _rows(10)
    rows = TherapyEvidence.objects.published().count()
    chunks = -(-rows // 7)
    assert chunks >= 3
    monkeypatch.setattr(CSVListMixin, "csv_chunk_size", 7)

    # data version, one evidence query (a cursor read 7 rows at a time), and the two
    # prefetches for each chunk: the rows are never all held at once.
    with django_assert_num_queries(1 + 1 + chunks * 2):
        response = api_client.get("/api/v1/evidence/?format=csv")
        pieces = list(response.streaming_content)

    # The header, then one piece of text per chunk, with its rows.
    assert len(pieces) == 1 + chunks
    assert [piece.count(b"\r\n") for piece in pieces[1:]] == [7] * (rows // 7) + (
        [rows % 7] if rows % 7 else []
    )


def test_a_tokens_own_lists_answer_csv_too(curator_api, curator):
    from curation.revisions import suggestion_propose

    evidence = make_evidence()
    suggestion_propose(record=evidence, fields={"statement": "Better words."}, user=curator)

    rows = read_csv(curator_api.get("/api/v1/suggestions/?format=csv"))

    assert [row["record"] for row in rows] == [str(evidence.pk)]
    assert rows[0]["fields"] == "statement"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["page=abc", "page=0", "page_size=0", "page_size=101", "page="])
def test_a_csv_list_refuses_a_bad_page_parameter_as_json_does(client, query):
    response = client.get(f"/api/v1/therapies/?format=csv&{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert name in response.json()["errors"]
