"""The evidence and findings lists represented from values() rows (curation/rowlists.py)
answer byte for byte what DRF's serializers answered, headers included."""

import contextlib
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from rest_framework import serializers

from curation.models import Status
from curation.rowlists import RowPlan, RowPlanError
from curation.viewsets import RowListMixin
from findings.api import FindingViewSet
from findings.models import Direction, Level, NoticeKind
from findings.serializers import CitationSerializer, FindingSerializer
from tests.factories import (
    make_abnormality,
    make_evidence,
    make_finding,
    make_lab_test,
    make_linked_claims,
    make_source,
    make_therapy,
    rate,
)
from treatments.api import TherapyEvidenceViewSet
from treatments.serializers import TherapyEvidenceSerializer, TherapySerializer

VIEWS = [TherapyEvidenceViewSet, FindingViewSet]


def noticed_sources() -> tuple:
    """A retracted source with its notice, one under an expression of concern already
    reviewed, and a plain one: what a citation's notice fields can say."""
    notice = make_source(
        retracted=True,
        notice_kind=NoticeKind.RETRACTION,
        notice_doi="10.1000/notice",
        year=None,
        doi="10.1000/x",
        pmid="123",
        url="https://example.org/a",
    )
    reviewed = make_source(
        notice_kind=NoticeKind.EXPRESSION_OF_CONCERN,
        notice_url="https://example.org/n",
        notice_reviewed_at=timezone.now(),
    )
    return notice, reviewed, make_source(year=2020)


def build_mixed_data() -> dict:
    """Published, contradicted, retracted and linked, held, draft rows over two
    therapies and abnormalities, enough for several pages of 5."""
    nk, il6 = make_abnormality(slug="low-nk"), make_abnormality(slug="high-il6")
    test = make_lab_test()
    one, two = make_therapy(slug="one"), make_therapy(slug="two")
    notice, reviewed, plain = noticed_sources()
    evidence, findings = [], []
    for i in range(14):
        source = [notice, reviewed, plain][i % 3]
        evidence.append(
            make_evidence(
                therapy=[one, two][i % 2],
                abnormality=[nk, il6, None][i % 3],
                source=source,
                level=[Level.A, Level.B, Level.C][i % 3],
                direction=[Direction.SUPPORTS, Direction.DOES_NOT_SUPPORT][i % 2],
                effect_measure="smd" if i % 4 == 0 else "none",
                effect_value=Decimal("1.2500") if i % 4 == 0 else None,
                follow_up_weeks=12 if i % 5 == 0 else None,
                quote="“Quoted” text, ünïcode" if i % 2 else "",
            )
        )
        findings.append(
            make_finding(
                abnormality=[nk, il6][i % 2],
                lab_test=test if i % 3 == 0 else None,
                source=source,
                level=[Level.B, Level.C][i % 2],
                statement=f"cytotoxicity finding {i}" if i % 4 == 0 else f"finding {i}",
            )
        )
    retracted_at = timezone.make_aware(datetime.datetime(2024, 5, 6, 7, 8, 9, 123456))
    for rows in (evidence, findings):
        rows[1].status = Status.RETRACTED
        rows[1].reviewed_at = retracted_at
        rows[1].review_note = "Withdrawn: the numbers were wrong."
        rows[1].save()
        rows[2].status = Status.DRAFT
        rows[2].save()
        # Contradicted by a published row, a retracted one and a draft: readers see
        # the published one only, a curator all three.
        rows[0].contradicted_by.add(rows[3], rows[1], rows[2])
        rows[4].contradicted_by.add(rows[3])
    evidence[0].contradicting_findings.add(findings[0], findings[1], findings[2])
    evidence[5].contradicting_findings.add(findings[0])
    rate()
    return {"therapy": one, "abnormality": nk}


def urls(data: dict) -> list[str]:
    therapy, abnormality = data["therapy"].slug, data["abnormality"].slug
    evidence = [
        "/api/v1/evidence/",
        "/api/v1/evidence/?page_size=5",
        "/api/v1/evidence/?page_size=5&page=2",
        "/api/v1/evidence/?page_size=5&page=3",
        f"/api/v1/evidence/?therapy={therapy}",
        f"/api/v1/evidence/?abnormality={abnormality}&level=B",
        "/api/v1/evidence/?status=retracted",
        "/api/v1/evidence/?sort=-level",
        "/api/v1/evidence/?q=cytotoxicity",
        "/api/v1/evidence/?cursor=start&page_size=4",
    ]
    findings = [
        "/api/v1/findings/",
        "/api/v1/findings/?page_size=5&page=2",
        f"/api/v1/findings/?abnormality={abnormality}",
        "/api/v1/findings/?level=C",
        "/api/v1/findings/?status=retracted",
        "/api/v1/findings/?q=cytotoxicity",
        "/api/v1/findings/?cursor=start&page_size=4",
    ]
    return evidence + findings


def _not_called(self, instance):
    raise AssertionError("a row represented by DRF")


def both_ways(
    client,
    url: str,
    monkeypatch,
    *,
    expect_ok: bool = True,
    switch: tuple = (RowListMixin, "rows_from_values"),
    serializers: tuple = (TherapyEvidenceSerializer, FindingSerializer, CitationSerializer),
) -> tuple:
    """``url`` answered by DRF, then from values() rows (``switch``, an object and its
    attribute, turned on), with ``serializers`` made to fail on the second way."""
    answers = []
    for from_values in (False, True):
        with monkeypatch.context() as patch:
            patch.setattr(*switch, from_values)
            if from_values:  # and not by the serializers, which would hide a broken plan
                for serializer in serializers:
                    patch.setattr(serializer, "to_representation", _not_called, raising=False)
            response = client.get(url)
            if expect_ok:
                assert response.status_code == 200, (url, response.content[:300])
        answers.append(response)
    return tuple(answers)


def assert_same(drf, fast, url: str) -> None:
    assert fast.content == drf.content, url
    assert fast["ETag"] == drf["ETag"], url
    assert sorted(fast.headers.items()) == sorted(drf.headers.items()), url


@pytest.mark.django_db
@pytest.mark.parametrize("reader", ["anonymous", "curator"])
def test_it_answers_every_list_page_as_the_serializers_did(
    reader, api_client, curator_api, monkeypatch
):
    client = api_client if reader == "anonymous" else curator_api
    data = build_mixed_data()
    seen_retracted = seen_contradicted = seen_held = False
    for url in urls(data):
        drf, fast = both_ways(client, url, monkeypatch)
        assert_same(drf, fast, url)
        results = fast.json()["results"]
        seen_retracted |= any(row["retraction"] for row in results)
        seen_contradicted |= any(row["contradicted_by"] for row in results)
        seen_held |= any(row["citation"]["notice_held"] for row in results)
        # Every cursor page after the first, as the links lead.
        next_url = fast.json()["next"] if "cursor=" in url else None
        while next_url:
            drf, fast = both_ways(client, next_url, monkeypatch)
            assert_same(drf, fast, next_url)
            next_url = fast.json()["next"]
    assert seen_retracted and seen_contradicted and seen_held


@pytest.mark.django_db
def test_it_hides_draft_rows_and_draft_links_from_readers(api_client, monkeypatch):
    build_mixed_data()
    monkeypatch.setattr(RowListMixin, "rows_from_values", True)
    rows = api_client.get("/api/v1/findings/?page_size=100").json()["results"]
    assert all(row["status"] == "published" for row in rows)
    contradicted = next(row for row in rows if len(row["contradicted_by"]) > 0)
    listed = {row["id"] for row in rows}
    assert set(contradicted["contradicted_by"]) <= listed


@pytest.mark.parametrize("view", VIEWS)
def test_its_plan_produces_every_field_the_serializer_shows(view):
    plan = view.row_plan()
    serializer = view.serializer_class()
    shown = [field.field_name for field in serializer._readable_fields]
    assert [name for name, _ in plan.steps] == shown
    assert [name for name, _ in plan.steps_of("citation").steps] == list(
        serializer.fields["citation"].fields
    )


def _serializers_fields(serializer, model):
    for field in serializer._readable_fields:
        try:
            model_field = model._meta.get_field(field.source)
        except FieldDoesNotExist:  # a property: not a column
            continue
        if isinstance(field, serializers.Serializer):
            yield from _serializers_fields(field, model_field.related_model)
        elif not model_field.is_relation:
            yield field, model_field


SAMPLES = {
    "CharField": ["", "x", "Natural killer", "«quoted»"],
    "TextField": ["", "line\nbreak"],
    "SlugField": ["a-slug"],
    "IntegerField": [0, 7, -3],
    "PositiveIntegerField": [0, 12],
    "PositiveSmallIntegerField": [0, 12],
    "BigIntegerField": [2**40],
    "BigAutoField": [1, 2**40],
    "AutoField": [1],
    "BooleanField": [True, False],
}


@pytest.mark.parametrize("view", VIEWS)
def test_a_column_shown_as_stored_is_what_drf_shows(view):
    """Where the plan passes a column's value through untouched (``_as_stored``), DRF's
    own field shows every value that column can hold as that same value."""
    from curation.rowlists import _as_stored

    as_stored = 0
    serializer = view.serializer_class()
    for field, model_field in _serializers_fields(serializer, serializer.Meta.model):
        if not _as_stored(field, model_field):
            continue
        as_stored += 1
        values = [key for key, _ in model_field.choices] if model_field.choices else []
        values += SAMPLES[model_field.get_internal_type()]
        for value in values:
            shown = field.to_representation(value)
            assert shown == value and type(shown) is type(value), (field.field_name, value)
    assert as_stored >= 20  # text, choices, numbers and booleans of a claim and its citation


TIMES = [
    datetime.datetime(2026, 12, 1, 9, 47, tzinfo=datetime.UTC),
    datetime.datetime(2026, 12, 1, 9, 47, 3, 120, tzinfo=datetime.UTC),
    datetime.datetime(
        2026, 6, 30, 23, 59, 59, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    ),
    datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.UTC),  # a summer-time change in London
    datetime.datetime(1, 1, 1, 0, 0, tzinfo=datetime.UTC),  # out of range east of UTC
    datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.UTC),  # and west of it
    datetime.datetime(2026, 12, 1, 9, 47),  # no time zone: DRF's way
    "2026-12-01T09:47:00Z",  # text: DRF's way
]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("zone", [None, "UTC", "Europe/London", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("use_tz", [True, False])
def test_a_time_is_shown_as_drf_shows_it(view, zone, use_tz, settings, monkeypatch):
    """The plan shows a time itself (``_datetime_step``, the page's time zone asked once)
    exactly as DRF's DateTimeField does, in whatever time zone is current, or raises what
    DRF raises."""
    settings.USE_TZ = use_tz
    plan = view.row_plan()
    links = {key: [] for key, _ in plan.links}
    monkeypatch.setattr(plan, "links", [])  # read by a query: here, none
    serializer = view.serializer_class()
    fields = [
        (field, model_field)
        for field, model_field in _serializers_fields(serializer, serializer.Meta.model)
        if model_field.get_internal_type() == "DateTimeField"
    ]
    assert {field.field_name for field, _ in fields} >= {"created_at", "updated_at"}
    with timezone.override(zone) if zone else contextlib.nullcontext():
        for field, model_field in fields:
            for value in TIMES:
                rows = [
                    {**dict.fromkeys(plan.columns), **links, model_field.attname: value, "pk": 1}
                ]
                try:
                    expected = field.to_representation(value)
                except Exception as error:
                    with pytest.raises(type(error)):
                        plan.represent(rows)
                    continue
                shown = plan.represent(rows)[0][field.field_name]
                assert shown == expected, (field.field_name, zone, value)


def test_it_refuses_a_serializer_it_cannot_read_from_columns():
    from treatments.models import Therapy

    with pytest.raises(RowPlanError, match="alias_list"):
        RowPlan(TherapySerializer(), Therapy, {})
    # A property without its columns named.
    with pytest.raises(RowPlanError, match="notice_link"):
        RowPlan(FindingSerializer(), FindingSerializer.Meta.model, {})


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 30])
def test_its_pages_take_a_fixed_number_of_queries(
    api_client, django_assert_num_queries, monkeypatch, n
):
    monkeypatch.setattr(RowListMixin, "rows_from_values", True)
    therapy = make_therapy()
    make_linked_claims(therapy, n)
    rate()
    # The data version, the count (read from the stored counts for the evidence list
    # unfiltered), the page's rows and one query per kind of link.
    for url, queries in [
        ("/api/v1/evidence/?page_size=100", 5),
        ("/api/v1/findings/?page_size=100", 4),
        ("/api/v1/evidence/?cursor=start&page_size=100", 5),
        ("/api/v1/findings/?cursor=start&page_size=100", 4),
    ]:
        with django_assert_num_queries(queries):
            response = api_client.get(url)
        assert response.status_code == 200
        assert len(response.json()["results"]) >= n


# --- one record: retrieve from its values() row (issue 14) -----------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reader", ["anonymous", "curator"])
def test_it_answers_every_record_as_the_serializers_did(
    reader, api_client, curator_api, monkeypatch
):
    """Every evidence item and finding, published, retracted, contradicted, held, draft
    (a 404 for readers), read by id both ways: the same status, body and headers."""
    from findings.models import Finding
    from treatments.models import TherapyEvidence

    client = api_client if reader == "anonymous" else curator_api
    build_mixed_data()
    statuses = set()
    for resource, model in (("evidence", TherapyEvidence), ("findings", Finding)):
        for record in model.objects.all():
            url = f"/api/v1/{resource}/{record.pk}/"
            drf, fast = both_ways(client, url, monkeypatch, expect_ok=False)
            assert fast.status_code == drf.status_code, url
            assert fast.content == drf.content, url
            assert sorted(fast.headers.items()) == sorted(drf.headers.items()), url
            statuses.add((record.status, fast.status_code))
            if fast.status_code == 200:
                # An ETag that an edit's If-Match accepts: the record's own version.
                assert fast["ETag"].startswith(f'"v{record.version}-')
    expected = {(Status.PUBLISHED, 200), (Status.RETRACTED, 200)}
    expected.add((Status.DRAFT, 404 if reader == "anonymous" else 200))
    assert statuses == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "ident", ["0", "999999", "9223372036854775807", "9223372036854775808", "9" * 400]
)
def test_an_unknown_id_is_a_404_both_ways(api_client, monkeypatch, ident):
    make_evidence()
    for resource in ("evidence", "findings"):
        drf, fast = both_ways(
            api_client, f"/api/v1/{resource}/{ident}/", monkeypatch, expect_ok=False
        )
        assert (drf.status_code, fast.status_code) == (404, 404)
        assert fast.content == drf.content


@pytest.mark.django_db
def test_a_record_takes_a_fixed_number_of_queries(api_client, django_assert_num_queries):
    """The row, its two kinds of links (one query each), the data version."""
    evidence = make_evidence()
    evidence.contradicted_by.add(make_evidence(therapy=evidence.therapy))
    evidence.contradicting_findings.add(make_finding(), make_finding())
    with django_assert_num_queries(4):
        response = api_client.get(f"/api/v1/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert len(response.json()["contradicting_findings"]) == 2
