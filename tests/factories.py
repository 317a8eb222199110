"""Small factories: each test builds the data it needs (STYLE.md §13).

Every factory takes keyword overrides; unique fields get a counter so tests never
depend on primary keys or on each other.
"""

from __future__ import annotations

import contextlib
import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from curation.models import Status
from curation.roles import CURATORS, EDITORS
from findings.models import (
    Abnormality,
    Availability,
    Direction,
    Finding,
    GlossaryTerm,
    LabTest,
    Level,
    Source,
    SourceKind,
)
from treatments.models import (
    Harm,
    HarmKind,
    LinkKind,
    RegulatoryStatus,
    RegulatoryStatusKind,
    Severity,
    Stage,
    Therapy,
    TherapyEvidence,
    TherapyKind,
)

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def make_user(*, role: str | None = None, username: str | None = None, **kwargs):
    User = get_user_model()
    user = User.objects.create_user(
        username=username or f"user{_n()}",
        password="correct horse battery staple",
        **{"is_staff": role is not None, **kwargs},
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_curator(**kwargs):
    return make_user(role=CURATORS, **kwargs)


def make_editor(**kwargs):
    return make_user(role=EDITORS, **kwargs)


def make_source(**kwargs) -> Source:
    n = _n()
    values = {
        "key": f"source{n}",
        "kind": SourceKind.JOURNAL_ARTICLE,
        "title": f"A study of immune function number {n}",
        "authors": f"Author{n} A, Other B",
        "container": "Journal of Tests",
        "year": 2011,
        "status": Status.PUBLISHED,
    }
    values.update(kwargs)
    return Source.objects.create(**values)


def make_abnormality(**kwargs) -> Abnormality:
    n = _n()
    values = {
        "name": f"Abnormality {n}",
        "slug": f"abnormality-{n}",
        "category": "cellular",
        "component": "NK cells",
        "change": "decreased",
        "summary": "A plain summary.",
        "status": Status.PUBLISHED,
    }
    values.update(kwargs)
    return Abnormality.objects.create(**values)


def make_lab_test(**kwargs) -> LabTest:
    n = _n()
    values = {
        "name": f"Lab test {n}",
        "slug": f"lab-test-{n}",
        "measures": "Something in the blood",
        "specimen": "Blood",
        "availability": Availability.SPECIALIST,
        "status": Status.PUBLISHED,
    }
    values.update(kwargs)
    return LabTest.objects.create(**values)


def make_therapy(**kwargs) -> Therapy:
    n = _n()
    values = {
        "name": f"Therapy {n}",
        "slug": f"therapy-{n}",
        "kind": TherapyKind.DRUG,
        "stage": Stage.INVESTIGATIONAL,
        "summary": "A plain summary.",
        "status": Status.PUBLISHED,
    }
    values.update(kwargs)
    return Therapy.objects.create(**values)


def make_finding(**kwargs) -> Finding:
    values = {
        "statement": f"Finding statement {_n()}",
        "plain_summary": "What this finding means, in plain words.",
        "direction": Direction.SUPPORTS,
        "level": Level.B,
        "status": Status.PUBLISHED,
    }
    values.update(kwargs)
    if "abnormality" not in values and "lab_test" not in values:
        values["abnormality"] = make_abnormality()
    if "source" not in values:
        values["source"] = make_source()
    return Finding.objects.create(**values)


def make_evidence(**kwargs) -> TherapyEvidence:
    values = {
        "statement": f"Evidence statement {_n()}",
        "plain_summary": "What this evidence means, in plain words.",
        "direction": Direction.SUPPORTS,
        "level": Level.B,
        "status": Status.PUBLISHED,
    }
    values.update(kwargs)
    if "therapy" not in values:
        values["therapy"] = make_therapy()
    if "abnormality" not in values:
        values["abnormality"] = make_abnormality()
    if values["abnormality"] is not None:
        values.setdefault("link_kind", LinkKind.MEASURED)
    if "source" not in values:
        values["source"] = make_source()
    evidence = TherapyEvidence.objects.create(**values)
    # Publishing rates (and counts) the therapy again (treatments/certainty.py); an item
    # made here skips the services, so the stored counts every page reads are kept
    # current here. A test that changes an item, its source or its links afterwards
    # calls ``rate()``.
    if _rating_later:
        _rating_later[-1].add(evidence.therapy_id)
    else:
        rate(evidence.therapy_id)
    return evidence


def rate(*therapy_ids: int) -> None:
    """Store the ratings and counts of the given therapies (default: all) again, as a
    publish through the services would."""
    from treatments.certainty import certainty_recompute

    certainty_recompute(therapy_ids=therapy_ids or None)


# Therapies whose evidence was made inside ``rated_once()`` blocks, not yet rated.
_rating_later: list[set[int]] = []


@contextlib.contextmanager
def rated_once():
    """Evidence made inside is rated on leaving, all its therapies in one recompute, as
    one publish of many items would: the stored ratings and counts are those that rating
    after each item leaves at the end (a recompute reads only the data), for the cost of
    one. For tests that make many rows before they look."""
    therapies: set[int] = set()
    _rating_later.append(therapies)
    try:
        yield
    finally:
        _rating_later.pop()
    if therapies:
        rate(*sorted(therapies))


def make_regulatory_status(**kwargs) -> RegulatoryStatus:
    values = {
        "jurisdiction": "Argentina",
        "regulatory_status": RegulatoryStatusKind.APPROVED_FOR_MECFS,
        "statement": "Approved, according to the source.",
        "status": Status.PUBLISHED,
    }
    values.update(kwargs)
    if "therapy" not in values:
        values["therapy"] = make_therapy()
    if "source" not in values:
        values["source"] = make_source()
    return RegulatoryStatus.objects.create(**values)


def make_harm(**kwargs) -> Harm:
    values = {
        "kind": HarmKind.ADVERSE_EFFECT,
        "effect": f"Headache {_n()}",
        "frequency": "3 of 20",
        "severity": Severity.MILD,
        "population": "20 patients with ME/CFS",
        "statement": "Some participants reported headaches.",
        "status": Status.PUBLISHED,
    }
    values.update(kwargs)
    if "therapy" not in values:
        values["therapy"] = make_therapy()
    if "source" not in values:
        values["source"] = make_source()
    return Harm.objects.create(**values)


def make_token(user) -> str:
    """The key of an API token for ``user`` (what `manage.py drf_create_token` makes)."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def make_glossary_term(**kwargs) -> GlossaryTerm:
    n = _n()
    values = {
        "term": f"Term {n}",
        "slug": f"term-{n}",
        "definition": f"What term {n} means. More about it.",
        "status": Status.PUBLISHED,
    }
    values.update(kwargs)
    return GlossaryTerm.objects.create(**values)


def gather_statistics() -> None:
    """PostgreSQL: the planner's statistics of the rows just made (``ANALYZE`` of the
    project's tables), for tests that load a lot and then read it many times. A live
    database has them (autovacuum, which never sees rows of a transaction that is still
    open, as a test's is); without them the planner takes each table for nearly empty
    and nests loops that re-evaluate a search vector per row: the seed's 65 searches of
    tests/test_fulltext_sqlite.py took 58 s instead of 14. Results are the same either
    way; only the plans change. ANALYZE runs inside the test's transaction; its
    statistics are rolled back with it (the row estimates in pg_class are kept).
    Nothing on SQLite, whose statistics the app keeps itself (curation/sqlite_statistics.py)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    tables = connection.introspection.django_table_names(only_existing=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(map(connection.ops.quote_name, sorted(tables))))


def make_linked_claims(therapy, n: int) -> None:
    """``n`` evidence items about ``therapy``, each contradicted by another item and
    contradicting a finding that another finding contradicts: every kind of link a list
    prefetches, for the "same queries for 1 and n rows" tests."""
    for _ in range(n):
        evidence = make_evidence(therapy=therapy)
        evidence.contradicted_by.add(make_evidence(therapy=therapy))
        finding = make_finding(abnormality=evidence.abnormality, source=evidence.source)
        evidence.contradicting_findings.add(finding)
        finding.contradicted_by.add(make_finding(abnormality=evidence.abnormality))


@contextlib.contextmanager
def seed_for_module(django_db_blocker):
    """The seed and the literature, loaded once for a module whose tests only read (each
    test still runs in its own savepoint), rolled back after them: the body of a
    module-scoped fixture."""
    from io import StringIO

    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_seed", stdout=StringIO())
        call_command("load_literature", stdout=StringIO())
        gather_statistics()
        yield
        transaction.set_rollback(True)
