"""A curator previews a draft in a real browser (Debian's chromium through Playwright),
under the strict Content-Security-Policy: "View on site" on a draft therapy's admin page
opens the readers' page marked as a preview; the Preview button on a draft claim opens
its parent's page, with the claim marked. Screenshots go to screenshots/."""

from __future__ import annotations

import pytest

from curation.models import Status
from curation.preview import preview_url
from tests import factories
from tests.browser import PHONE, has_sideways_scroll, screenshot

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.browser

# Collects every CSP violation the page reports; installed before any page script runs.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile);
});
"""


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_VIOLATIONS)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def assert_no_csp_violation(page) -> None:
    assert page.evaluate("window.__cspViolations") == []


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


@pytest.mark.django_db(transaction=True)
def test_a_curator_opens_view_on_site_on_a_draft_therapy_and_sees_the_preview_banner(
    live_server, context
):
    curator = factories.make_curator(username="carla")
    therapy = factories.make_therapy(
        name="Rintatolimod",
        slug="rintatolimod",
        aliases="Ampligen",
        summary="A draft summary that readers cannot see yet.",
        status=Status.DRAFT,
        created_by=curator,
    )
    page = context.new_page()
    log_in(page, live_server, "carla")

    page.goto(f"{live_server.url}/admin/treatments/therapy/{therapy.pk}/change/")
    assert page.locator(".preview-row a.button").inner_text() == "Preview"
    screenshot(page, "preview-admin-draft-therapy")
    page.click("a.viewsitelink")
    page.wait_for_url(f"{live_server.url}{preview_url(therapy)}")

    banner = page.locator("#preview-banner")
    assert banner.is_visible()
    assert "Preview — not public. Status: draft." in banner.inner_text()
    assert page.locator("h1").inner_text() == "Rintatolimod"
    assert "A draft summary that readers cannot see yet." in page.inner_text("main")
    assert page.locator('meta[name="robots"]').get_attribute("content") == "noindex,nofollow"
    # The banner is the first thing on the page, above the site's header.
    banner_box = banner.bounding_box()
    assert banner_box["y"] < page.locator(".site-header").bounding_box()["y"]
    assert_no_csp_violation(page)
    screenshot(page, "preview-draft-therapy")

    # Back to the admin from the banner.
    banner.get_by_role("link", name="Back to the therapy in the admin").click()
    page.wait_for_url(f"{live_server.url}/admin/treatments/therapy/{therapy.pk}/change/")

    # A reader who follows the same address finds nothing.
    reader = context.browser.new_page()
    response = reader.goto(f"{live_server.url}{preview_url(therapy)}")
    assert response.status == 404
    assert "Rintatolimod" not in reader.content()
    reader.close()


@pytest.mark.django_db(transaction=True)
def test_the_preview_button_of_a_draft_claim_opens_its_pair_page_with_the_claim_marked(
    live_server, context
):
    curator = factories.make_curator(username="carla")
    therapy = factories.make_therapy(name="Low dose naltrexone", slug="low-dose-naltrexone")
    abnormality = factories.make_abnormality(name="Low NK cell cytotoxicity")
    factories.make_evidence(
        therapy=therapy, abnormality=abnormality, statement="A published item, for context."
    )
    draft = factories.make_evidence(
        therapy=therapy,
        abnormality=abnormality,
        statement="NK cell function rose in treated patients (draft).",
        status=Status.DRAFT,
        created_by=curator,
    )
    page = context.new_page()
    log_in(page, live_server, "carla")
    page.goto(f"{live_server.url}/admin/treatments/therapyevidence/{draft.pk}/change/")

    # The Preview button opens a new tab, so that edits on the form are not lost.
    with context.expect_page() as opened:
        page.click(".preview-row a.button")
    preview = opened.value
    preview.wait_for_load_state()

    marked = preview.locator("article.previewed")
    assert "NK cell function rose in treated patients (draft)." in marked.inner_text()
    assert "Preview — not public: draft." in marked.inner_text()
    preview.get_by_role("link", name="go to it").click()
    assert preview.evaluate("location.hash") == "#previewed-claim"
    assert_no_csp_violation(preview)
    screenshot(preview, "preview-draft-evidence")

    preview.set_viewport_size(PHONE)
    assert not has_sideways_scroll(preview)
    screenshot(preview, "preview-draft-evidence-phone")
