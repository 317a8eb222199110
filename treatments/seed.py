"""Loading the seed knowledge base (fixtures/seed.json): ``seed_load`` and its helpers.

``load_seed`` (and so ``make run``) calls it; data releases are treatments/releases.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from curation.models import DataChangeAction, Status
from curation.services import record_publish_missing
from curation.versions import data_version_batch, data_version_record
from findings.models import Abnormality, Finding, GlossaryTerm, LabTest, Source
from treatments.knowledge_base import EVIDENCE_FIELDS, empty_value, file_value, missing_value
from treatments.models import Harm, RegulatoryStatus, Severity, Therapy, TherapyEvidence

SEED_PATH = Path(settings.BASE_DIR) / "fixtures" / "seed.json"
GLOSSARY_PATH = Path(settings.BASE_DIR) / "fixtures" / "glossary.json"
GLOSSARY_NOTE = "Glossary term from fixtures/glossary.json (issue 18.4)"

# What a seed harm carries besides its therapy, source, kind and statement (its lookup).
HARM_FIELDS = (
    "effect",
    "frequency",
    "control_comparison",
    "population",
    "quote",
    "curator_note",
)


class SeedError(Exception):
    """The seed file is malformed; nothing was written."""


@dataclass
class SeedReport:
    """How many records of each sort (``label``: "source", "lab test" …) were created,
    updated or left as they were."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, label: str) -> None:
        counts = getattr(self, bucket)
        counts[label] = counts.get(label, 0) + 1

    def summary(self) -> str:
        labels = sorted({*self.created, *self.updated, *self.unchanged})
        return "; ".join(
            f"{label}: {self.created.get(label, 0)} created, "
            f"{self.updated.get(label, 0)} updated, {self.unchanged.get(label, 0)} unchanged"
            for label in labels
        )


def _upsert(
    model: type[models.Model],
    *,
    lookup: dict[str, Any],
    values: dict[str, Any],
    update: bool,
    report: SeedReport,
    label: str,
    correction: dict[str, Any] | None = None,
    additions: list[dict[str, Any]] | tuple = (),
    rewordings: Rewordings | None = None,
    created_reason: str = "",
) -> models.Model:
    """Create the record if missing. Existing records are left as curators keep them,
    unless ``update`` asks to bring seed-owned fields back to the seed's values.

    ``correction`` (an item's ``"correction"`` in the seed) says why the seed changed a
    record: ``note`` becomes the history entry's change reason when ``update`` brings
    a live record to the corrected values, and ``was`` gives the lookup values the
    record had before (a corrected statement), so that it is found and corrected in
    place rather than duplicated. ``created_reason`` is the history note of a record
    the load creates.

    ``additions`` (the seed's ``field_additions``) say why fields added to the model
    later were filled: when an update changes only such fields, the addition's note is
    the history entry's change reason.

    ``rewordings`` (the seed's ``rewordings``) say why reader-facing texts were
    reworded: when an update changes only such fields and the old text held what the
    rewording replaced (a citation key), its note is the change reason."""
    obj = model.objects.filter(**lookup).first()
    if obj is None and correction and correction.get("was"):
        obj = model.objects.filter(**{**lookup, **correction["was"]}).first()
        if obj is not None and update:
            values = {**values, **{k: lookup[k] for k in correction["was"]}}
    changed: list[str] = []
    if obj is None:
        obj = model(**lookup, **values)
        bucket = "created"
    elif update and (
        changed := [n for n, v in values.items() if getattr(obj, n) != _as_loaded(model, n, v)]
    ):
        was_published = obj.status == Status.PUBLISHED
        reworded = rewordings.note(obj, changed) if rewordings else ""
        for name, value in values.items():
            setattr(obj, name, value)
        bucket = "updated"
    elif not update and (changed := _empty_filled(obj, values, additions)):
        # A field added to the model later that this record still holds empty: nobody
        # wrote it, so filling it keeps every curator's edit.
        was_published = obj.status == Status.PUBLISHED
        for name in changed:
            setattr(obj, name, values[name])
        bucket = "updated"
    else:
        report.count("unchanged", label)
        return obj
    try:
        obj.full_clean(validate_unique=True)
    except ValidationError as exc:
        raise SeedError(f"{label} {lookup}: {exc.message_dict}") from exc
    # The load publishes directly, so it keeps the publish rule's field requirements
    # itself (curation's ``record_publish_missing``; a claim's plain summary).
    if obj.status == Status.PUBLISHED and (missing := record_publish_missing(record=obj)):
        raise SeedError(f"{label} {lookup}: cannot be published. {missing}")
    if bucket == "updated":
        added = next((a for a in additions if set(changed) <= set(a["fields"])), None)
        if added is not None:
            obj._change_reason = added["note"]
        elif reworded:
            obj._change_reason = reworded
        elif correction:
            obj._change_reason = correction["note"]
    elif bucket == "created" and created_reason:
        obj._change_reason = created_reason
    obj.save()
    # The note belongs to this save only, not to the history rows of later m2m changes.
    obj.__dict__.pop("_change_reason", None)
    report.count(bucket, label)
    if obj.status == Status.PUBLISHED:  # readers see it: a change in seed_load's version
        revised = bucket == "updated" and was_published
        data_version_record(
            record=obj,
            action=DataChangeAction.REVISED if revised else DataChangeAction.ADDED,
            fields=[name for name in changed if name != "status"] if revised else (),
        )
    return obj


def _empty_filled(
    obj: models.Model, values: dict[str, Any], additions: list[dict[str, Any]] | tuple
) -> list[str]:
    """The fields of ``additions`` marked ``"fill_empty"`` that ``obj`` holds empty and
    the seed fills: what a load without ``update`` brings to an existing record."""
    names = {n for a in additions if a.get("fill_empty") for n in a["fields"]}
    return [
        name
        for name in values
        if name in names and not getattr(obj, name) and values[name] not in ("", None)
    ]


@dataclass
class Rewordings:
    """The seed's ``rewordings``: ``{"fields": [...], "note": ...}`` entries for texts
    reworded for readers or added later (issue 18: a citation key such as
    ``polo2019_ldn`` became "Polo 2019"; other names got their sources). An entry with
    ``"replaces": "citation keys"`` applies only where the old text held one of
    ``keys``, the seed's source keys."""

    entries: list[dict[str, Any]]
    keys: set[str]

    def __post_init__(self) -> None:
        names = "|".join(re.escape(k) for k in sorted(self.keys, key=len, reverse=True))
        self.pattern = re.compile(rf"(?<![\w/])(?:{names})(?!\w)" if names else r"(?!)")

    def note(self, obj: models.Model, changed: list[str]) -> str:
        """The notes of the entries that account for ``changed`` together (one
        replacing citation keys only where the old text held one); else empty."""
        involved = [
            entry
            for entry in self.entries
            if (fields := set(entry["fields"]) & set(changed))
            and (
                entry.get("replaces") != "citation keys"
                or any(self.pattern.search(str(getattr(obj, name) or "")) for name in fields)
            )
        ]
        if not set(changed) <= {name for entry in involved for name in entry["fields"]}:
            return ""
        # simple_history keeps a change reason of at most 100 characters.
        return "; ".join(entry["note"] for entry in involved)[:100]


def _as_loaded(model: type[models.Model], name: str, value: Any) -> Any:
    """The value as the model holds it once loaded (dates parsed, DOIs normalised), so
    that an unchanged record is not reported as updated."""
    field = model._meta.get_field(name)
    if field.is_relation:
        return value
    return field.to_python(value)


def _lines(value: Any) -> str:
    return "\n".join(value) if isinstance(value, list) else (value or "")


def _claim_values(model: type[models.Model], item: dict[str, Any]) -> dict[str, Any]:
    """A claim's evidence fields (the statement is its lookup): a field the item leaves
    out, or gives as null, is stored as its default ("not reported") or empty."""
    values = {
        name: missing_value(model, name)
        if item.get(name) is None
        else file_value(model, name, item[name])
        for name in EVIDENCE_FIELDS
        if name != "statement"
    }
    values["case_definition"] = item.get("case_definition") or "unspecified"
    return values


def _get(index: dict[str, models.Model], key: str | None, what: str, where: str):
    if key is None:
        return None
    try:
        return index[key]
    except KeyError:
        raise SeedError(f"{where}: unknown {what} {key!r}") from None


def _withdraw(item: dict[str, str], *, update: bool, report: SeedReport) -> None:
    """A source taken out of the seed (``{"source": key, "reason": ...}`` in the seed's
    ``withdrawn``). With ``update``, a live database's published copy of it, and the
    claims and statuses resting on it, are retracted with the reason: kept in history,
    shown as retracted, gone from lists; the reason is the history entry's note."""
    source = Source.objects.filter(key=item["source"]).first() if update else None
    if source is None:
        return
    reason = item["reason"]
    dependants: list[tuple[str, models.Model]] = [
        *(("regulatory status", r) for r in RegulatoryStatus.objects.filter(source=source)),
        *(("harm", r) for r in Harm.objects.filter(source=source)),
        *(("finding", r) for r in Finding.objects.filter(source=source)),
        *(("therapy evidence", r) for r in TherapyEvidence.objects.filter(source=source)),
        ("source", source),
    ]
    for label, record in dependants:
        if record.status != Status.PUBLISHED:
            continue
        record.status = Status.RETRACTED
        record.review_note = reason
        record._change_reason = reason
        record.save()
        report.count("updated", label)
        data_version_record(record=record, action=DataChangeAction.RETRACTED, note=reason)


def _unpair(claim: models.Model, pair: dict[str, Any], claims: dict[str, models.Model]) -> None:
    """A pairing the seed took back (``"no_longer"``, with a ``"note"`` saying why): with
    ``update``, a live database's link is removed, the note its history entry's reason."""
    removed: set[str] = set()
    for other_id in pair.get("no_longer", []):
        other = _get(claims, other_id, "claim", f"contradictions of {pair['claim']} (no_longer)")
        field = "contradicted_by" if type(other) is type(claim) else "contradicting_findings"
        links = getattr(claim, field, None)
        if links is None or not links.filter(pk=other.pk).exists():
            continue
        claim._change_reason = pair["note"][:100]
        links.remove(other)
        claim.__dict__.pop("_change_reason", None)
        removed.add(field)
    if removed and claim.status == Status.PUBLISHED:  # readers saw the pairing: a revision
        data_version_record(record=claim, action=DataChangeAction.REVISED, fields=removed)


@data_version_batch()  # one data version for the whole load, none if nothing changed
@transaction.atomic
def seed_load(*, path: Path = SEED_PATH, update: bool = False) -> SeedReport:
    """Load the seed knowledge base; loading it again duplicates nothing.

    Records are matched by natural keys: slugs, source keys, and for claims
    (source, subject, statement). Everything in the seed is published. A source
    entry ``{"key": ..., "same_as": ...}`` gives a second citation key to a
    document already listed, so that its claims attach to the one Source.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from exc

    report = SeedReport()
    published = {"status": Status.PUBLISHED}
    rewordings = Rewordings(
        entries=data.get("rewordings", []),
        keys={item["key"] for item in data.get("sources", [])},
    )

    abnormalities: dict[str, Abnormality] = {}
    for item in data.get("abnormalities", []):
        values = {k: v for k, v in item.items() if k not in ("slug", "correction")}
        values["aliases"] = _lines(values.get("aliases"))
        abnormalities[item["slug"]] = _upsert(
            Abnormality,
            lookup={"slug": item["slug"]},
            values={**values, **published},
            update=update,
            report=report,
            label="abnormality",
            rewordings=rewordings,
            correction=item.get("correction"),
        )

    for item in data.get("lab_tests", []):
        values = {k: v for k, v in item.items() if k not in ("slug", "abnormalities", "correction")}
        test = _upsert(
            LabTest,
            lookup={"slug": item["slug"]},
            values={**values, **published},
            update=update,
            report=report,
            label="lab test",
            rewordings=rewordings,
            correction=item.get("correction"),
        )
        test.abnormalities.add(
            *[
                _get(abnormalities, s, "abnormality", f"lab test {item['slug']}")
                for s in item.get("abnormalities", [])
            ]
        )
    lab_tests = {t.slug: t for t in LabTest.objects.all()}

    therapies: dict[str, Therapy] = {}
    for item in data.get("therapies", []):
        values = {k: v for k, v in item.items() if k not in ("slug", "correction")}
        values["aliases"] = _lines(values.get("aliases"))
        therapies[item["slug"]] = _upsert(
            Therapy,
            lookup={"slug": item["slug"]},
            values={**values, **published},
            update=update,
            report=report,
            label="therapy",
            rewordings=rewordings,
            correction=item.get("correction"),
        )

    sources: dict[str, Source] = {}
    aliases: dict[str, str] = {}
    for item in data.get("sources", []):
        if "same_as" in item:
            # A second citation key for a document already listed (one DOI, one Source).
            aliases[item["key"]] = item["same_as"]
            continue
        values = {
            k: (empty_value(Source, k) if v is None else v)
            for k, v in item.items()
            if k not in ("key", "correction")
        }
        sources[item["key"]] = _upsert(
            Source,
            lookup={"key": item["key"]},
            values={**values, **published},
            update=update,
            report=report,
            label="source",
            rewordings=rewordings,
            correction=item.get("correction"),
        )
    for alias, key in aliases.items():
        sources[alias] = _get(sources, key, "source", f"source {alias} (same_as)")

    additions = data.get("field_additions", [])
    claims: dict[str, Finding | TherapyEvidence] = {}
    for item in data.get("findings", []):
        where = f"finding {item.get('id')}"
        lookup = {
            "source": _get(sources, item["source"], "source", where),
            "abnormality": _get(abnormalities, item.get("abnormality"), "abnormality", where),
            "lab_test": _get(lab_tests, item.get("lab_test"), "lab test", where),
            "statement": item["statement"],
        }
        values = _claim_values(Finding, item)
        claims[item["id"]] = _upsert(
            Finding,
            lookup=lookup,
            values={**values, **published},
            update=update,
            report=report,
            label="finding",
            rewordings=rewordings,
            correction=item.get("correction"),
            additions=additions,
        )

    for item in data.get("evidence", []):
        where = f"evidence {item.get('id')}"
        lookup = {
            "source": _get(sources, item["source"], "source", where),
            "therapy": _get(therapies, item["therapy"], "therapy", where),
            "abnormality": _get(abnormalities, item.get("abnormality"), "abnormality", where),
            "statement": item["statement"],
        }
        values = _claim_values(TherapyEvidence, item)
        values["link_kind"] = item.get("link_kind") or ""
        claims[item["id"]] = _upsert(
            TherapyEvidence,
            lookup=lookup,
            values={**values, **published},
            update=update,
            report=report,
            label="therapy evidence",
            rewordings=rewordings,
            correction=item.get("correction"),
            additions=additions,
        )

    for item in data.get("regulatory_statuses", []):
        where = f"regulatory status of {item.get('therapy')}"
        lookup = {
            "therapy": _get(therapies, item["therapy"], "therapy", where),
            "source": _get(sources, item["source"], "source", where),
            "jurisdiction": item["jurisdiction"],
            "regulatory_status": item["regulatory_status"],
        }
        values = {k: item.get(k) or "" for k in ("statement", "date_note")}
        values["date"] = item.get("date")
        _upsert(
            RegulatoryStatus,
            lookup=lookup,
            values={**values, **published},
            update=update,
            report=report,
            label="regulatory status",
            rewordings=rewordings,
            correction=item.get("correction"),
        )

    for item in data.get("harms", []):
        where = f"harm of {item.get('therapy')}"
        lookup = {
            "therapy": _get(therapies, item["therapy"], "therapy", where),
            "source": _get(sources, item["source"], "source", where),
            "kind": item["kind"],
            "statement": item["statement"],
        }
        values = {k: item.get(k) or "" for k in HARM_FIELDS}
        values["severity"] = item.get("severity") or Severity.NOT_STATED
        _upsert(
            Harm,
            lookup=lookup,
            values={**values, **published},
            update=update,
            report=report,
            label="harm",
            rewordings=rewordings,
            correction=item.get("correction"),
            created_reason=data.get("harms_note", ""),
        )

    for item in data.get("withdrawn", []):
        _withdraw(item, update=update, report=report)

    for pair in data.get("contradictions", []):
        claim = _get(claims, pair["claim"], "claim", "contradictions")
        for other_id in pair["contradicted_by"]:
            other = _get(claims, other_id, "claim", f"contradictions of {pair['claim']}")
            # Only a missing pair is added: adding one already there would still write a
            # history row (simple_history's m2m tracking), hiding a correction's note.
            if type(other) is type(claim):
                if not claim.contradicted_by.filter(pk=other.pk).exists():
                    claim.contradicted_by.add(other)
            elif isinstance(claim, TherapyEvidence) and isinstance(other, Finding):
                if not claim.contradicting_findings.filter(pk=other.pk).exists():
                    claim.contradicting_findings.add(other)
            else:
                raise SeedError(
                    f"contradictions of {pair['claim']}: a finding can only be contradicted "
                    f"by findings, not by {other_id}"
                )
        if update:
            _unpair(claim, pair, claims)

    return report


@data_version_batch()
@transaction.atomic
def glossary_load(*, path: Path = GLOSSARY_PATH, update: bool = False) -> SeedReport:
    """Load the glossary's first terms (fixtures/glossary.json), published, after the
    seed (a term may name a seed source by key). Matched by slug: loading it again
    duplicates nothing; ``update`` brings existing terms back to the file's values.
    Curators keep the glossary in the admin from then on, through review."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SeedError(f"cannot read glossary file {path}: {exc}") from exc
    report = SeedReport()
    sources = {
        s.key: s
        for s in Source.objects.filter(key__in=[t.get("source") for t in data.get("terms", [])])
    }
    for item in data.get("terms", []):
        where = f"glossary term {item.get('slug')}"
        values = {
            "term": item["term"],
            "written": _lines(item.get("written")),
            "definition": item["definition"],
            "source": _get(sources, item.get("source"), "source", where),
            "source_note": item.get("source_note") or "",
            "status": Status.PUBLISHED,
        }
        _upsert(
            GlossaryTerm,
            lookup={"slug": item["slug"]},
            values=values,
            update=update,
            report=report,
            label="glossary term",
            created_reason=GLOSSARY_NOTE,
        )
    return report
