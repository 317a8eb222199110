"""Data releases: the published knowledge base as files (``export_release``,
``import_release``), and back.

A release is a directory: ``knowledge_base.json`` with every table, one CSV per table
for spreadsheets, and ``manifest.json`` with counts and SHA-256 checksums. An import
reads the JSON (the CSVs are checked against their checksums, not read).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import shutil
import stat
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from curation.csvfile import csv_write
from curation.models import Status
from curation.services import record_publish_missing
from curation.versions import data_version_current
from findings.models import STUDY_FIELDS, Abnormality, Finding, GlossaryTerm, LabTest, Source
from treatments.certainty import certainty_recompute
from treatments.knowledge_base import (
    CURATED_MODELS,
    EVIDENCE_FIELDS,
    HARM_CONTENT_FIELDS,
    empty_value,
    file_value,
    missing_value,
    plain_decimal,
)
from treatments.models import (
    RELEASE_LABEL_REGEX,
    CertaintyOverride,
    Harm,
    RegulatoryStatus,
    Release,
    Therapy,
    TherapyEvidence,
)

RELEASE_FORMAT = "mecfs-kb-release"
# 2: harms are a table of their own (``harms``), no longer a therapy's free text.
# 3: every claim carries its ``plain_summary``; editors' certainty overrides are a
#    table of their own (``certainty_overrides``).
# 4: the glossary readers see (``glossary_terms``). Versions 2 and 3 still import (below).
RELEASE_FORMAT_VERSION = 4
READABLE_FORMAT_VERSIONS = (2, 3, 4)
# Tables a release of an older format version does not have: imported as empty.
ADDED_TABLES = {"certainty_overrides": 3, "glossary_terms": 4}
MANIFEST = "manifest.json"
RELEASE_JSON = "knowledge_base.json"

SOURCE_RELEASE_FIELDS = (
    "key",
    "kind",
    "title",
    "authors",
    "container",
    "year",
    "published_on",
    "url",
    "doi",
    "pmid",
    "pmcid",
    "nct_id",
    "publication_type",
    "abstract",
    "accessed_on",
    "retracted",
    "retraction_note",
    "notice_kind",
    "notice_doi",
    "notice_url",
    "notice_date",
    "notices_checked_on",
    "verification_note",
)
ABNORMALITY_RELEASE_FIELDS = (
    "slug",
    "name",
    "aliases",
    "alias_sources",
    "category",
    "component",
    "change",
    "summary",
    "details",
)
LAB_TEST_RELEASE_FIELDS = ("slug", "name", "measures", "specimen", "availability", "notes")
THERAPY_RELEASE_FIELDS = (
    "slug",
    "name",
    "aliases",
    "alias_sources",
    "kind",
    "mechanism",
    "stage",
    "summary",
)
REGULATORY_RELEASE_FIELDS = (
    "jurisdiction",
    "regulatory_status",
    "date",
    "date_note",
    "statement",
)
OVERRIDE_RELEASE_FIELDS = ("certainty", "net_direction", "reason")
GLOSSARY_RELEASE_FIELDS = ("slug", "term", "written", "definition", "source_note")

# Table name → (columns in CSV order). References are natural keys: source keys, slugs,
# and for claims a stable id made from what the claim says (never a primary key).
# Fields a release may leave out (older releases were written before them).
LATER_FIELDS = frozenset({*STUDY_FIELDS, "plain_summary"})

RELEASE_TABLES: dict[str, tuple[str, ...]] = {
    "sources": SOURCE_RELEASE_FIELDS,
    "abnormalities": ABNORMALITY_RELEASE_FIELDS,
    "lab_tests": (*LAB_TEST_RELEASE_FIELDS, "abnormalities"),
    "therapies": THERAPY_RELEASE_FIELDS,
    "findings": (
        "id",
        "source",
        "abnormality",
        "lab_test",
        *EVIDENCE_FIELDS,
        "contradicted_by",
    ),
    "evidence": (
        "id",
        "therapy",
        "abnormality",
        "link_kind",
        "source",
        *EVIDENCE_FIELDS,
        "contradicted_by",
        "contradicting_findings",
    ),
    "regulatory_statuses": ("therapy", "source", *REGULATORY_RELEASE_FIELDS),
    "harms": ("therapy", "source", *HARM_CONTENT_FIELDS),
    # An editor's rating of a pair (abnormality empty: of the therapy as a whole) in
    # place of the computed one. The computed ratings are not carried: an import
    # computes them again from the claims.
    "certainty_overrides": ("therapy", "abnormality", *OVERRIDE_RELEASE_FIELDS),
    # The terms /glossary/ defines, each with the source of its definition when one is
    # held (its key; empty otherwise).
    "glossary_terms": ("source", *GLOSSARY_RELEASE_FIELDS),
}


class ReleaseError(Exception):
    """The release cannot be written or loaded; for imports, nothing was written."""


@dataclass
class ReleaseManifest:
    release: str
    created_at: str
    counts: dict[str, int]
    files: dict[str, dict[str, Any]]
    data_version: int = 0  # the data version it shows (/changes/)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": RELEASE_FORMAT,
            "format_version": RELEASE_FORMAT_VERSION,
            "release": self.release,
            "created_at": self.created_at,
            "data_version": self.data_version,
            "counts": self.counts,
            "files": self.files,
        }


def _json_value(value: Any) -> Any:
    """JSON-ready, the same way every time (dates as ISO 8601, decimals as exact text)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return value


def _json_values(obj: models.Model, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _json_value(getattr(obj, name)) for name in names}


def _claim_id(prefix: str, parts: tuple[str, ...], taken: set[str]) -> str:
    """A stable id from what the claim says; the same claim gets the same id in every
    release, whatever its primary key."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]
    claim_id, n = f"{prefix}-{digest}", 2
    while claim_id in taken:  # two identical claims: number them in a stable order
        claim_id, n = f"{prefix}-{digest}-{n}", n + 1
    taken.add(claim_id)
    return claim_id


def release_data() -> dict[str, list[dict[str, Any]]]:
    """The published knowledge base as plain rows, sorted by natural keys."""
    # Sorted in Python, not by the database: collations and NULL ordering differ between
    # SQLite and PostgreSQL, and a release must not depend on where it was exported from.
    sources = sorted(Source.objects.published(), key=lambda s: s.key)
    abnormalities = sorted(Abnormality.objects.published(), key=lambda a: a.slug)
    public_abnormalities = {a.pk: a.slug for a in abnormalities}
    lab_tests = sorted(
        LabTest.objects.published().prefetch_related("abnormalities"), key=lambda t: t.slug
    )
    therapies = sorted(Therapy.objects.published(), key=lambda t: t.slug)

    findings = sorted(
        Finding.objects.published()
        .select_related("source", "abnormality", "lab_test")
        .prefetch_related("contradicted_by"),
        key=lambda f: (
            f.source.key,
            f.abnormality.slug if f.abnormality_id else "",
            f.lab_test.slug if f.lab_test_id else "",
            f.statement,
            f.pk,
        ),
    )
    taken: set[str] = set()
    finding_ids = {
        f.pk: _claim_id(
            "finding",
            (
                f.source.key,
                f.abnormality.slug if f.abnormality_id else "",
                f.lab_test.slug if f.lab_test_id else "",
                f.statement,
            ),
            taken,
        )
        for f in findings
    }
    evidence = sorted(
        TherapyEvidence.objects.published()
        .select_related("therapy", "abnormality", "source")
        .prefetch_related("contradicted_by", "contradicting_findings"),
        key=lambda e: (
            e.therapy.slug,
            e.abnormality.slug if e.abnormality_id else "",
            e.source.key,
            e.statement,
            e.pk,
        ),
    )
    evidence_ids = {
        e.pk: _claim_id(
            "evidence",
            (
                e.therapy.slug,
                e.abnormality.slug if e.abnormality_id else "",
                e.source.key,
                e.statement,
            ),
            taken,
        )
        for e in evidence
    }
    statuses = sorted(
        RegulatoryStatus.objects.published().select_related("therapy", "source"),
        key=lambda r: (
            r.therapy.slug,
            r.jurisdiction,
            r.regulatory_status,
            r.source.key,
            r.date.isoformat() if r.date else "",
            r.statement,
            r.pk,
        ),
    )

    harms = sorted(
        Harm.objects.published().select_related("therapy", "source"),
        key=lambda h: (h.therapy.slug, h.kind, h.source.key, h.effect, h.statement, h.pk),
    )

    overrides = sorted(
        CertaintyOverride.objects.published().select_related("therapy", "abnormality"),
        key=lambda o: (o.therapy.slug, o.abnormality.slug if o.abnormality_id else "", o.pk),
    )

    public_sources = {s.pk: s.key for s in sources}
    glossary = sorted(GlossaryTerm.objects.published(), key=lambda g: g.slug)

    def ids(related, index: dict[int, str]) -> list[str]:
        return sorted(index[r.pk] for r in related.all() if r.pk in index)

    return {
        "sources": [_json_values(s, SOURCE_RELEASE_FIELDS) for s in sources],
        "abnormalities": [_json_values(a, ABNORMALITY_RELEASE_FIELDS) for a in abnormalities],
        "lab_tests": [
            {
                **_json_values(t, LAB_TEST_RELEASE_FIELDS),
                "abnormalities": sorted(
                    public_abnormalities[a.pk]
                    for a in t.abnormalities.all()
                    if a.pk in public_abnormalities
                ),
            }
            for t in lab_tests
        ],
        "therapies": [_json_values(t, THERAPY_RELEASE_FIELDS) for t in therapies],
        "findings": [
            {
                "id": finding_ids[f.pk],
                "source": f.source.key,
                "abnormality": f.abnormality.slug if f.abnormality_id else None,
                "lab_test": f.lab_test.slug if f.lab_test_id else None,
                **_json_values(f, EVIDENCE_FIELDS),
                "contradicted_by": ids(f.contradicted_by, finding_ids),
            }
            for f in findings
        ],
        "evidence": [
            {
                "id": evidence_ids[e.pk],
                "therapy": e.therapy.slug,
                "abnormality": e.abnormality.slug if e.abnormality_id else None,
                "link_kind": e.link_kind,
                "source": e.source.key,
                **_json_values(e, EVIDENCE_FIELDS),
                "contradicted_by": ids(e.contradicted_by, evidence_ids),
                "contradicting_findings": ids(e.contradicting_findings, finding_ids),
            }
            for e in evidence
        ],
        "regulatory_statuses": [
            {
                "therapy": r.therapy.slug,
                "source": r.source.key,
                **_json_values(r, REGULATORY_RELEASE_FIELDS),
            }
            for r in statuses
        ],
        "harms": [
            {
                "therapy": h.therapy.slug,
                "source": h.source.key,
                **_json_values(h, HARM_CONTENT_FIELDS),
            }
            for h in harms
        ],
        "certainty_overrides": [
            {
                "therapy": o.therapy.slug,
                "abnormality": o.abnormality.slug if o.abnormality_id else None,
                **_json_values(o, OVERRIDE_RELEASE_FIELDS),
            }
            for o in overrides
        ],
        "glossary_terms": [
            {
                # A definition's source that is not public is not named.
                "source": public_sources.get(g.source_id),
                **_json_values(g, GLOSSARY_RELEASE_FIELDS),
            }
            for g in glossary
        ],
    }


def _csv_text(table: str, rows: list[dict[str, Any]]) -> str:
    """One table for spreadsheets. Lists are joined with ";", and cells that start like
    a formula are prefixed with "'" (curation/csvfile.py): knowledge_base.json, which an
    import reads, keeps the exact values."""
    buffer = io.StringIO()
    csv_write(
        buffer,
        fieldnames=RELEASE_TABLES[table],
        rows=(
            {
                key: ";".join(value)
                if isinstance(value, list)
                else ("" if value is None else value)
                for key, value in row.items()
            }
            for row in rows
        ),
        lineterminator="\n",
    )
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@transaction.atomic
def release_export(*, directory: Path, release: str) -> ReleaseManifest:
    """Write the published knowledge base to ``directory``: one JSON file with every
    table, one CSV per table, and ``manifest.json`` with counts and SHA-256 checksums.

    Byte-for-byte reproducible: the same knowledge base gives the same files (only the
    manifest's ``created_at`` differs). Runs in one transaction so that all files show
    the same moment."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / MANIFEST).exists():
        raise ReleaseError(
            f"{directory} already holds a release ({MANIFEST}); use a new directory."
        )
    data = release_data()
    contents: dict[str, bytes] = {
        RELEASE_JSON: (
            json.dumps(
                {"format": RELEASE_FORMAT, "format_version": RELEASE_FORMAT_VERSION, **data},
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        ).encode("utf-8")
    }
    for table, rows in data.items():
        contents[f"{table}.csv"] = _csv_text(table, rows).encode("utf-8")
    for name, payload in contents.items():
        (directory / name).write_bytes(payload)
    manifest = ReleaseManifest(
        release=release,
        created_at=timezone.now().replace(microsecond=0).isoformat(),
        counts={table: len(rows) for table, rows in data.items()},
        data_version=getattr(data_version_current(), "number", 0),
        files={
            name: {"sha256": _sha256(payload), "bytes": len(payload)}
            for name, payload in sorted(contents.items())
        },
    )
    (directory / MANIFEST).write_text(
        json.dumps(manifest.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


# ---------------------------------------------------------------------------
# Published releases: written once under RELEASES_ROOT, served by /api/v1/releases/
# ---------------------------------------------------------------------------

# What each file of a release is, for the download's Content-Type.
RELEASE_CONTENT_TYPES = {".json": "application/json", ".csv": "text/csv; charset=utf-8"}


def release_directory(label: str) -> Path:
    return Path(settings.RELEASES_ROOT) / label


def release_file_path(release: Release, name: str) -> Path | None:
    """The file ``name`` of ``release`` on disk, or None if the release lists no such
    file (only names its manifest lists are ever served, so no path can be made up)."""
    if name not in release.files:
        return None
    return release_directory(release.label) / name


def release_publish(*, label: str | None = None) -> Release:
    """Write a release of what readers see now into ``RELEASES_ROOT/<label>/`` and record
    it, so /api/v1/releases/ lists and serves it. Immutable: the files are written into
    a new directory, made read-only, and never written again; the label is unique.

    Refused (``ReleaseError``) when the current data version already has a release, or
    the label is taken or not a valid name."""
    current = getattr(data_version_current(), "number", 0)
    existing = Release.objects.filter(data_version=current).first()
    if existing is not None:
        raise ReleaseError(
            f"Data version {current} is already released as {existing.label}; publish "
            "something first."
        )
    label = label or f"{timezone.now():%Y.%m.%d}-v{current}"
    try:
        Release(label=label).clean_fields(
            exclude=[f.name for f in Release._meta.fields if f.name != "label"]
        )
    except ValidationError as exc:
        raise ReleaseError(f"{label!r} is not a release label ({RELEASE_LABEL_REGEX}).") from exc
    if label == "latest":
        raise ReleaseError("“latest” names the newest release in the API; choose another label.")
    root = Path(settings.RELEASES_ROOT)
    final = release_directory(label)
    if final.exists() or Release.objects.filter(label=label).exists():
        raise ReleaseError(f"A release named {label} exists already; choose another label.")
    # Written beside the final directory and renamed into place whole: a reader never
    # sees a half-written release, and a failed write leaves nothing under its name.
    staging = root / f".writing-{label}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        manifest = release_export(directory=staging, release=label)
        manifest_bytes = (staging / MANIFEST).read_bytes()
        files = {
            **manifest.files,
            MANIFEST: {"sha256": _sha256(manifest_bytes), "bytes": len(manifest_bytes)},
        }
        for path in staging.iterdir():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        return Release.objects.create(
            label=label,
            data_version=manifest.data_version,
            created_at=datetime.datetime.fromisoformat(manifest.created_at),
            format_version=RELEASE_FORMAT_VERSION,
            counts=manifest.counts,
            files=dict(sorted(files.items())),
        )
    except IntegrityError:
        shutil.rmtree(final, ignore_errors=True)
        raise ReleaseError(f"A release named {label} exists already.") from None


def _read_release(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest and the JSON data, after checking every file against its checksum."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReleaseError(f"{directory} has no {MANIFEST}: not a release directory.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"{MANIFEST} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != RELEASE_FORMAT:
        raise ReleaseError(f"{MANIFEST} does not describe a {RELEASE_FORMAT}.")
    version = manifest.get("format_version")
    if version not in READABLE_FORMAT_VERSIONS:
        raise ReleaseError(
            f"release format version {version!r} is not supported (this version reads "
            f"{', '.join(map(str, READABLE_FORMAT_VERSIONS))})."
        )
    tables = _tables_of(version)
    files = manifest.get("files")
    if not isinstance(files, dict) or RELEASE_JSON not in files:
        raise ReleaseError(f"{MANIFEST} lists no {RELEASE_JSON}.")
    expected = {RELEASE_JSON, *(f"{table}.csv" for table in tables)}
    if missing_from_manifest := sorted(expected - set(files)):
        raise ReleaseError(f"{MANIFEST} does not list {', '.join(missing_from_manifest)}.")
    for name, meta in sorted(files.items()):
        path = directory / name
        if Path(name).name != name:
            raise ReleaseError(f"{MANIFEST} names a file outside the release: {name!r}.")
        if not path.is_file():
            raise ReleaseError(f"{name} is missing from the release.")
        actual = _sha256(path.read_bytes())
        if not isinstance(meta, dict) or actual != meta.get("sha256"):
            raise ReleaseError(
                f"{name} does not match its checksum in {MANIFEST} (expected "
                f"{meta.get('sha256') if isinstance(meta, dict) else None}, got {actual}): "
                "the file was changed or damaged."
            )
    try:
        data = json.loads((directory / RELEASE_JSON).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"{RELEASE_JSON} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ReleaseError(f"{RELEASE_JSON} must hold an object with one list per table.")
    for table in tables:
        if not isinstance(data.get(table), list):
            raise ReleaseError(f"{RELEASE_JSON} has no list named {table!r}.")
    counts = manifest.get("counts", {})
    for table in tables:
        if counts.get(table) != len(data[table]):
            raise ReleaseError(
                f"{MANIFEST} counts {counts.get(table)!r} {table} but {RELEASE_JSON} holds "
                f"{len(data[table])}."
            )
    for table in RELEASE_TABLES.keys() - tables:
        data[table] = []  # not in this format version: nothing to load
    return manifest, data


def _tables_of(version: int) -> list[str]:
    """The tables a release of format ``version`` holds."""
    return [t for t in RELEASE_TABLES if ADDED_TABLES.get(t, 0) <= version]


@dataclass
class ReleaseReport:
    release: str
    counts: dict[str, int]
    # Claims that arrived as drafts: they have no plain summary, which publishing needs
    # (a release of format 2, written before the field existed).
    drafts: int = 0


@transaction.atomic
def release_import(*, directory: Path, user=None) -> ReleaseReport:
    """Load a release into an empty knowledge base; everything arrives published.

    All or nothing: any bad file, checksum, reference or value raises ``ReleaseError``
    and the transaction leaves the database as it was."""
    manifest, data = _read_release(Path(directory))
    present = {
        model._meta.verbose_name_plural: n
        for model in CURATED_MODELS
        if (n := model.objects.count())
    }
    if present:
        held = ", ".join(f"{n} {name}" for name, n in present.items())
        raise ReleaseError(
            f"The database is not empty (it holds {held}). A release loads only into an "
            "empty knowledge base, so that nothing is merged or overwritten by accident."
        )
    release = str(manifest.get("release", ""))
    published = {"status": Status.PUBLISHED}
    reason = f"Imported from release {release}"

    drafts = 0

    def create(model: type[models.Model], where: str, values: dict[str, Any]):
        nonlocal drafts
        obj = model(**values, **published)
        try:
            obj.full_clean()
        except ValidationError as exc:
            raise ReleaseError(f"{where}: {exc.message_dict}") from exc
        obj._history_user = user
        obj._change_reason = reason
        # Everything arrives published, as the publish rule allows: a claim without
        # its plain summary (curation's ``record_publish_missing``) waits as a draft
        # for a curator to write one, and the history says why.
        missing = record_publish_missing(record=obj)
        if missing:
            obj.status = Status.DRAFT
            obj._change_reason = f"{reason}, as a draft: {missing}"
            drafts += 1
        obj.save()
        return obj

    def pick(
        row: Any, model: type[models.Model], names: tuple[str, ...], where: str
    ) -> dict[str, Any]:
        if not isinstance(row, dict):
            raise ReleaseError(f"{where}: expected an object, got {type(row).__name__}.")
        # The structured study fields and the plain summary came later (issue 12): a
        # release without them still loads, with "not reported" or empty in each.
        missing = [name for name in names if name not in row and name not in LATER_FIELDS]
        if missing:
            raise ReleaseError(f"{where}: missing {', '.join(missing)}.")
        return {
            name: (
                missing_value(model, name)
                if name not in row
                else empty_value(model, name)
                if row[name] is None
                else file_value(model, name, row[name])
            )
            for name in names
        }

    def ref(index: dict[str, Any], key: Any, what: str, where: str, *, optional: bool = False):
        if key in (None, "") and optional:
            return None
        try:
            return index[key]
        except (KeyError, TypeError):
            raise ReleaseError(
                f"{where}: refers to {what} {key!r}, which is not in the release."
            ) from None

    try:
        sources = {}
        for i, row in enumerate(data["sources"]):
            where = f"sources[{i}]"
            values = pick(row, Source, SOURCE_RELEASE_FIELDS, where)
            sources[values["key"]] = create(Source, f"source {values['key']!r}", values)
        abnormalities = {}
        for i, row in enumerate(data["abnormalities"]):
            values = pick(row, Abnormality, ABNORMALITY_RELEASE_FIELDS, f"abnormalities[{i}]")
            abnormalities[values["slug"]] = create(
                Abnormality, f"abnormality {values['slug']!r}", values
            )
        lab_tests = {}
        for i, row in enumerate(data["lab_tests"]):
            where = f"lab test {row.get('slug') if isinstance(row, dict) else i!r}"
            values = pick(row, LabTest, (*LAB_TEST_RELEASE_FIELDS, "abnormalities"), where)
            linked = values.pop("abnormalities") or []
            test = create(LabTest, where, values)
            test.abnormalities.set([ref(abnormalities, s, "abnormality", where) for s in linked])
            lab_tests[values["slug"]] = test
        therapies = {}
        for i, row in enumerate(data["therapies"]):
            values = pick(row, Therapy, THERAPY_RELEASE_FIELDS, f"therapies[{i}]")
            therapies[values["slug"]] = create(Therapy, f"therapy {values['slug']!r}", values)

        findings: dict[str, Finding] = {}
        finding_links = []
        for i, row in enumerate(data["findings"]):
            where = f"finding {row.get('id') if isinstance(row, dict) else i!r}"
            values = pick(row, Finding, RELEASE_TABLES["findings"], where)
            claim_id = values.pop("id")
            values["source"] = ref(sources, values["source"], "source", where)
            values["abnormality"] = ref(
                abnormalities, values["abnormality"], "abnormality", where, optional=True
            )
            values["lab_test"] = ref(
                lab_tests, values["lab_test"], "lab test", where, optional=True
            )
            finding_links.append((claim_id, values.pop("contradicted_by") or [], where))
            if claim_id in findings:
                raise ReleaseError(f"{where}: the id is used twice.")
            findings[claim_id] = create(Finding, where, values)

        evidence: dict[str, TherapyEvidence] = {}
        evidence_links = []
        for i, row in enumerate(data["evidence"]):
            where = f"evidence {row.get('id') if isinstance(row, dict) else i!r}"
            values = pick(row, TherapyEvidence, RELEASE_TABLES["evidence"], where)
            claim_id = values.pop("id")
            values["therapy"] = ref(therapies, values["therapy"], "therapy", where)
            values["source"] = ref(sources, values["source"], "source", where)
            values["abnormality"] = ref(
                abnormalities, values["abnormality"], "abnormality", where, optional=True
            )
            evidence_links.append(
                (
                    claim_id,
                    values.pop("contradicted_by") or [],
                    values.pop("contradicting_findings") or [],
                    where,
                )
            )
            if claim_id in evidence:
                raise ReleaseError(f"{where}: the id is used twice.")
            evidence[claim_id] = create(TherapyEvidence, where, values)

        for i, row in enumerate(data["regulatory_statuses"]):
            where = f"regulatory_statuses[{i}]"
            values = pick(row, RegulatoryStatus, RELEASE_TABLES["regulatory_statuses"], where)
            values["therapy"] = ref(therapies, values["therapy"], "therapy", where)
            values["source"] = ref(sources, values["source"], "source", where)
            create(RegulatoryStatus, where, values)

        for i, row in enumerate(data["harms"]):
            where = f"harms[{i}]"
            values = pick(row, Harm, RELEASE_TABLES["harms"], where)
            values["therapy"] = ref(therapies, values["therapy"], "therapy", where)
            values["source"] = ref(sources, values["source"], "source", where)
            create(Harm, where, values)

        for i, row in enumerate(data["certainty_overrides"]):
            where = f"certainty_overrides[{i}]"
            values = pick(row, CertaintyOverride, RELEASE_TABLES["certainty_overrides"], where)
            values["therapy"] = ref(therapies, values["therapy"], "therapy", where)
            values["abnormality"] = ref(
                abnormalities, values["abnormality"], "abnormality", where, optional=True
            )
            create(CertaintyOverride, where, values)

        for i, row in enumerate(data["glossary_terms"]):
            where = f"glossary_terms[{i}]"
            values = pick(row, GlossaryTerm, RELEASE_TABLES["glossary_terms"], where)
            values["source"] = ref(sources, values["source"], "source", where, optional=True)
            create(GlossaryTerm, where, values)

        for claim_id, others, where in finding_links:
            findings[claim_id].contradicted_by.set(
                [ref(findings, other, "finding", where) for other in others]
            )
        for claim_id, others, contradicting, where in evidence_links:
            evidence[claim_id].contradicted_by.set(
                [ref(evidence, other, "evidence", where) for other in others]
            )
            evidence[claim_id].contradicting_findings.set(
                [ref(findings, other, "finding", where) for other in contradicting]
            )
    except (TypeError, AttributeError, ValueError) as exc:
        # A value of the wrong shape (a number where a list belongs, …).
        raise ReleaseError(f"{RELEASE_JSON} holds a value of the wrong type: {exc}") from exc

    # The certainty ratings are derived, not carried: they are computed from what was
    # loaded (treatments/certainty.py), in the same transaction.
    certainty_recompute()
    return ReleaseReport(
        release=release, counts={t: len(data[t]) for t in RELEASE_TABLES}, drafts=drafts
    )
