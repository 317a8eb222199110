"""The links kept with each history row (curation/history.py, issue 14).

simple-history copies a record's chosen many-to-many links into every historical row.
``History`` reads them as the link table's columns instead of as link rows with both
linked records built, and not at all for a row just inserted. What is kept must be what
simple-history kept: the same link ids and linked ids, row by row.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation.models import Status
from curation.services import record_create, record_edit, record_submit
from findings.models import Direction, Finding, Level
from tests import factories
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db


def kept_links(historical) -> dict[str, list[tuple]]:
    """Every link a historical row keeps, as (link id, its columns' values)."""
    kept = {}
    for field in historical._history_m2m_fields:
        through = field.remote_field.through
        columns = [f.attname for f in through._meta.fields]
        kept[field.name] = sorted(
            tuple(row) for row in getattr(historical, field.name).values_list(*columns)
        )
    return kept


def current_links(record) -> dict[str, list[tuple]]:
    found = {}
    for field in record.history.model._history_m2m_fields:
        through = getattr(record, field.name).through
        columns = [f.attname for f in through._meta.fields]
        source = f"{field.m2m_field_name()}_id"
        found[field.name] = sorted(
            tuple(row)
            for row in through.objects.filter(**{source: record.pk}).values_list(*columns)
        )
    return found


def test_an_edit_keeps_every_link_the_record_has(curator):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    evidence.contradicted_by.add(
        factories.make_evidence(therapy=evidence.therapy),
        factories.make_evidence(therapy=evidence.therapy),
    )
    evidence.contradicting_findings.add(factories.make_finding())

    record_edit(record=evidence, fields={"curator_note": "Checked."}, user=curator)

    latest = evidence.history.first()
    assert latest.history_change_reason == "Edited"
    assert kept_links(latest) == current_links(evidence)
    assert len(kept_links(latest)["contradicted_by"]) == 2
    assert len(kept_links(latest)["contradicting_findings"]) == 1


def test_a_review_action_keeps_the_links_of_a_finding(curator):
    finding = factories.make_finding(status=Status.DRAFT, created_by=curator)
    finding.contradicted_by.add(factories.make_finding())

    record_submit(record=finding, user=curator)

    assert kept_links(finding.history.first()) == current_links(finding)


def test_a_record_without_links_keeps_none(curator):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    record_edit(record=evidence, fields={"curator_note": "Checked."}, user=curator)
    assert kept_links(evidence.history.first()) == {
        "contradicted_by": [],
        "contradicting_findings": [],
    }


def test_a_new_rows_history_reads_no_link_and_the_links_set_next_are_kept(curator):
    linked = factories.make_finding()
    fields = {
        "therapy": factories.make_therapy(),
        "source": factories.make_source(),
        "statement": "A claim.",
        "direction": Direction.DESCRIBES,
        "level": Level.E,
        "contradicting_findings": [linked],
    }
    with CaptureQueriesContext(connection) as queries:
        evidence = record_create(model=TherapyEvidence, fields=fields, user=curator)
    created, linked_row = evidence.history.order_by("history_id")[:2]
    assert created.history_type == "+"
    assert kept_links(created) == {"contradicted_by": [], "contradicting_findings": []}
    # The links set after the insert are kept by the next history row, as before.
    assert kept_links(linked_row) == current_links(evidence)
    assert [row[2] for row in kept_links(linked_row)["contradicting_findings"]] == [linked.pk]
    link_tables = ('"treatments_therapyevidence_contradicted_by"',)
    reads_before_the_links_were_set = [
        q["sql"]
        for q in queries.captured_queries[: _index_of_first_link_write(queries)]
        if q["sql"].startswith("SELECT") and any(t in q["sql"] for t in link_tables)
    ]
    assert reads_before_the_links_were_set == []


def _index_of_first_link_write(queries) -> int:
    for i, q in enumerate(queries.captured_queries):
        # SQLite writes INSERT OR IGNORE.
        sql = q["sql"]
        if (
            sql.startswith("INSERT")
            and '"treatments_therapyevidence_contradicting_findings" (' in sql
        ):
            return i
    return len(queries.captured_queries)


def test_a_revert_in_the_admin_brings_the_links_back(editor_client, curator):
    """The admin's history revert reads the kept links (curation/admin.py)."""
    finding = factories.make_finding(status=Status.DRAFT, created_by=curator)
    other = factories.make_finding()
    finding.contradicted_by.add(other)
    record_edit(record=finding, fields={"curator_note": "With its link."}, user=curator)
    version = finding.history.first()
    finding.contradicted_by.clear()

    page = editor_client.get(f"/admin/findings/finding/{finding.pk}/history/{version.history_id}/")

    assert page.status_code == 200
    field = page.context["adminform"].form["contradicted_by"]
    assert [int(v) for v in field.value()] == [other.pk]
    assert Finding.objects.get(pk=finding.pk).contradicted_by.count() == 0


def test_the_links_are_copied_by_the_database_without_reading_them(curator):
    """One ``INSERT … SELECT`` per link field; on PostgreSQL all in one statement (the
    first as a data-modifying ``WITH`` of the second): one round trip."""
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    evidence.contradicted_by.add(*(factories.make_evidence() for _ in range(3)))
    evidence.contradicting_findings.add(factories.make_finding())

    with CaptureQueriesContext(connection) as queries:
        record_edit(record=evidence, fields={"curator_note": "Checked."}, user=curator)

    link_tables = (
        '"treatments_therapyevidence_contradicted_by"',
        '"treatments_therapyevidence_contradicting_findings"',
    )
    touching = [
        q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in link_tables)
    ]
    if connection.vendor == "postgresql":
        assert len(touching) == 1
        assert touching[0].startswith("WITH copy_0 AS (INSERT INTO")
        assert all(t in touching[0] for t in link_tables)
    else:
        assert len(touching) == 2
        assert all(sql.startswith("INSERT INTO") and " SELECT " in sql for sql in touching)
    kept = kept_links(evidence.history.first())
    assert kept == current_links(evidence)
    assert len(kept["contradicted_by"]) == 3 and len(kept["contradicting_findings"]) == 1


def test_listeners_of_simple_historys_signals_get_the_rows_as_before(curator):
    from simple_history.signals import (
        post_create_historical_m2m_records,
        pre_create_historical_m2m_records,
    )

    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    other = factories.make_evidence()
    evidence.contradicted_by.add(other)
    heard = []

    def before(sender, rows, field, **kwargs):
        heard.append(("pre", field.name, [row.to_therapyevidence_id for row in rows]))

    def after(sender, created_rows, field, **kwargs):
        heard.append(("post", field.name, [row.to_therapyevidence_id for row in created_rows]))

    pre_create_historical_m2m_records.connect(before)
    post_create_historical_m2m_records.connect(after)
    try:
        record_edit(record=evidence, fields={"curator_note": "Heard."}, user=curator)
    finally:
        pre_create_historical_m2m_records.disconnect(before)
        post_create_historical_m2m_records.disconnect(after)

    assert ("pre", "contradicted_by", [other.pk]) in heard
    assert ("post", "contradicted_by", [other.pk]) in heard
    assert kept_links(evidence.history.first()) == current_links(evidence)


def test_every_curated_models_history_manager_class_is_made_once(curator):
    from django.apps import apps

    from curation.history import ManagerClassOnce

    tracked = [
        model
        for model in apps.get_models()
        if getattr(model._meta, "simple_history_manager_attribute", None)
    ]
    assert {"TherapyEvidence", "Finding", "Source", "Therapy"} <= {m.__name__ for m in tracked}
    for model in tracked:
        assert isinstance(model.__dict__["history"], ManagerClassOnce), model.__name__
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    first, second = evidence.history, evidence.history
    assert first is not second and type(first) is type(second)
    assert first.instance is evidence and first.model is TherapyEvidence.history.model
    # The manager works as simple_history's: the record's own rows, newest first.
    record_edit(record=evidence, fields={"curator_note": "Again."}, user=curator)
    assert [row.history_type for row in evidence.history.all()] == ["~", "+"]
    assert TherapyEvidence.history.filter(id=evidence.pk).count() == 2
