"""A record's links read after it by fixed statements (curation/linkreads.py): what the
API's ``get_object`` leaves on the record is what Django's prefetch of the view's
queryset leaves, for every resource with links, every kind of reader and every action."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from curation.models import Status
from curation.services import ReviewError
from findings.api import FindingViewSet, LabTestViewSet
from findings.models import Level
from tests import factories
from treatments.api import TherapyEvidenceViewSet

pytestmark = pytest.mark.django_db

FAST = 'SELECT l."id" FROM'


def view_for(viewset, user, lookup_value, action):
    view = viewset(action=action, format_kwarg=None, args=(), action_map={"get": action})
    view.kwargs = {view.lookup_url_kwarg or view.lookup_field: lookup_value}
    view.request = view.initialize_request(APIRequestFactory().get("/"))
    view.request.user = user
    return view


def links(record, lookups) -> dict[str, list]:
    seen = {}
    for lookup in lookups:
        name = getattr(lookup, "prefetch_to", lookup)
        related = getattr(record, name).all()
        assert related._result_cache is not None, name  # read, not a query to come
        seen[name] = [(type(o).__name__, o.pk, o.get_deferred_fields()) for o in related]
    return seen


@pytest.fixture
def linked(curator):
    """A claim and a finding, each linked to records in several orders and statuses."""
    therapy = factories.make_therapy()
    claim = factories.make_evidence(therapy=therapy, level=Level.C, status=Status.DRAFT)
    others = [
        factories.make_evidence(therapy=therapy, level=level, status=status)
        for level, status in [
            (Level.D, Status.PUBLISHED),
            (Level.A, Status.PUBLISHED),
            (Level.B, Status.DRAFT),
            (Level.A, Status.SUBMITTED),
        ]
    ]
    claim.contradicted_by.add(*others)
    findings = [factories.make_finding(level=level) for level in (Level.C, Level.A)]
    findings.append(factories.make_finding(status=Status.DRAFT))
    claim.contradicting_findings.add(*findings)
    finding = factories.make_finding(status=Status.DRAFT, created_by=curator)
    finding.contradicted_by.add(*findings)
    published_claim = factories.make_evidence(therapy=therapy)
    published_claim.contradicted_by.add(*others)
    lab_test = factories.make_lab_test()
    return {
        TherapyEvidenceViewSet: [claim.pk, published_claim.pk],
        FindingViewSet: [finding.pk],
        LabTestViewSet: [lab_test.slug],
    }


READS = [("anonymous", "retrieve")] + [
    (reader, action)
    for reader in ("curator", "editor")
    for action in ("retrieve", "partial_update", "submit", "publish")
]


@pytest.mark.parametrize("reader, action", READS)
def test_the_links_are_djangos_prefetch(linked, curator, editor, reader, action):
    user = {"anonymous": AnonymousUser(), "curator": curator, "editor": editor}[reader]
    compared = 0
    for viewset, lookup_values in linked.items():
        for value in lookup_values:
            view = view_for(viewset, user, value, action)
            queryset = view.get_queryset()
            lookups = queryset._prefetch_related_lookups
            try:
                expected = queryset.get(**{view.lookup_field: value})
            except queryset.model.DoesNotExist:
                continue  # not visible to this reader: get_object's 404 is DRF's
            with CaptureQueriesContext(connection) as queries:
                try:
                    record = view.get_object()
                except ReviewError:
                    continue  # may not edit it: refused before its body is judged
            assert record.pk == expected.pk
            assert links(record, lookups) == links(expected, lookups), (viewset, reader)
            fast = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(FAST)]
            if reader != "anonymous" and viewset is not LabTestViewSet:
                # Curators and editors see every record: each link by a fixed statement.
                assert len(fast) == len(lookups), (viewset, reader)
            elif reader == "anonymous":
                assert fast == [], viewset  # a condition of visibility: Django's prefetch
            compared += 1
    assert compared >= 2


def test_the_order_is_the_linked_models_and_drafts_show_to_curators(linked, curator):
    claim_pk = linked[TherapyEvidenceViewSet][0]
    record = view_for(TherapyEvidenceViewSet, curator, claim_pk, "partial_update").get_object()
    levels = [o.level for o in type(record).objects.filter(pk__in=record.contradicted_by.all())]
    shown = [o.pk for o in record.contradicted_by.all()]
    assert len(shown) == 4
    in_order = list(
        type(record).objects.filter(pk__in=shown).order_by("level", "-source_year", "pk")
    )
    assert shown == [o.pk for o in in_order]
    assert sorted(levels) == [Level.A, Level.A, Level.B, Level.D]
