"""Publishers' notices about sources (retractions, expressions of concern, corrections)
and what they do to the claims citing them (issue 11, item 4).

Where a notice comes from: Crossref's update metadata for the source's DOI (its
``updated-by`` relations, from the publisher's Crossmark deposits and from Retraction
Watch), read by the lookup (findings/lookup/) when a source is entered and by
``python manage.py check_retractions`` for every source with a DOI.

How it fits the workflow. A notice is a fact from outside, not a curator's opinion,
and a retraction must reach readers at once: so check_retractions sets it directly on
the source with curation's ``record_flag`` (history names the command, and the user
it ran as, if any; a published source moves to a new data version), rather than as a
suggestion that would leave readers seeing the retracted paper as sound until an editor
got to it. What waits for an editor is the judgement: while a retraction, partial
retraction or expression of concern is unreviewed, every claim citing the source is
still shown, flagged with the notice and its link, but counts in no level, total,
ranking or matrix cell (``counted()`` querysets, ``source_held_q``). An editor reviews
the notice (``source_notice_review``, with a note saying what they decided, typically
after retracting the claims the notice undermines); the claims left published count
again. A later, different notice makes the source wait for review again.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from curation.services import (
    ReviewPermissionError,
    ReviewTransitionError,
    record_can_review,
    record_flag,
    review_note_check,
)
from findings.lookup import crossref
from findings.lookup.http import LookupFailed, Session
from findings.lookup.record import SEVERITY, Notice, most_serious, notice_fields
from findings.models import NoticeKind, Source


def _more_serious(kind: str, than: str) -> bool:
    if not than:
        return True
    return SEVERITY.index(NoticeKind(kind)) < SEVERITY.index(NoticeKind(than))


def source_notice_apply(
    *,
    source: Source,
    notices: list[Notice],
    checked_on: datetime.date,
    user=None,
    origin: str = "check_retractions",
) -> list[str]:
    """Record on ``source`` the most serious of ``notices`` that Crossref reports, unless
    the source already carries that notice or a more serious one (a notice is never
    taken away by a check: an editor does that). A new notice waits for an editor's
    review. Returns the fields changed (none: nothing written, beyond the date of the
    check, which is bookkeeping and kept out of history)."""
    top = most_serious(notices)
    current = (source.notice_kind, source.notice_doi, source.notice_url)
    if top is None or (top.kind, top.doi, top.url) == current:
        _checked(source, checked_on)
        return []
    if source.notice_kind and not _more_serious(top.kind, source.notice_kind):
        _checked(source, checked_on)
        return []
    values = notice_fields(notices, checked_on=checked_on)
    if source.retracted and not values.get("retracted"):
        values.pop("retracted")  # a retraction recorded by hand stays until an editor lifts it
    values.update(notice_reviewed_at=None, notice_reviewed_by=None, notice_review_note="")
    reason = f"{origin}: Crossref reports {NoticeKind(top.kind).label.lower()}"
    if top.doi:
        reason += f" (notice {top.doi})"
    return record_flag(record=source, fields=values, user=user, reason=reason)


def _checked(source: Source, checked_on: datetime.date) -> None:
    # Only the date of the check: not a change to what the record says, so no history
    # row and no new version token (an open admin form stays valid).
    Source.objects.filter(pk=source.pk).update(notices_checked_on=checked_on)
    source.notices_checked_on = checked_on


def source_notice_review(*, source: Source, user, note: str) -> list[str]:
    """An editor has read the notice and decided what it means for the claims citing
    the source (retracted those it undermines); the ones left published count again.
    The note says what was decided, in history and on the source."""
    if not record_can_review(record=source, user=user):
        raise ReviewPermissionError(
            f"You may not review the notice on “{source}”: only editors can."
        )
    note = review_note_check(note=note, action="review the notice on", record=source)
    if not source.notice_held:
        raise ReviewTransitionError(
            f"“{source}” has no retraction or expression of concern waiting for review."
        )
    return record_flag(
        record=source,
        fields={
            "notice_reviewed_at": timezone.now(),
            "notice_reviewed_by": user,
            "notice_review_note": note,
        },
        user=user,
        reason=f"Notice reviewed: {note}",
    )


@dataclass
class CheckReport:
    checked: int = 0
    flagged: list[str] = field(default_factory=list)
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Checked {self.checked} source{'s' if self.checked != 1 else ''} with a DOI: "
            f"{len(self.flagged)} newly flagged, {self.unchanged} unchanged, "
            f"{len(self.unknown)} unknown to Crossref, {len(self.failed)} not checked "
            "(Crossref failed)."
        )


def sources_check_notices(*, sources, user=None, today: datetime.date | None = None, log=None):
    """Ask Crossref about each of ``sources`` that has a DOI, one request each under
    Crossref's rate limit, and record new notices (``source_notice_apply``). ``log``
    receives one line per source that changed or failed."""
    today = today or datetime.date.today()
    report = CheckReport()
    log = log or (lambda line: None)
    for source in sources.exclude(doi="").order_by("pk").iterator():
        report.checked += 1
        try:
            with Session() as session:
                found = crossref.fetch(session, source.doi)
        except LookupFailed as exc:
            report.failed.append(source.key)
            log(f"{source.key} ({source.doi}): not checked. {exc.message}")
            if exc.code == "not_configured":
                raise
            continue
        if found is None:
            report.unknown.append(source.key)
            log(f"{source.key} ({source.doi}): Crossref does not know this DOI.")
            continue
        changed = source_notice_apply(
            source=source, notices=found.notices, checked_on=today, user=user
        )
        if changed:
            report.flagged.append(source.key)
            top = most_serious(found.notices)
            log(f"{source.key} ({source.doi}): {top.sentence()}.")
        else:
            report.unchanged += 1
    return report
