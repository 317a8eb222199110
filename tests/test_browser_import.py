"""A curator imports a BibTeX file in a real browser (Debian's chromium through
Playwright), under the strict Content-Security-Policy: the link on the sources list,
the upload, the preview with its verdicts, and the drafts. Screenshots go to
screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.models import Status
from findings.models import Source
from tests import factories
from tests.browser import screenshot

PASSWORD = "correct horse battery staple"
DATA = Path(__file__).parent / "data" / "import"

pytestmark = pytest.mark.browser

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile);
});
"""


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(WATCH_VIOLATIONS)
    yield page
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_curator_imports_a_bibtex_file_and_gets_drafts(live_server, page):
    factories.make_curator(username="ana@example.org")
    # Already in the knowledge base (shared/data/references.json: cabanas2021_ldn_trpm3).
    factories.make_source(key="cabanas2021_ldn_trpm3", pmid="34326841", year=2021)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ana@example.org")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/findings/source/")
    page.click("text=Import BibTeX / RIS / PubMed file")
    page.set_input_files("#id_file", str(DATA / "refs.bib"))
    screenshot(page, "admin-import-upload")
    page.click("input[type=submit]")
    page.wait_for_selector("table.import-entries")
    summary = page.locator(".import-summary").inner_text()
    assert "new 4" in summary and "duplicate 2" in summary and "invalid 1" in summary
    assert page.locator("input[name=entry]:checked").count() == 4
    assert (
        "Already a source: cabanas2021_ldn_trpm3"
        in page.locator("table.import-entries").inner_text()
    )
    screenshot(page, "admin-import-preview")
    assert page.evaluate("window.__cspViolations") == []

    # Untick the patent, create the other three.
    page.uncheck("#entry-5")
    page.locator("input[type=submit]").first.click()
    page.wait_for_selector(".messagelist")
    assert "Created 3 draft sources from refs.bib" in page.locator(".messagelist").inner_text()
    screenshot(page, "admin-import-done")
    assert Source.objects.filter(status=Status.DRAFT).count() == 3
    assert not Source.objects.filter(kind="patent").exists()
    assert page.evaluate("window.__cspViolations") == []
