"""A record reviewed with the records that rest on it: a paper with its claims.

A curator enters a source and the claims it makes (findings, therapy evidence,
regulatory statuses) together, so they are submitted together and an editor reviews
them together: the source and the claims the editor chooses are published in one
transaction and one data version, the others may be rejected with one note.

Every step is the ordinary transition (``record_submit``, ``record_publish``,
``record_reject``) with its rules: nobody publishes what they wrote, and a claim
resting on another unpublished record is still refused. The claims are found in
``_meta`` (the reverse foreign keys of curated models), so curation names no domain
model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from curation.models import Moderated, Status
from curation.services import (
    ReviewTransitionError,
    _label,
    _locked,
    record_publish,
    record_reject,
    record_submit,
    records_written_by,
    review_note_check,
)
from curation.versions import data_version_batch

SUBMITTABLE = (Status.DRAFT, Status.REJECTED)


def bundle_claims(*, record: Moderated, statuses: Iterable[str] | None = None) -> list[Moderated]:
    """The curated records that point at ``record`` by a foreign key (a source's
    findings, therapy evidence and regulatory statuses), kind by kind, oldest first.
    One query per kind of claim, its foreign keys joined."""
    found: list[Moderated] = []
    for rel in record._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one) or not issubclass(rel.related_model, Moderated):
            continue
        model = rel.related_model
        claims = model._default_manager.filter(**{rel.field.name: record.pk}).select_related(
            # What the review page shows of each claim (its abnormality, therapy,
            # author …) comes with it, so the page costs the same for 3 claims or 30.
            *(
                f.name
                for f in model._meta.concrete_fields
                if f.many_to_one and f.name != rel.field.name
            )
        )
        if statuses is not None:
            claims = claims.filter(status__in=list(statuses))
        for claim in claims.order_by("pk"):
            rel.field.set_cached_value(claim, record)  # the record in hand, not read again
            found.append(claim)
    return found


def claim_key(record: Moderated) -> str:
    """Names a claim among claims of several kinds (ids alone repeat across kinds)."""
    return f"{record._meta.label_lower}:{record.pk}"


@dataclass
class BundleSubmit:
    submitted: list[Moderated] = field(default_factory=list)
    # Draft claims another curator wrote: still being written, for all we know, so
    # they are theirs to submit.
    left: list[Moderated] = field(default_factory=list)


@transaction.atomic
def bundle_submit(*, record: Moderated, user, note: str = "") -> BundleSubmit:
    """Submit ``record`` (if it is a draft or rejected) and every draft or rejected
    claim resting on it that ``user`` wrote, for review together; claims written only
    by others are left as they are and listed. All or nothing: one refusal (a claim
    this user may not submit) submits none."""
    current = _locked(record, None)
    claims = bundle_claims(record=current, statuses=SUBMITTABLE)
    mine = {claim_key(c) for c in records_written_by(records=claims, user=user)}
    result = BundleSubmit()
    for claim in claims:
        (result.submitted if claim_key(claim) in mine else result.left).append(claim)
    if current.status not in SUBMITTABLE and not result.submitted:
        others = (
            f" {len(result.left)} draft claim(s) by other curators are theirs to submit."
            if result.left
            else ""
        )
        raise ReviewTransitionError(
            f"Nothing to submit: {_label(current)} is {current.get_status_display().lower()} "
            f"and none of its claims is a draft or rejected claim of yours.{others}"
        )
    if current.status in SUBMITTABLE:
        record_submit(record=current, user=user, note=note)
    for claim in result.submitted:
        record_submit(record=claim, user=user, note=note)
    return result


@dataclass
class BundleReview:
    record: Moderated
    published: list[Moderated] = field(default_factory=list)
    rejected: list[Moderated] = field(default_factory=list)
    # Submitted claims neither chosen nor rejected: they still wait.
    waiting: list[Moderated] = field(default_factory=list)


def bundle_publish(
    *,
    record: Moderated,
    user,
    claims: Iterable[Moderated],
    note: str = "",
    reject_note: str = "",
) -> BundleReview:
    """Publish ``record`` (submitted, or already published) and the chosen submitted
    ``claims`` resting on it, in one transaction and one data version; with
    ``reject_note``, reject the submitted claims not chosen. All or nothing: if one
    claim may not be published (its author is this editor, it rests on another
    unpublished record), nothing is."""
    with transaction.atomic(), data_version_batch():
        current = _locked(record, None)
        if current.status not in (Status.SUBMITTED, Status.PUBLISHED):
            raise ReviewTransitionError(
                f"{_label(current)} is {current.get_status_display().lower()}; only a "
                "submitted or published record is published with its claims."
            )
        if reject_note:
            reject_note = review_note_check(note=reject_note, action="reject", record=None)
        waiting = bundle_claims(record=current, statuses=(Status.SUBMITTED,))
        chosen = {claim_key(claim) for claim in claims}
        unknown = chosen - {claim_key(claim) for claim in waiting}
        if unknown:
            raise ReviewTransitionError(
                f"Only claims of {_label(current)} that are submitted for review can be "
                f"published with it; {len(unknown)} chosen are not (any longer). Nothing "
                "was published: open the review again."
            )
        review = BundleReview(record=current)
        if current.status == Status.SUBMITTED:
            review.record = record_publish(record=current, user=user, note=note)
        for claim in waiting:
            if claim_key(claim) in chosen:
                review.published.append(record_publish(record=claim, user=user, note=note))
            elif reject_note:
                review.rejected.append(record_reject(record=claim, user=user, note=reject_note))
            else:
                review.waiting.append(claim)
        return review
