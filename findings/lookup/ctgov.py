"""ClinicalTrials.gov's API v2: ``GET /studies/{nctId}`` (https://clinicaltrials.gov/data-api/api).

The study's ``protocolSection`` has modules: ``identificationModule`` (nctId,
briefTitle, officialTitle), ``statusModule`` (overallStatus, dates as
``{"date": "2016-11"}`` structs), ``sponsorCollaboratorsModule`` (leadSponsor.name),
``descriptionModule`` (briefSummary) and ``designModule`` (studyType, phases). An
unknown number is answered 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from findings.lookup.http import CTGOV, ServiceError, Session, garbled
from findings.lookup.record import Found, iso_date, plain, plain_paragraphs
from findings.models import SourceKind


def fetch(session: Session, nct_id: str) -> Found | None:
    response = session.get(CTGOV, f"/studies/{nct_id}", params={"format": "json"})
    if response is None:
        return None
    return parse(session.json(CTGOV, response), nct_id=nct_id)


def parse(data: Any, *, nct_id: str) -> Found:
    try:
        protocol = data["protocolSection"]
        ident = protocol["identificationModule"]
    except (TypeError, KeyError):
        raise ServiceError(CTGOV.name, garbled(CTGOV)) from None
    if not isinstance(ident, dict) or str(ident.get("nctId", "")).upper() != nct_id:
        raise ServiceError(CTGOV.name, garbled(CTGOV))
    title = plain(ident.get("briefTitle")) or plain(ident.get("officialTitle"))
    if not title:
        raise ServiceError(CTGOV.name, garbled(CTGOV))
    found = Found(service=CTGOV.name)
    values = found.fields
    values.update(
        nct_id=nct_id,
        title=title,
        kind=SourceKind.TRIAL_REGISTRY,
        container="ClinicalTrials.gov",
        url=f"https://clinicaltrials.gov/study/{nct_id}",
        accessed_on=datetime.date.today(),
    )
    sponsor = plain(
        ((protocol.get("sponsorCollaboratorsModule") or {}).get("leadSponsor") or {}).get("name")
    )
    if sponsor:
        values["authors"] = f"{sponsor} (sponsor)"
    status = protocol.get("statusModule") or {}
    posted = (status.get("studyFirstPostDateStruct") or {}).get("date")
    posted_on = iso_date(posted) if isinstance(posted, str) and len(posted) == 10 else None
    if isinstance(posted, str) and posted[:4].isdigit():
        values["year"] = int(posted[:4])
    if posted_on:
        values["published_on"] = posted_on
    summary = plain_paragraphs((protocol.get("descriptionModule") or {}).get("briefSummary"))
    if summary:
        values["abstract"] = summary
    design = protocol.get("designModule") or {}
    described = [_words(design.get("studyType"))]
    described += [_words(p) for p in design.get("phases") or [] if isinstance(p, str)]
    overall = _words(status.get("overallStatus"))
    if overall:
        described.append(overall)
    described = [d for d in described if d]
    if described:
        values["publication_type"] = "; ".join(described)
    return found


def _words(value: Any) -> str:
    """``EARLY_PHASE1`` as 'Early phase1', ``INTERVENTIONAL`` as 'Interventional'."""
    if not isinstance(value, str) or not value:
        return ""
    return value.replace("_", " ").capitalize()
