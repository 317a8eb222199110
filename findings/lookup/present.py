"""A lookup's result as the admin, the API and the command show it."""

from __future__ import annotations

import datetime
from typing import Any

from findings.duplicates import DuplicateMatch, source_duplicates
from findings.lookup import LookupResult


def existing_sources(fields: dict[str, Any]) -> list[DuplicateMatch]:
    """Sources the record found may duplicate: the same DOI, PMID, PMCID or NCT number,
    or a near-identical title of the same year (findings/duplicates.py, one query). The
    curator opens that source instead of adding the document twice."""
    return source_duplicates(fields=fields)


def plain_value(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def record_json(result: LookupResult, *, existing: list[DuplicateMatch]) -> dict[str, Any]:
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
            {
                "id": match.known.pk,
                "key": match.known.key,
                "title": match.known.title,
                "status": match.known.status,
                "reason": match.reason,
            }
            for match in existing
        ],
    }
