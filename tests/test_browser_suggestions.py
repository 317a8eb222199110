"""An editor reviews a suggested change in a real browser (Debian's chromium through
Playwright), under the strict Content-Security-Policy: the index counts, the queue, the
word-by-word difference, and Accept. Screenshots go to screenshots/."""

from __future__ import annotations

import pytest

from curation.models import Status, Suggestion, SuggestionState
from curation.services import record_edit
from tests import factories
from tests.browser import screenshot
from treatments.models import TherapyEvidence

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.browser

# Collects every CSP violation the page reports; installed before any page script runs.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile);
});
"""

OLD_QUOTE = (
    "Natural killer cell cytotoxicity was significantly lower in patients than in "
    "controls, and it did not change over the twelve months of the study."
)
NEW_QUOTE = (
    "Natural killer cell cytotoxicity was significantly lower in patients than in "
    "non-fatigued controls, and it did not change over the 12 months of the study."
)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(WATCH_VIOLATIONS)
    yield page
    context.close()


def assert_no_csp_violation(page) -> None:
    assert page.evaluate("window.__cspViolations") == []


@pytest.mark.django_db(transaction=True)
def test_an_editor_reads_a_suggestions_difference_and_accepts_it(live_server, page):
    factories.make_editor(username="erin")
    author = factories.make_curator(username="carla")
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod")
    abnormality = factories.make_abnormality(name="Low NK cell cytotoxicity")
    evidence = factories.make_evidence(
        therapy=therapy,
        abnormality=abnormality,
        statement="NK cell cytotoxicity rose in treated patients.",
        quote=OLD_QUOTE,
    )
    factories.make_finding(status=Status.SUBMITTED, submitted_by=author)
    suggestion = record_edit(
        record=evidence,
        fields={
            "statement": "NK cell cytotoxicity rose in 12 of 20 treated patients.",
            "quote": NEW_QUOTE,
            "level": "C",
        },
        user=author,
        reason="The paper gives the numbers; the trial was open-label.",
    ).suggestion

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    waiting = page.locator("#review-waiting").inner_text()
    assert "1 draft waiting for review" in waiting
    assert "1 suggestion" in waiting
    assert_no_csp_violation(page)

    page.click("#review-waiting a:has-text('1 suggestion')")
    page.wait_for_selector("#review-queue")
    screenshot(page, "admin-review-queue")
    page.click(f"#review-queue a:has-text('{suggestion.label}')")
    page.wait_for_selector("#suggestion-diff")
    assert page.locator("#suggestion-diff ins", has_text="12 of 20").count() == 1
    assert page.locator("#suggestion-diff del", has_text="twelve").count() == 1
    assert page.locator("#suggestion-diff ins", has_text="non-fatigued").count() == 1
    # The stylesheet (a file: no inline style) marks what changed.
    background = page.locator("#suggestion-diff ins").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert_no_csp_violation(page)
    screenshot(page, "admin-suggestion-diff")

    page.fill("#id_note", "Checked against the paper.")
    page.click("input[value='Accept']")
    page.wait_for_selector(".messagelist")
    assert "Accepted" in page.locator(".messagelist").inner_text()
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionState.ACCEPTED
    assert TherapyEvidence.objects.get(pk=evidence.pk).quote == NEW_QUOTE
    assert_no_csp_violation(page)
    screenshot(page, "admin-suggestion-accepted")
