"""Entering the issue-17 literature (fixtures/literature/) the way curators would.

``literature_load`` (command ``load_literature``, run by ``make run`` after
``load_seed``) imports ``records.nbib`` and ``records.ris`` through the source import,
creates the proposed abnormalities and therapies and the claims of ``claims.json``
(findings, therapy evidence, harms) as drafts written by the curator account
``literature-curator``, submits them, and has a second account, ``literature-editor``,
publish them through the review services: history names both people. Loading it again
creates nothing: sources are matched as duplicates by the import, everything else by a
stable key (slugs; a claim's source, subject and statement).

Everything happens in one transaction: a record that fails validation stops the load
and nothing is written, so nothing unvalidated is ever published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rispy
from Bio import Medline
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction

from curation.bundles import bundle_publish, bundle_submit
from curation.models import Status, Suggestion
from curation.revisions import suggestion_accept
from curation.roles import CURATORS, EDITORS
from curation.services import (
    ReviewError,
    record_create,
    record_edit,
    record_publish,
    record_submit,
)
from curation.versions import data_version_batch
from findings.importing import (
    INVALID,
    NEW,
    ImportFileError,
    import_preview,
    import_read,
    sources_import,
)
from findings.models import STUDY_FIELDS, Abnormality, Finding, LabTest, Source
from treatments.knowledge_base import EVIDENCE_FIELDS, file_value, missing_value
from treatments.models import Harm, HarmKind, Severity, Therapy, TherapyEvidence
from treatments.seed import SEED_PATH

LITERATURE_DIR = Path(settings.BASE_DIR) / "fixtures" / "literature"
CURATOR = "literature-curator"
EDITOR = "literature-editor"
RECORD_FILES = ("records.nbib", "records.ris")
SUBMIT_NOTE = "Issue 17 literature, entered from fixtures/literature (claims.json)"
PUBLISH_NOTE = "Reviewed against fixtures/literature/verification.json (issue 17)"
FILL_NOTE = "Structured study fields filled from fixtures/literature (issue 12)"
SUMMARY_NOTE = "Plain-language summary filled from fixtures/literature (issue 12)"
UPDATE_NOTE = "Updated from fixtures/literature: the file's values changed since this was entered"
REWORD_NOTE = "Curator note reworded for readers from fixtures/literature (issue 18.4)"
ACCOUNTS = frozenset({CURATOR, EDITOR})


class LiteratureError(Exception):
    """The literature could not be entered; nothing was written."""


@dataclass
class LiteratureReport:
    created: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    # Records entered earlier whose values the files now give differently: updated
    # through an accepted suggestion, or kept because someone else has edited them.
    updated: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    published: int = 0
    paired: int = 0

    def count(self, bucket: str, label: str) -> None:
        counts = getattr(self, bucket)
        counts[label] = counts.get(label, 0) + 1

    @property
    def created_total(self) -> int:
        return sum(self.created.values()) + self.paired

    def summary(self) -> str:
        labels = sorted({*self.created, *self.unchanged})
        parts = [
            f"{label}: {self.created.get(label, 0)} created, "
            f"{self.unchanged.get(label, 0)} already there"
            for label in labels
        ]
        parts += [
            f"{label}: {n} updated from the files" for label, n in sorted(self.updated.items())
        ]
        parts += [
            f"{label}: {n} edited by someone else since, kept as they are"
            for label, n in sorted(self.kept.items())
        ]
        parts.append(f"{self.published} published by {EDITOR}")
        parts.append(f"{self.paired} contradiction links added")
        return "; ".join(parts)


def _account(username: str, group_name: str):
    """The account, created if missing (no usable password: nobody signs in as it),
    in ``group_name``."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save()
    group = Group.objects.filter(name=group_name).first()
    if group is None:
        raise LiteratureError(f"the group {group_name!r} is missing (run migrate first)")
    user.groups.add(group)
    # Permissions are cached per user object; the group was just added.
    return get_user_model().objects.get(pk=user.pk)


def verification_note(entry: dict[str, Any]) -> str:
    """A source's verification note, from its verification.json entry: each page read,
    what it showed, and what was not verified."""
    lines = [f"Verified on {entry.get('verified_on', '')} (issue 17, fixtures/literature):"]
    for page in entry.get("pages", []):
        line = f"- {page['url']} (checked: {', '.join(page['checked'])})"
        if page.get("note"):
            line += f": {page['note']}"
        lines.append(line)
    if entry.get("not_verified"):
        lines.append("Not verified: " + "; ".join(entry["not_verified"]) + ".")
    return "\n".join(lines)


def _record_keys(directory: Path, name: str, text: str) -> list[str]:
    """The verification key of each record of ``name``, in file order (the order of the
    import's entries): an nbib record by its PMID, a RIS record by its ID."""
    if name.endswith(".ris"):
        return [rec.get("id", "") for rec in rispy.loads(text)]
    verification = json.loads((directory / "verification.json").read_text(encoding="utf-8"))
    by_pmid = {r["identifiers"].get("pmid"): r["key"] for r in verification["records"]}
    with (directory / name).open(encoding="utf-8") as handle:
        return [by_pmid.get(rec.get("PMID"), "") for rec in Medline.parse(handle)]


def _import_sources(
    directory: Path, verification: dict[str, dict], curator, editor, report: LiteratureReport
) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for name in RECORD_FILES:
        data = (directory / name).read_bytes()
        try:
            imported = import_preview(import_read(data, filename=name))
        except ImportFileError as exc:
            raise LiteratureError(f"{name}: {exc}") from exc
        keys = _record_keys(directory, name, data.decode("utf-8"))
        if len(keys) != len(imported.entries):
            raise LiteratureError(
                f"{name}: {len(keys)} records but the import read {len(imported.entries)} entries"
            )
        taken = set(Source.objects.values_list("key", flat=True))
        for entry, key in zip(imported.entries, keys, strict=True):
            if key not in verification:
                raise LiteratureError(f"{name} entry {entry.number}: no verification entry")
            if entry.verdict == INVALID:
                raise LiteratureError(
                    f"{name} entry {entry.number} ({key}) is invalid: {' '.join(entry.reasons)}"
                )
            if entry.verdict != NEW:
                match = entry.matches[0] if entry.matches else None
                source = (
                    Source.objects.filter(pk=getattr(match, "pk", None) or -1).first()
                    or Source.objects.filter(key=key).first()
                )
                if source is None:
                    raise LiteratureError(
                        f"{name} entry {entry.number} ({key}) is a duplicate of a source "
                        "that cannot be found"
                    )
                sources[key] = source
                report.count("unchanged", "source")
                wanted = _source_values(entry, key, verification)
                _sync(source, wanted, curator, editor, report, "source")
                continue
            # The curator names the source by the key claims.json uses for it.
            if key not in taken:
                entry.key = key
            entry.values = _source_values(entry, key, verification)
        try:
            created = sources_import(imported=imported, chosen=None, user=curator)
        except ImportFileError as exc:
            raise LiteratureError(f"{name}: {exc}") from exc
        by_key = {source.key: source for source in created}
        for entry, key in zip(imported.entries, keys, strict=True):
            if entry.verdict == NEW:
                sources[key] = by_key[entry.key]
                report.count("created", "source")
    return sources


def _source_values(entry, key: str, verification: dict[str, dict]) -> dict[str, Any]:
    """A record's source fields as the import reads them, with its verification note
    (and a registry record made a trial registry entry)."""
    values = {**entry.values, "verification_note": verification_note(verification[key])}
    if key.startswith("nct"):
        values["kind"] = "trial_registry"
    return values


def _create(model, lookup: dict[str, Any], fields: dict[str, Any], curator, report, label):
    """The draft ``model`` record ``lookup`` finds, created by the curator if missing."""
    found = model.objects.filter(**lookup).first()
    if found is not None:
        report.count("unchanged", label)
        return found, False
    try:
        record = record_create(
            model=model,
            fields={**lookup, **fields},
            user=curator,
            reason="Entered from fixtures/literature (issue 17)",
        )
    except ValidationError as exc:
        raise LiteratureError(f"{label} {lookup}: {'; '.join(exc.messages)}") from exc
    report.count("created", label)
    return record, True


def _fill_study_fields(record, fields: dict[str, Any], curator, editor, report, label) -> None:
    """A claim entered before claims.json had the structured study fields or the plain
    summary (issue 12) gets them: a suggestion by the curator, accepted by the editor,
    as any change to a published record. The study fields are filled only when all are
    still at their missing values, the plain summary only when empty, so a curator's
    later edit is never overwritten. One suggestion carries both: a published claim
    without a plain summary takes no other change (the publish rule)."""
    model = type(record)
    wanted = {}
    if all(getattr(record, k) == missing_value(model, k) for k in STUDY_FIELDS):
        wanted = {k: fields[k] for k in STUDY_FIELDS if fields[k] != getattr(record, k)}
    summary_filled = not record.plain_summary.strip() and fields["plain_summary"]
    if summary_filled:
        wanted["plain_summary"] = fields["plain_summary"]
    if not wanted:
        return
    note = SUMMARY_NOTE if wanted.keys() == {"plain_summary"} else FILL_NOTE
    try:
        result = record_edit(record=record, fields=wanted, user=curator, reason=note)
        if result.suggestion is not None:
            suggestion_accept(suggestion=result.suggestion, user=editor, note=note)
    except (ReviewError, ValidationError) as exc:
        raise LiteratureError(f"study fields of {label} {record.pk}: {exc}") from exc
    if wanted.keys() - {"plain_summary"}:
        report.count("created", f"{label} study-field fill")
    if summary_filled:
        report.count("created", f"{label} plain-summary fill")


def _only_ours(record, names) -> bool:
    """Whether only the literature accounts have written ``record`` (its history names
    nobody else, nor does any suggestion on it, accepted or not) and it still holds, for
    ``names``, what its last history row says (so nothing changed it outside the
    services either)."""
    rows = list(record.history.select_related("history_user").order_by("-history_id"))
    if not rows or any(
        row.history_user is None or row.history_user.username not in ACCOUNTS for row in rows
    ):
        return False
    others = Suggestion.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
    ).exclude(author__username__in=ACCOUNTS)
    if others.exists():
        return False
    return all(getattr(rows[0], name) == getattr(record, name) for name in names)


def _sync(record, wanted: dict[str, Any], curator, editor, report, label) -> None:
    """A record entered earlier from fixtures/literature takes the values the files now
    give (a risk of bias judged, a harm graded, an author list found): the curator
    account suggests the change and the editor account accepts it, as for any change
    to a published record, so history shows who changed what and why. A record that
    anyone else has edited, or that is not published, is left as it is."""
    record = type(record).objects.get(pk=record.pk)
    changes = {k: v for k, v in wanted.items() if getattr(record, k) != v}
    if not changes or getattr(record.created_by, "username", None) != CURATOR:
        return
    if record.status != Status.PUBLISHED or not _only_ours(record, changes):
        report.count("kept", label)
        return
    try:
        result = record_edit(record=record, fields=changes, user=curator, reason=UPDATE_NOTE)
        if result.suggestion is None:
            return
        suggestion_accept(suggestion=result.suggestion, user=editor, note=UPDATE_NOTE)
    except (ReviewError, ValidationError) as exc:
        raise LiteratureError(f"update of {label} {record.pk}: {exc}") from exc
    report.count("updated", label)


def _reword_note(record, note: str, curator, editor, report, label) -> None:
    """A claim entered before its curator note was reworded for readers (issue 18: no
    slug or citation key) gets the new wording: a suggestion by the curator, accepted
    by the editor. Only a note nobody has edited since the load is replaced (its
    first history entry still holds it), so a curator's own wording is never lost."""
    if record.curator_note == note:
        return
    first = record.history.order_by("history_date", "history_id").first()
    if first is None or first.curator_note != record.curator_note:
        return
    try:
        result = record_edit(
            record=record, fields={"curator_note": note}, user=curator, reason=REWORD_NOTE
        )
        if result.suggestion is not None:
            suggestion_accept(suggestion=result.suggestion, user=editor, note=REWORD_NOTE)
    except (ReviewError, ValidationError) as exc:
        raise LiteratureError(f"curator note of {label} {record.pk}: {exc}") from exc
    report.count("created", f"{label} note rewording")


def _seed_claims(sources: dict[str, Source]) -> dict[str, models.Model]:
    """The seed's claims by their seed id (found as load_seed stores them: source,
    subject and statement), so that literature claims can be paired with them."""
    data = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    same_as = {s["key"]: s["same_as"] for s in data["sources"] if "same_as" in s}
    claims: dict[str, models.Model] = {}
    for kind, model in (("findings", Finding), ("evidence", TherapyEvidence)):
        for item in data.get(kind, []):
            key = same_as.get(item["source"], item["source"])
            lookup = {"source__key": key, "statement": item["statement"]}
            lookup["abnormality__slug"] = item.get("abnormality")
            if item.get("abnormality") is None:
                lookup = {**lookup, "abnormality__isnull": True}
                del lookup["abnormality__slug"]
            if kind == "evidence":
                lookup["therapy__slug"] = item["therapy"]
            found = model.objects.filter(**lookup).first()
            if found is not None:
                claims[item["id"]] = found
    return claims


def _publish(record, editor, report: LiteratureReport) -> None:
    if record.status == Status.PUBLISHED:
        return
    try:
        record_publish(record=record, user=editor, note=PUBLISH_NOTE)
    except ReviewError as exc:
        raise LiteratureError(str(exc)) from exc
    report.published += 1


def _harm_fields(item: dict[str, Any], participants: dict[tuple[str, str], str]) -> dict:
    """A harm of claims.json as a Harm's fields. claims.json names no kind, severity or
    population: the kind is "tolerability" for a "no … events" finding, else an adverse
    effect; severity is "not stated" unless given; the population is the participants
    of the same source's evidence for the therapy."""
    effect = item["effect"]
    kind = item.get("kind") or (
        HarmKind.TOLERABILITY if effect.lower().startswith("no ") else HarmKind.ADVERSE_EFFECT
    )
    population = item.get("population") or participants.get((item["source"], item["therapy"]))
    if not population:
        raise LiteratureError(f"harm of {item['therapy']} ({item['source']}): no population")
    return {
        "kind": kind,
        "effect": effect,
        "frequency": item.get("frequency") or "",
        "severity": item.get("severity") or Severity.NOT_STATED,
        "control_comparison": item.get("control_comparison") or "",
        "population": population,
        "quote": item.get("quote") or "",
        "curator_note": item.get("note") or item.get("curator_note") or "",
    }


@transaction.atomic
def literature_load(*, directory: Path = LITERATURE_DIR) -> LiteratureReport:
    """Enter fixtures/literature (after the seed); a second run creates nothing."""
    try:
        claims_data = json.loads((directory / "claims.json").read_text(encoding="utf-8"))
        verification_data = json.loads(
            (directory / "verification.json").read_text(encoding="utf-8")
        )
    except (OSError, json.JSONDecodeError) as exc:
        raise LiteratureError(f"cannot read {directory}: {exc}") from exc
    with data_version_batch():
        return _load(directory, claims_data, verification_data)


def _load(directory: Path, data: dict, verification_data: dict) -> LiteratureReport:
    report = LiteratureReport()
    curator = _account(CURATOR, CURATORS)
    editor = _account(EDITOR, EDITORS)
    verification = {r["key"]: r for r in verification_data["records"]}

    sources = _import_sources(directory, verification, curator, editor, report)
    sources.update({s.key: s for s in Source.objects.exclude(key__in=sources)})

    # Proposed abnormalities and therapies: drafts, submitted, published one by one
    # (the claims rest on them).
    abnormalities = {a.slug: a for a in Abnormality.objects.all()}
    therapies = {t.slug: t for t in Therapy.objects.all()}
    for model, items, index, label, keep in (
        (
            Abnormality,
            data["abnormalities"],
            abnormalities,
            "abnormality",
            ("name", "category", "component", "change", "summary", "details"),
        ),
        (
            Therapy,
            data["therapies"],
            therapies,
            "therapy",
            ("name", "kind", "stage", "mechanism", "summary"),
        ),
    ):
        for item in items:
            fields = {k: item.get(k) or "" for k in keep}
            fields["aliases"] = "\n".join(item.get("aliases", []))
            record, created = _create(model, {"slug": item["slug"]}, fields, curator, report, label)
            if created:
                record = record_submit(record=record, user=curator, note=SUBMIT_NOTE)
            else:
                _sync(record, fields, curator, editor, report, label)
            if record.status == Status.SUBMITTED:
                _publish(record, editor, report)
            index[item["slug"]] = record
    lab_tests = {t.slug: t for t in LabTest.objects.all()}

    def get(index: dict, key: str | None, what: str, where: str):
        if key is None:
            return None
        if key not in index:
            raise LiteratureError(f"{where}: unknown {what} {key!r}")
        return index[key]

    claims: dict[str, models.Model] = _seed_claims(sources)
    touched: set[str] = set()  # sources with new claims: submitted and published together
    participants: dict[tuple[str, str], str] = {}
    for kind, model, label in (
        ("findings", Finding, "finding"),
        ("evidence", TherapyEvidence, "therapy evidence"),
    ):
        for item in data[kind]:
            where = f"{label} {item['id']}"
            lookup = {
                "source": get(sources, item["source"], "source", where),
                "abnormality": get(abnormalities, item.get("abnormality"), "abnormality", where),
                "statement": item["statement"],
            }
            if kind == "findings":
                lookup["lab_test"] = get(lab_tests, item.get("lab_test"), "lab test", where)
            else:
                lookup["therapy"] = get(therapies, item["therapy"], "therapy", where)
                participants.setdefault((item["source"], item["therapy"]), item["participants"])
            # The structured study fields (issue 12) as claims.json gives them (a
            # decimal as written: 1.7, not the nearest float); a field left out or
            # empty is stored as a file's missing value: "not reported", NULL.
            fields = {
                k: file_value(model, k, item[k])
                if item.get(k) not in (None, "")
                else missing_value(model, k)
                for k in EVIDENCE_FIELDS
                if k != "statement"
            }
            fields["case_definition"] = item.get("case_definition") or "unspecified"
            if kind == "evidence":
                fields["link_kind"] = item.get("link_kind") or ""
            record, created = _create(model, lookup, fields, curator, report, label)
            if created:
                touched.add(item["source"])
            else:
                _fill_study_fields(record, fields, curator, editor, report, label)
                record = model.objects.get(pk=record.pk)
                _reword_note(record, fields["curator_note"], curator, editor, report, label)
                _sync(record, fields, curator, editor, report, label)
            claims[item["id"]] = record

    for item in data["harms"]:
        where = f"harm of {item['therapy']} ({item['source']})"
        lookup = {
            "therapy": get(therapies, item["therapy"], "therapy", where),
            "source": get(sources, item["source"], "source", where),
            "statement": item["statement"],
        }
        fields = _harm_fields(item, participants)
        record, created = _create(Harm, lookup, fields, curator, report, "harm")
        if created:
            touched.add(item["source"])
        else:
            _sync(record, fields, curator, editor, report, "harm")

    # Each source with its new claims: submitted together by the curator, published
    # together by the editor (one review, as in the admin's bundle review).
    for key in sorted(touched | {k for k, s in sources.items() if s.status == Status.DRAFT}):
        source = Source.objects.get(pk=sources[key].pk)
        try:
            submitted = bundle_submit(record=source, user=curator, note=SUBMIT_NOTE)
            review = bundle_publish(
                record=Source.objects.get(pk=source.pk),
                user=editor,
                claims=submitted.submitted,
                note=PUBLISH_NOTE,
            )
        except ReviewError as exc:
            raise LiteratureError(f"source {key}: {exc}") from exc
        report.published += len(review.published) + (source.status != Status.PUBLISHED)

    # Edits to published seed records (an abnormality's summary that should name the
    # null results): a suggestion by the curator, accepted by the editor.
    for item in data.get("abnormality_edits", []):
        record = get(abnormalities, item["slug"], "abnormality", "abnormality_edits")
        record = Abnormality.objects.get(pk=record.pk)
        if item["append_to_summary"] in record.summary:
            report.count("unchanged", "abnormality edit")
            continue
        try:
            result = record_edit(
                record=record,
                fields={"summary": f"{record.summary} {item['append_to_summary']}"},
                user=curator,
                reason=item.get("note") or SUBMIT_NOTE,
            )
            if result.suggestion is None:
                raise LiteratureError(f"abnormality {item['slug']} is not published")
            suggestion_accept(suggestion=result.suggestion, user=editor, note=PUBLISH_NOTE)
        except (ReviewError, ValidationError) as exc:
            raise LiteratureError(f"edit of abnormality {item['slug']}: {exc}") from exc
        report.count("created", "abnormality edit")

    # Contradictions, as the seed loader pairs them (both directions are listed).
    for pair in data["contradictions"]:
        claim = get(claims, pair["claim"], "claim", "contradictions")
        for other_id in pair["contradicted_by"]:
            other = get(claims, other_id, "claim", f"contradictions of {pair['claim']}")
            if type(other) is type(claim):
                links = claim.contradicted_by
            elif isinstance(claim, TherapyEvidence) and isinstance(other, Finding):
                links = claim.contradicting_findings
            else:
                raise LiteratureError(
                    f"contradictions of {pair['claim']}: a finding can only be contradicted "
                    f"by findings, not by {other_id}"
                )
            if links.filter(pk=other.pk).exists():
                continue
            claim._history_user = editor
            claim._change_reason = pair["note"][:100]
            links.add(other)
            claim.__dict__.pop("_change_reason", None)
            report.paired += 1
    return report
