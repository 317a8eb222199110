"""A lookup's result as the admin, the API and the command show it."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q

from findings.lookup import LookupResult
from findings.models import Source

IDENTIFIERS = ("doi", "pmid", "pmcid", "nct_id")


def existing_sources(fields: dict[str, Any]) -> list[Source]:
    """Sources that already have one of the identifiers found (one query): the curator
    opens that source instead of adding the document twice."""
    match = Q()
    for name in IDENTIFIERS:
        if fields.get(name):
            match |= Q(**{name: fields[name]})
    if not match:
        return []
    return list(Source.objects.filter(match).only("pk", "key", "title", "status")[:5])


def plain_value(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def record_json(result: LookupResult, *, existing: list[Source]) -> dict[str, Any]:
    return {
        "identifier": {"kind": result.identifier.kind, "value": result.identifier.value},
        "record": {name: plain_value(value) for name, value in result.fields.items()},
        "filled_from": dict(result.sources),
        "notices": [
            {
                "kind": notice.kind,
                "label": notice.label,
                "doi": notice.doi,
                "url": notice.link,
                "date": plain_value(notice.date),
                "reported_by": notice.reported_by,
            }
            for notice in result.notices
        ],
        "notices_checked": result.notices_checked,
        "complete": result.complete,
        "problems": list(result.problems),
        "warnings": list(result.warnings),
        "existing": [
            {"id": source.pk, "key": source.key, "title": source.title, "status": source.status}
            for source in existing
        ],
    }
