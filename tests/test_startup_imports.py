"""A web worker starts without the libraries that only curators' tools use (issue 14,
part 5): the citation readers and writers, the lookup's HTTP client, the near-duplicate
matcher and the reading grade are imported where they are used
(findings/citation_libraries.py says why), and the tools still work (their own tests:
test_import_*.py, test_citations*.py, test_source_lookup.py, test_plain_summaries.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Imported by the curators' tools only, each costing a worker memory it keeps.
CURATOR_LIBRARIES = ("bibtexparser", "rispy", "Bio", "pylatexenc", "httpx", "rapidfuzz", "textstat")
# What a worker imports at start that used to import them: if these were not loaded, the
# test would prove nothing.
IMPORTERS = (
    "findings.admin",
    "findings.admin_import",
    "findings.importing",
    "findings.citations",
    "findings.duplicates",
    "findings.lookup.http",
    "findings.readability",
)

SCRIPT = f"""
import json, sys
import django
django.setup()  # the admin's modules too (autodiscover)
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver
get_wsgi_application()
get_resolver().url_patterns  # every view module of the URL configuration
names = {CURATOR_LIBRARIES + IMPORTERS!r}
print(json.dumps([name for name in names if name in sys.modules]))
"""


def test_a_worker_starts_without_the_curators_libraries():
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "mecfs_kb.settings"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert set(IMPORTERS) <= loaded
    assert loaded.isdisjoint(CURATOR_LIBRARIES), sorted(loaded & set(CURATOR_LIBRARIES))
