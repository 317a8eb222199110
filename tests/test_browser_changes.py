"""/changes/ in a real browser (Debian's chromium through Playwright), on a phone:
after a publish and a retraction, the page lists both, and the footer names the
version. Screenshots go to screenshots/."""

from __future__ import annotations

import pytest

from curation.models import DataChangeAction, Status
from curation.services import record_publish, record_retract, record_submit
from curation.versions import data_version_batch, data_version_record
from tests import factories
from tests.browser import PHONE, has_sideways_scroll
from tests.browser import screenshot as take_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser):
    """A phone-sized page of the session's chromium (tests/conftest.py)."""
    context = browser.new_context(viewport=PHONE, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    yield page
    context.close()


def test_a_reader_sees_what_the_latest_versions_changed(live_server, page):
    curator, editor = factories.make_curator(), factories.make_editor()
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")
    source = factories.make_source(title="Natural killer cell function in ME/CFS")
    with data_version_batch():  # a first version, as the seed load makes it
        for record in (nk, source):
            data_version_record(record=record, action=DataChangeAction.ADDED)
    ldn = factories.make_therapy(
        name="Low-dose naltrexone", slug="ldn", status=Status.DRAFT, created_by=curator
    )
    record_submit(record=ldn, user=curator)
    record_publish(record=ldn, user=editor)
    evidence = factories.make_evidence(therapy=ldn, abnormality=nk, source=source)
    data_version_record(
        record=evidence, action=DataChangeAction.REVISED, fields=["level", "statement"]
    )
    sizofiran = factories.make_therapy(name="Sizofiran", slug="sizofiran")
    record_retract(
        record=sizofiran,
        user=editor,
        note="The 2025 article's Phase II trial for CFS could not be found in any registry.",
    )

    page.goto(f"{live_server.url}/changes/")

    assert page.title().startswith("Changes")
    headings = page.locator("section.data-version h2").all_inner_texts()
    assert headings == ["Data version 4", "Data version 3", "Data version 2", "Data version 1"]
    assert page.get_by_role("link", name="Low-dose naltrexone").first.get_attribute("href") == (
        "/treatments/ldn/"
    )
    assert page.get_by_text("Why it was retracted:").is_visible()
    assert "changed: level, statement" in page.locator("#version-3").inner_text()
    footer = page.locator("footer.site-footer").inner_text()
    assert "Data version 4" in footer
    assert not has_sideways_scroll(page)
    assert page.console_errors == []
    path = take_screenshot(page, "changes-phone")
    assert path.stat().st_size > 0

    page.get_by_role("link", name="Data version 1", exact=True).click()
    page.wait_for_url(f"{live_server.url}/changes/1/")
    assert page.locator("h1").inner_text() == "Data version 1"
    take_screenshot(page, "changes-version-phone")
