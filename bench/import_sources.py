"""How long the source import's preview takes for a file of 5,000 entries, on SQLite.

    DEBUG=1 .venv/bin/python bench/import_sources.py [--entries 5000] [--existing 5000]
        [--format bibtex|ris] [--references ../shared/data/references.json]

Builds a throw-away SQLite database (a temporary file, migrated), fills it with
``--existing`` sources, and writes a file of ``--entries`` entries made from the
records of references.json: each entry keeps a real record's authors, journal and
year, with a title of words drawn from all the references' titles (so titles vary
like a real library's) and its own DOI and PMID; one entry in ten repeats an existing
source's DOI, one in twenty an existing title, one in fifty an earlier entry of the
file. Then it times, separately: reading the file (the parser), judging every entry
(``import_preview``: one query, rapidfuzz within a year), and rendering the admin's
preview page. Results go to docs/performance.md ("Importing sources"); this is not a
test and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--existing", type=int, default=5000)
    parser.add_argument("--format", choices=["bibtex", "ris"], default="bibtex")
    parser.add_argument(
        "--references",
        default=os.environ.get("MECFS_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
        + "/references.json",
    )
    args = parser.parse_args()

    db = Path(tempfile.mkdtemp()) / "bench-import.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mecfs_kb.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _run(args)


def _run(args) -> None:
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext

    from curation.models import Status
    from findings.citations import sources_bibtex, sources_ris
    from findings.importing import import_preview, import_read
    from findings.models import Source

    refs = [r for r in json.loads(Path(args.references).read_text()) if r["title"]]
    words = sorted({w for r in refs for w in r["title"].split() if len(w) > 3})
    rng = random.Random(2026)

    def title() -> str:
        return " ".join(rng.sample(words, rng.randint(8, 14)))

    existing = []
    for n in range(args.existing):
        ref = refs[n % len(refs)]
        existing.append(
            Source(
                key=f"existing{n}",
                kind="journal_article",
                title=title(),
                authors=ref["authors"] or "",
                container=ref["journal"] or "",
                year=1980 + n % 46,
                doi=f"10.5555/bench.existing.{n}",
                status=Status.PUBLISHED,
            )
        )
    Source.objects.bulk_create(existing, batch_size=500)

    entries = []
    for n in range(args.entries):
        ref = refs[n % len(refs)]
        entry = Source(
            key=f"entry{n}",
            kind="journal_article",
            title=title(),
            authors=ref["authors"] or "",
            container=ref["journal"] or "",
            year=1980 + (n * 7) % 46,
            doi=f"10.5555/bench.file.{n}",
            pmid=str(30000000 + n),
        )
        if n % 10 == 1:
            entry.doi = existing[n % len(existing)].doi
        elif n % 20 == 3:
            entry.title, entry.year = existing[n].title + ".", existing[n].year
        elif n % 50 == 7 and n > 50:
            entry.doi = entries[n - 50].doi
        entries.append(entry)
    writer = sources_bibtex if args.format == "bibtex" else sources_ris
    data = writer(entries).encode()

    started = time.perf_counter()
    imported = import_read(data, filename=f"bench.{args.format}")
    read = time.perf_counter() - started
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        import_preview(imported)
        judged = time.perf_counter() - started
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        render_to_string(
            "admin/findings/source/import_preview.html",
            {
                "imported": imported,
                "counts": imported.counts(),
                "new_count": 1,
                "opts": Source._meta,
            },
        )
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    started = time.perf_counter()
    html = render_to_string(
        "admin/findings/source/import_preview.html",
        {"imported": imported, "counts": imported.counts(), "new_count": 1, "opts": Source._meta},
    )
    rendered = time.perf_counter() - started

    print(
        f"file: {args.format}, {len(data) / 1024 / 1024:.1f} MB, {args.entries} entries; "
        f"{args.existing} sources in the database (SQLite)"
    )
    print(f"read (parse):      {read:6.2f} s")
    print(f"judge (verdicts):  {judged:6.2f} s  ({len(queries)} queries)")
    print(f"render (admin):    {rendered:6.2f} s  ({len(html) / 1024 / 1024:.1f} MB of HTML)")
    print(f"preview in total:  {read + judged + rendered:6.2f} s")
    print(imported.counts_line())


if __name__ == "__main__":
    main()
