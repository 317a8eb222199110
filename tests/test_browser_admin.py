"""The admin still works under the strict Content-Security-Policy, in a real browser.

Drives Debian's chromium through Playwright: log in, list, edit with autocomplete,
add with a prepopulated slug, run a review action; no CSP violation anywhere."""

from __future__ import annotations

import pytest

from curation.models import Status
from tests import factories
from treatments.models import Therapy, TherapyEvidence

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
def browser_page(browser):
    # The session's one chromium (tests/conftest.py): a second sync Playwright in the
    # same thread would refuse to start once another browser test has run.
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(WATCH_VIOLATIONS)
    console: list[str] = []
    page.on(
        "console",
        lambda msg: console.append(msg.text) if msg.type in ("error", "warning") else None,
    )
    page.console_problems = console
    try:
        yield page
    finally:
        context.close()


def assert_no_csp_violation(page) -> None:
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], violations
    csp_messages = [m for m in page.console_problems if "Content Security Policy" in m]
    assert csp_messages == [], csp_messages


@pytest.mark.django_db(transaction=True)
def test_an_editor_uses_the_admin_under_the_strict_policy(live_server, browser_page):
    page = browser_page
    factories.make_editor(username="erin")
    source = factories.make_source(key="brenu2011_nk", title="NK cell study")
    factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk-cell-cytotoxicity")
    therapy = factories.make_therapy(name="Low dose naltrexone", slug="low-dose-naltrexone")
    curator = factories.make_curator()
    submitted = factories.make_evidence(
        therapy=therapy, source=source, status=Status.SUBMITTED, submitted_by=curator
    )

    # Log in.
    page.goto(f"{live_server.url}/admin/login/")
    assert_no_csp_violation(page)
    page.fill("#id_username", "erin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert_no_csp_violation(page)

    # Canary: the policy really blocks an injected inline script, and the watcher sees it.
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__injected = true;"; document.body.append(s); }"""
    )
    # (Polled from here: wait_for_function would eval() in the page, which CSP refuses.)
    for _ in range(50):
        if page.evaluate("window.__cspViolations.length") > 0:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("window.__injected") is None
    assert any("Content Security Policy" in m for m in page.console_problems)
    page.evaluate("window.__cspViolations = []")
    page.console_problems.clear()

    # Change list, with its filters and actions (JavaScript: actions.js).
    page.goto(f"{live_server.url}/admin/treatments/therapyevidence/")
    page.check(f"input[name=_selected_action][value='{submitted.pk}']")
    assert page.locator(".action-counter").inner_text().startswith("1 of")
    page.select_option("select[name=action]", "publish_selected")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "Published" in page.locator(".messagelist").inner_text()
    assert TherapyEvidence.objects.get(pk=submitted.pk).status == Status.PUBLISHED
    assert_no_csp_violation(page)

    # Add form: the slug is prepopulated from the name (prepopulate.js).
    page.goto(f"{live_server.url}/admin/treatments/therapy/add/")
    page.locator("#id_name").press_sequentially("Inosine pranobex")  # keyup events
    assert page.input_value("#id_slug") == "inosine-pranobex"
    page.select_option("#id_kind", "drug")
    page.select_option("#id_stage", "investigational")
    page.fill("#id_summary", "A plain summary.")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    assert Therapy.objects.filter(slug="inosine-pranobex", status=Status.DRAFT).exists()
    assert_no_csp_violation(page)

    # Change form with autocomplete (select2 fetching from the admin's JSON view).
    page.goto(f"{live_server.url}/admin/treatments/therapyevidence/add/")
    page.click("#id_abnormality + .select2 .select2-selection")
    page.fill(".select2-search__field", "cytotox")
    option = page.locator(".select2-results__option", has_text="Low NK cell cytotoxicity")
    option.click()
    assert "Low NK cell cytotoxicity" in page.inner_text("#select2-id_abnormality-container")
    assert_no_csp_violation(page)

    # History page names the users.
    page.goto(f"{live_server.url}/admin/treatments/therapyevidence/{submitted.pk}/history/")
    assert "erin" in page.inner_text("#change-history")
    assert_no_csp_violation(page)


@pytest.mark.django_db(transaction=True)
def test_the_api_docs_work_under_the_strict_policy(live_server, browser_page):
    page = browser_page
    factories.make_evidence()

    page.goto(f"{live_server.url}/api/v1/docs/")
    # Swagger UI (from drf-spectacular-sidecar's static files) has loaded the schema.
    page.locator(".swagger-ui .info .title").wait_for()
    assert "ME/CFS Immune Knowledge Base API" in page.inner_text(".swagger-ui .info .title")
    page.locator("text=/api/v1/evidence/{id}/publish/").first.wait_for()
    # Try one read from the page itself (connect-src 'self').
    page.locator(".opblock-summary-path", has_text="/api/v1/therapies/").first.click()
    page.locator("button.try-out__btn").first.click()
    page.locator("button.execute").first.click()
    status = page.locator("table.live-responses-table tr.response td.response-col_status")
    status.first.wait_for()
    assert "200" in status.first.inner_text()
    assert_no_csp_violation(page)
