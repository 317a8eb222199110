"""Every page a curator or an editor uses, and the reader pages, pass axe-core's
automated accessibility check with no serious or critical violation.

axe-core runs in Debian's chromium through Playwright (the engine ships inside the
axe-playwright-python package: nothing is downloaded). Each test opens its pages one
by one, with the data that makes every part of them show (drafts, submitted claims, a
suggestion, a form with errors), and fails with one line per violation: the page, the
rule, the element and the page explaining the rule. Screenshots go to screenshots/."""

from __future__ import annotations

import pytest
from django.urls import reverse

from curation.accounts import account_password_link, account_set_role
from curation.models import Status
from curation.services import record_edit
from tests import factories
from tests.browser import axe_report, axe_violations, screenshot

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def build_curation_data():
    """What a curator and an editor see on a working day: a curator's draft source with
    two draft claims, another source submitted with its claims, a suggestion waiting,
    published records to list."""
    curator = factories.make_curator(username="carla")
    editor = factories.make_editor(username="erin")
    abnormality = factories.make_abnormality(
        name="Low NK cell cytotoxicity", slug="low-nk-cell-cytotoxicity"
    )
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod")
    published = factories.make_evidence(therapy=therapy, abnormality=abnormality)
    factories.make_regulatory_status(therapy=therapy, source=published.source)
    factories.make_finding(abnormality=abnormality, source=published.source)

    draft_source = factories.make_source(
        status=Status.DRAFT, created_by=curator, title="A draft study of NK cells"
    )
    draft_finding = factories.make_finding(
        source=draft_source, abnormality=abnormality, status=Status.DRAFT, created_by=curator
    )
    draft_evidence = factories.make_evidence(
        source=draft_source,
        therapy=therapy,
        abnormality=abnormality,
        status=Status.DRAFT,
        created_by=curator,
    )
    submitted_source = factories.make_source(
        status=Status.SUBMITTED, created_by=curator, submitted_by=curator
    )
    for make in (factories.make_finding, factories.make_evidence):
        make(
            source=submitted_source,
            abnormality=abnormality,
            status=Status.SUBMITTED,
            created_by=curator,
            submitted_by=curator,
        )
    suggestion = record_edit(
        record=published,
        fields={"statement": "NK cell cytotoxicity rose in 12 of 20 treated patients."},
        user=curator,
        reason="The paper gives the numbers.",
    ).suggestion
    return {
        "curator": curator,
        "editor": editor,
        "abnormality": abnormality,
        "therapy": therapy,
        "draft_source": draft_source,
        "draft_finding": draft_finding,
        "draft_evidence": draft_evidence,
        "submitted_source": submitted_source,
        "suggestion": suggestion,
    }


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def check_pages(page, live_server, paths: list[str], *, name: str) -> list[str]:
    """Opens each path, runs axe on it; returns the report lines of what failed."""
    problems = []
    for n, path in enumerate(paths):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, (path, response and response.status)
        screenshot(page, f"a11y-{name}-{n:02d}")
        report = axe_report(path, axe_violations(page))
        if report:
            problems.append(report)
    return problems


def admin_url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


@pytest.mark.django_db(transaction=True)
def test_the_pages_a_curator_uses_have_no_serious_accessibility_violation(live_server, page):
    data = build_curation_data()
    log_in(page, live_server, "carla")
    paths = [
        admin_url("index"),
        admin_url("my_work"),
        *(
            admin_url(f"{model}_changelist")
            for model in (
                "findings_source",
                "findings_finding",
                "treatments_therapyevidence",
                "treatments_therapy",
                "findings_abnormality",
            )
        ),
        *(
            admin_url(f"{model}_add")
            for model in (
                "findings_source",
                "findings_finding",
                "treatments_therapyevidence",
                "treatments_therapy",
                "findings_abnormality",
            )
        ),
        admin_url("findings_source_change", data["draft_source"].pk),
        admin_url("findings_finding_change", data["draft_finding"].pk),
        admin_url("treatments_therapyevidence_change", data["draft_evidence"].pk),
        admin_url("treatments_therapy_change", data["therapy"].pk),
        admin_url("findings_abnormality_change", data["abnormality"].pk),
        admin_url("findings_source_history", data["draft_source"].pk),
        admin_url("curation_suggestion_changelist"),
        admin_url("curation_suggestion_change", data["suggestion"].pk),
    ]
    problems = check_pages(page, live_server, paths, name="curator")

    # The source page with a new row of each kind of claim, and an autocomplete list open.
    page.goto(f"{live_server.url}{admin_url('findings_source_add')}")
    for link in page.locator(".add-row a").all():
        link.click()
    page.locator("#id_findings-0-statement").wait_for()
    page.click("#id_findings-0-abnormality + .select2 .select2-selection")
    page.locator(".select2-search__field").first.wait_for()
    screenshot(page, "a11y-curator-new-claims")
    report = axe_report("source add form with new claims", axe_violations(page))
    if report:
        problems.append(report)

    # A form sent back with errors: the messages and the fields they point at.
    page.goto(f"{live_server.url}{admin_url('findings_source_add')}")
    page.fill("#id_pmid", "PMID 12x")
    page.click("input[name=_save]")
    page.locator(".errornote").wait_for()
    screenshot(page, "a11y-curator-errors")
    report = axe_report("source add form with errors", axe_violations(page))
    if report:
        problems.append(report)

    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_the_pages_an_editor_uses_have_no_serious_accessibility_violation(live_server, page):
    data = build_curation_data()
    log_in(page, live_server, "erin")
    paths = [
        admin_url("index"),
        admin_url("review_queue"),
        admin_url("findings_source_change", data["submitted_source"].pk),
        admin_url("findings_source_review_with_claims", data["submitted_source"].pk),
        admin_url("curation_suggestion_changelist"),
        admin_url("curation_suggestion_change", data["suggestion"].pk),
        admin_url("findings_source_history", data["submitted_source"].pk),
    ]
    problems = check_pages(page, live_server, paths, name="editor")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_the_login_and_password_pages_have_no_serious_accessibility_violation(live_server, page):
    user = account_set_role(email="new@example.org", role="curator").user
    link = account_password_link(user=user, base_url=live_server.url)
    problems = check_pages(page, live_server, [admin_url("login")], name="login")
    # The one-time link redirects to the password form; then the "done" page.
    page.goto(link)
    page.locator("#id_new_password1").wait_for()
    screenshot(page, "a11y-password-set")
    report = axe_report("password set form", axe_violations(page))
    if report:
        problems.append(report)
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/reset/done/")
    screenshot(page, "a11y-password-done")
    report = axe_report("password set done", axe_violations(page))
    if report:
        problems.append(report)
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_the_reader_pages_have_no_serious_accessibility_violation(live_server, page):
    data = build_curation_data()
    evidence = (
        data["therapy"].evidence.filter(status=Status.PUBLISHED).select_related("source").first()
    )
    paths = [
        "/",
        "/treatments/",
        data["therapy"].get_absolute_url(),
        "/abnormalities/",
        data["abnormality"].get_absolute_url(),
        "/sources/",
        evidence.source.get_absolute_url(),
        "/changes/",
    ]
    problems = check_pages(page, live_server, paths, name="reader")
    assert not problems, "\n".join(problems)
