"""Every page a curator or an editor uses, and the reader pages, pass axe-core's
automated accessibility check with no serious or critical violation.

axe-core runs in Debian's chromium through Playwright (the engine ships inside the
axe-playwright-python package: nothing is downloaded). Each test opens its pages one
by one, with the data that makes every part of them show (drafts, submitted claims, a
suggestion, a form with errors), and fails with one line per violation: the page, the
rule, the element and the page explaining the rule. Screenshots go to screenshots/."""

from __future__ import annotations

import re

import pytest
from django.urls import Resolver404, resolve, reverse
from playwright.sync_api import expect

from curation.accounts import account_password_link, account_set_role
from curation.models import Status
from curation.services import record_edit, record_retract
from tests import factories
from tests.browser import DESKTOP, PHONE, SCREENSHOTS, axe_report, axe_violations, screenshot
from treatments.views import pair_url

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, request):
    """A page in a light browser, or in a dark one (``indirect`` parametrisation): the
    admin follows the browser's colour scheme, with colours of its own."""
    scheme = getattr(request, "param", "light")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
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
    # Its "Harms and risks" section, on the therapy and source pages (issue 13).
    factories.make_harm(therapy=therapy, source=published.source, effect="Flu-like symptoms")
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


DANGLING_IDS = """() => {
  const missing = [];
  const attributes = ["aria-describedby", "aria-labelledby", "aria-controls", "aria-owns"];
  for (const attribute of attributes) {
    for (const element of document.querySelectorAll(`[${attribute}]`)) {
      for (const id of element.getAttribute(attribute).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) missing.push(`${element.tagName} ${attribute}=${id}`);
      }
    }
  }
  for (const label of document.querySelectorAll("label[for]")) {
    if (!document.getElementById(label.htmlFor)) missing.push(`label for=${label.htmlFor}`);
  }
  return missing;
}"""


class Checker:
    """Runs axe on pages one after another and keeps what failed, so that one test
    reports every page's violations at once; a screenshot of each page as checked."""

    def __init__(self, page, live_server, name: str, *, check_ids: bool = False):
        self.page, self.live_server, self.name = page, live_server, name
        self.check_ids = check_ids
        self.problems: list[str] = []
        scheme = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        self.prefix = f"a11y-{name}-{'dark' if scheme else 'light'}"
        self.count = 0

    def check(self, what: str) -> None:
        """The page as it is now (after clicks)."""
        self.count += 1
        screenshot(self.page, f"{self.prefix}-{self.count:02d}")
        report = axe_report(what, axe_violations(self.page))
        if report:
            self.problems.append(report)
        # axe-core accepts an aria-describedby with one id missing out of several, and
        # ignores one on a hidden element: every id referred to must be there.
        dangling = self.page.evaluate(DANGLING_IDS) if self.check_ids else []
        if dangling:
            self.problems.append(f"{what}: ids referred to but not on the page: {dangling}")

    def visit(self, path: str, status: int = 200) -> None:
        response = self.page.goto(f"{self.live_server.url}{path}")
        assert response is not None, path
        assert response.status == status, f"{path} answered {response.status}"
        self.check(path)

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def admin_url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


CURATED = (
    "findings_source",
    "findings_finding",
    "treatments_therapyevidence",
    "treatments_therapy",
    "findings_abnormality",
)


@pytest.mark.parametrize("page", ["light", "dark"], indirect=True)
@pytest.mark.django_db(transaction=True)
def test_the_pages_a_curator_uses_have_no_serious_accessibility_violation(live_server, page):
    data = build_curation_data()
    draft = data["draft_source"]
    log_in(page, live_server, "carla")
    checker = Checker(page, live_server, "curator")
    for path in [
        admin_url("index"),
        admin_url("my_work"),
        *(admin_url(f"{model}_changelist") for model in CURATED),
        *(admin_url(f"{model}_add") for model in CURATED),
        admin_url("findings_source_change", draft.pk),
        admin_url("findings_finding_change", data["draft_finding"].pk),
        admin_url("treatments_therapyevidence_change", data["draft_evidence"].pk),
        admin_url("treatments_therapy_change", data["therapy"].pk),
        admin_url("findings_abnormality_change", data["abnormality"].pk),
        admin_url("findings_source_history", draft.pk),
        admin_url("findings_source_simple_history", draft.pk, draft.history.earliest().pk),
        admin_url("findings_source_delete", draft.pk),
        admin_url("curation_suggestion_changelist"),
        admin_url("curation_suggestion_change", data["suggestion"].pk),
    ]:
        checker.visit(path)

    # The source page with a new row of each kind of claim, and an autocomplete list open.
    page.goto(f"{live_server.url}{admin_url('findings_source_add')}")
    for link in page.locator(".add-row a").all():
        link.click()
    page.locator("#id_findings-0-statement").wait_for()
    page.click("#id_findings-0-abnormality + .select2 .select2-selection")
    page.locator(".select2-results__option", has_text="Low NK cell cytotoxicity").wait_for()
    checker.check("source add form, a new claim of each kind, a list open")

    # A form sent back with errors: the messages and the fields they point at.
    page.goto(f"{live_server.url}{admin_url('findings_source_add')}")
    page.fill("#id_pmid", "PMID 12x")
    page.click("input[name=_save]")
    page.locator(".errornote").wait_for()
    checker.check("source add form with errors")

    checker.assert_clean()


@pytest.mark.parametrize("page", ["light", "dark"], indirect=True)
@pytest.mark.django_db(transaction=True)
def test_the_pages_an_editor_uses_have_no_serious_accessibility_violation(live_server, page):
    data = build_curation_data()
    submitted = data["submitted_source"]
    log_in(page, live_server, "erin")
    checker = Checker(page, live_server, "editor")
    for path in [
        admin_url("index"),
        admin_url("review_queue"),
        admin_url("findings_source_change", submitted.pk),
        admin_url("findings_source_review_with_claims", submitted.pk),
        admin_url("findings_source_deleted"),
        admin_url("curation_suggestion_changelist"),
        admin_url("curation_suggestion_change", data["suggestion"].pk),
        admin_url("findings_source_history", submitted.pk),
    ]:
        checker.visit(path)

    # Rejecting from a list asks for the note on a page of its own.
    page.goto(f"{live_server.url}{admin_url('findings_source_changelist')}")
    page.check(f"input[name=_selected_action][value='{submitted.pk}']")
    page.select_option("select[name=action]", "reject_selected")
    page.click("button[name=index]")
    page.locator("textarea").first.wait_for()
    checker.check("the reject action's note page")

    checker.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_the_login_and_password_pages_have_no_serious_accessibility_violation(live_server, page):
    user = account_set_role(email="new@example.org", role="curator").user
    link = account_password_link(user=user, base_url=live_server.url)
    checker = Checker(page, live_server, "login")
    checker.visit(admin_url("login"))
    # The one-time link redirects to the password form; then the "done" page.
    page.goto(link)
    page.locator("#id_new_password1").wait_for()
    checker.check("password set form")
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", "not the same")
    page.click("input[type=submit]")
    page.locator(".errorlist").wait_for()
    checker.check("password set form with an error")
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/reset/done/")
    checker.check("password set done")
    checker.assert_clean()


def reader_paths(data) -> list[tuple[str, int]]:
    """Every page a reader can reach, with the status it answers: lists with and without
    filters, each kind of detail page, search with results, without and empty, the
    glossary where there is one, and the 404 and 400 pages."""
    therapy, abnormality = data["therapy"], data["abnormality"]
    evidence = therapy.evidence.filter(status=Status.PUBLISHED).select_related("source").first()
    paths = [
        ("/", 200),
        ("/treatments/", 200),
        (f"/treatments/?abnormality={abnormality.slug}&level=C&kind=drug", 200),
        (therapy.get_absolute_url(), 200),
        (pair_url(therapy.slug, abnormality.slug), 200),
        ("/abnormalities/", 200),
        (abnormality.get_absolute_url(), 200),
        ("/sources/", 200),
        (evidence.source.get_absolute_url(), 200),
        ("/search/?q=NK", 200),
        ("/search/?q=zzqqxx", 200),
        ("/search/", 200),
        ("/gaps/", 200),
        ("/changes/", 200),
        ("/no-such-page/", 404),
        # A bad filter: the page says what is wrong (400), and still passes.
        ("/treatments/?level=Z", 400),
    ]
    try:
        resolve("/glossary/")
    except Resolver404:
        pass
    else:
        paths.append(("/glossary/", 200))
    # A therapy an editor retracted, asked for by its address: 410, with the reason.
    gone = factories.make_therapy(slug="withdrawn-therapy", name="Withdrawn therapy")
    record_retract(record=gone, user=data["editor"], note="Entered twice by mistake.")
    paths.append((gone.get_absolute_url(), 410))
    return paths


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.django_db(transaction=True)
def test_the_reader_pages_have_no_serious_accessibility_violation(live_server, browser, width):
    data = build_curation_data()
    context = browser.new_context(viewport=PHONE if width == "phone" else DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        checker = Checker(page, live_server, f"reader-{width}", check_ids=True)
        for path, status in reader_paths(data):
            checker.visit(path, status=status)
        # The therapy browser's filters, unfolded (folded on a phone, the panel hides them).
        page.goto(f"{live_server.url}/treatments/?abnormality={data['abnormality'].slug}")
        page.evaluate("document.getElementById('filter-panel').open = true")
        expect(page.locator("#id_level")).to_be_visible()
        checker.check("therapy browser, filters unfolded")
        checker.assert_clean()
    finally:
        context.close()


def fields_read_aloud(page) -> list[tuple[str, str, str]]:
    """The form fields as Chromium hands them to a screen reader (its accessibility
    tree, not a reimplementation): (role, name, value) each."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    return [
        (
            node["role"]["value"],
            node.get("name", {}).get("value", ""),
            str(node.get("value", {}).get("value", "")),
        )
        for node in nodes
        if not node.get("ignored") and node["role"]["value"] in ("combobox", "searchbox")
    ]


@pytest.mark.django_db(transaction=True)
def test_an_autocomplete_box_is_read_as_its_label_with_its_chosen_value(live_server, page):
    data = build_curation_data()
    log_in(page, live_server, "carla")

    page.goto(f"{live_server.url}{admin_url('findings_finding_change', data['draft_finding'].pk)}")
    page.locator(".select2-selection").first.wait_for()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator(".form-row.field-abnormality").screenshot(
        path=str(SCREENSHOTS / "a11y-autocomplete-box.png")
    )
    fields = fields_read_aloud(page)
    # As a <select> is read ("Level:"), its label and the chosen item, without the cross
    # that clears it; empty, its label still.
    assert ("combobox", "Abnormality:", "Low NK cell cytotoxicity") in fields
    assert ("combobox", "Lab test:", "") in fields
    assert (
        "combobox",
        "Level:",
        "B — controlled: one RCT or controlled clinical study in ME/CFS",
    ) in fields
    # The box one types in to add a contradicting finding (several values).
    assert ("searchbox", "Contradicted by:", "") in fields
    # An open list: its search box is named, and the box says which list it controls.
    box = page.locator("#id_abnormality + .select2 .select2-selection")
    box.click()
    page.locator(".select2-results__option", has_text="Low NK cell cytotoxicity").wait_for()
    assert ("searchbox", "Abnormality:", "") in fields_read_aloud(page)
    expect(box).to_have_attribute("aria-controls", "select2-id_abnormality-results")
    page.keyboard.press("Escape")
    expect(box).not_to_have_attribute("aria-controls", re.compile(".*"))

    # A row of a table (regulatory statuses) has no <label>: its column's heading names it.
    page.goto(f"{live_server.url}{admin_url('findings_source_add')}")
    page.locator(".add-row a", has_text="Add another Regulatory status").click()
    page.locator("#regulatory_statuses-0 .select2-selection").wait_for()
    fields = fields_read_aloud(page)
    assert ("combobox", "Therapy", "") in fields
    assert ("combobox", "Regulatory status", "---------") in fields
    row = page.locator("#regulatory_statuses-0")
    expect(row.get_by_role("textbox", name="Jurisdiction", exact=True)).to_have_count(1)
