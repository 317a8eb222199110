"""A curator fills a new source from its DOI in a real browser (Debian's chromium via
Playwright), without any script of ours and under the strict Content-Security-Policy:
paste, Look up, check, Save. The services answer from tests/recordings/."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.models import Status
from findings.models import Source
from tests import factories
from tests.browser import axe_report, axe_violations
from tests.lookup_recordings import reference

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_a_curator_fills_a_source_from_its_doi_checks_it_and_saves_a_draft(
    live_server, browser, services
):
    ref = reference("lutz2021_igg")
    services.crossref(ref["doi"], name="crossref/lutz2021_igg.json")
    services.europepmc(f'DOI:"{ref["doi"]}"', name="europepmc/doi_lutz2021_igg.json")
    factories.make_curator(username="ana")
    page = browser.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "ana")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")

        page.goto(f"{live_server.url}/admin/findings/source/add/")
        page.fill("#id_lookup_identifier", f"https://doi.org/{ref['doi']}")
        page.click("#source-lookup button[type=submit]")
        page.wait_for_selector(".messagelist")
        assert "Filled from Crossref" in page.inner_text(".messagelist")
        assert page.input_value("#id_title") == ref["title"]
        assert page.input_value("#id_pmid") == ref["pmid"]
        assert page.input_value("#id_doi") == ref["doi"]
        assert violations == []
        found = axe_violations(page)  # the filled form and its messages, read aloud too
        assert found == [], axe_report(page.url, found)
        violations.clear()  # axe-core's own injected styles, refused by the CSP as they should
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "admin-source-lookup.png"), full_page=True)
        assert not Source.objects.exists()  # nothing saved until the curator saves

        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist")
        source = Source.objects.get(doi=ref["doi"])
        assert source.status == Status.DRAFT and source.pmid == ref["pmid"]
        assert violations == []
    finally:
        page.close()
