"""A new curator's whole path, as the README tells it, in a real browser (Debian's
chromium through Playwright): an administrator runs ``create_curator`` for a curator
and an editor; each opens the printed one-time link and sets a password; the curator
logs in, adds a source pasting ``PMID: …`` and a doi.org link, adds two claims on the
source's page, submits them together and logs out; the editor reviews the source with
its claims and publishes them; an anonymous reader sees both claims.

Nothing may be lost on the way: the identifiers are stored normalised and whole, the
claims' text exactly as typed, and no page answers 404 or 500. Screenshots of the key
steps go to screenshots/curator-path-*.png."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils.text import slugify
from playwright.sync_api import expect

from curation.models import Status
from findings.models import Finding, Source
from tests import factories
from tests.browser import screenshot

pytestmark = pytest.mark.browser

PASSWORD = "tulip quartz lantern 1987"

# One record of /work/shared/data/references.json ("lutz2021_igg"), copied verbatim:
# every field below was verified there (see its verified_fields). The claims are the
# seed's two findings from it (fixtures/seed.json), whose statement is the record's
# outcome_summary.
REFERENCE = {
    "key": "lutz2021_igg",
    "title": "Evaluation of Immune Dysregulation in an Austrian Patient Cohort Suffering "
    "from Myalgic Encephalomyelitis/Chronic Fatigue Syndrome",
    "authors": "Lena Lutz, Johanna Rohrhofer, Sonja Zehetmayer, Michael Stingl, Eva Untersmayr",
    "journal": "Biomolecules",
    "year": "2021",
    "pmid": "34572574",
    "doi": "10.3390/biom11091359",
    "study_design": "retrospective analysis of routine laboratory data",
    "n": "262 ME/CFS patients",
    "outcome_summary": "64.9% had a reduction in at least one immune parameter; 17.6% had "
    "an unclassified antibody deficiency, most often IgG3 and IgG4 subclass deficiency; "
    "reduced MBL in 32%.",
    "notes": "No control group in the abstract; IgG1 is not named as a common deficiency.",
}
# The claims' plain-language summary, as the seed words it for these two findings: needed
# to publish (issue 12), read first by readers.
PLAIN_SUMMARY = (
    "About two in three patients had at least one low immune test. Some had too little "
    "antibody, most often of the types IgG3 and IgG4."
)
# What a curator pastes: the identifiers as PubMed and the publisher's page show them.
PASTED_PMID = f"PMID: {REFERENCE['pmid']}"
PASTED_DOI = f"https://doi.org/{REFERENCE['doi']}"
VERIFICATION_NOTE = (
    "Fields seen on a stored copy of a public page: authors, doi, journal, n, "
    f"outcome_summary, pmid, study_design, title, year. Notes: {REFERENCE['notes']}"
)
CLAIMS = [
    # (abnormality typed into the autocomplete, its full name, curator's note)
    ("IgG3", "IgG3 subclass deficiency", "IgG1 is not named as a common deficiency."),
    ("IgG4", "IgG4 subclass deficiency", "No control group in the abstract."),
]


def create_account(email: str, role: str, base_url: str) -> str:
    """Runs the command as an administrator would; returns the link it prints."""
    out = StringIO()
    call_command("create_curator", email, "--role", role, "--base-url", base_url, stdout=out)
    printed = out.getvalue()
    assert f"Created {email} as {role}." in printed
    links = re.findall(r"^(http\S+)$", printed, flags=re.MULTILINE)
    assert len(links) == 1, printed
    return links[0]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Every answer of the site that is an error, and every script error, on every step.
    page.bad_responses = []
    page.on(
        "response",
        lambda r: page.bad_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    yield page
    context.close()


def set_password(page, link: str, name: str) -> None:
    """Opens the one-time link, chooses a password, follows "Log in"."""
    page.goto(link)
    page.get_by_label("New password:", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password:", exact=True).fill(PASSWORD)
    screenshot(page, f"curator-path-{name}-1-password")
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_text("Your password has been set.")).to_be_visible()
    page.get_by_role("link", name="Log in").click()


def log_in(page, email: str) -> None:
    page.get_by_label("Username:", exact=True).fill(email)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Logged out")).to_be_visible()


def choose(page, select_id: str, typed: str, option: str) -> None:
    """Picks ``option`` in an autocomplete box by typing ``typed``, as a person does."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=option).click()
    expect(page.locator(f"#select2-{select_id}-container")).to_contain_text(option)


@pytest.mark.django_db(transaction=True)
def test_a_new_curator_enters_a_paper_with_two_claims_and_an_editor_publishes_them(
    live_server, page
):
    abnormalities = [
        factories.make_abnormality(name=name, slug=slugify(name)) for _, name, _ in CLAIMS
    ]
    curator_link = create_account("carla@example.org", "curator", live_server.url)
    editor_link = create_account("erin@example.org", "editor", live_server.url)

    # --- The curator: password, log in, the source with its claims --------------------
    set_password(page, curator_link, "curator")
    log_in(page, "carla@example.org")
    screenshot(page, "curator-path-curator-2-home")
    page.locator("tr.task-source").get_by_role("link", name="Add").click()
    expect(page.get_by_role("heading", name="Add source")).to_be_visible()

    page.get_by_label("Key:", exact=True).fill(REFERENCE["key"])
    page.get_by_label("Kind:", exact=True).select_option(label="Journal article")
    page.get_by_label("Title:", exact=True).fill(REFERENCE["title"])
    page.get_by_label("Authors:", exact=True).fill(REFERENCE["authors"])
    page.get_by_label("Journal / site / publisher:", exact=True).fill(REFERENCE["journal"])
    page.get_by_label("Year:", exact=True).fill(REFERENCE["year"])
    page.get_by_label("DOI:", exact=True).fill(PASTED_DOI)
    page.get_by_label("PMID:", exact=True).fill(PASTED_PMID)
    page.get_by_label("Verification note:", exact=True).fill(VERIFICATION_NOTE)

    for n, (typed, name, note) in enumerate(CLAIMS):
        page.locator(".add-row a", has_text="Add another Finding").click()
        prefix = f"id_findings-{n}"
        choose(page, f"{prefix}-abnormality", typed, name)
        page.fill(f"#{prefix}-statement", REFERENCE["outcome_summary"])
        page.fill(f"#{prefix}-plain_summary", PLAIN_SUMMARY)
        page.select_option(f"#{prefix}-level", "C")
        page.select_option(f"#{prefix}-direction", "mixed")
        page.fill(f"#{prefix}-study_design", REFERENCE["study_design"])
        page.fill(f"#{prefix}-participants", REFERENCE["n"])
        page.fill(f"#{prefix}-curator_note", note)
    screenshot(page, "curator-path-curator-3-source-filled")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    screenshot(page, "curator-path-curator-4-source-saved")

    # The identifiers are stored as the bare identifiers, every digit kept, and the
    # page shows them so.
    source = Source.objects.get(key=REFERENCE["key"])
    assert (source.pmid, source.doi) == (REFERENCE["pmid"], REFERENCE["doi"])
    assert (source.title, source.authors) == (REFERENCE["title"], REFERENCE["authors"])
    assert source.verification_note == VERIFICATION_NOTE
    expect(page.get_by_label("PMID:", exact=True)).to_have_value(REFERENCE["pmid"])
    expect(page.get_by_label("DOI:", exact=True)).to_have_value(REFERENCE["doi"])
    findings = list(Finding.objects.filter(source=source).order_by("abnormality__name"))
    assert [f.abnormality for f in findings] == abnormalities
    for finding, (_, _, note) in zip(findings, CLAIMS, strict=True):
        assert finding.statement == REFERENCE["outcome_summary"]
        assert finding.plain_summary == PLAIN_SUMMARY
        assert (finding.study_design, finding.participants) == (
            REFERENCE["study_design"],
            REFERENCE["n"],
        )
        assert finding.curator_note == note
        assert finding.status == Status.DRAFT

    page.get_by_role("button", name="Submit with its 2 claims").click()
    expect(page.locator(".messagelist")).to_contain_text("for review with 2 claims of yours")
    screenshot(page, "curator-path-curator-5-submitted")
    source.refresh_from_db()
    assert source.status == Status.SUBMITTED
    assert {f.status for f in Finding.objects.filter(source=source)} == {Status.SUBMITTED}
    log_out(page)

    # --- The editor: password, log in, the queue, the review ---------------------------
    set_password(page, editor_link, "editor")
    log_in(page, "erin@example.org")
    waiting = page.locator("#review-waiting")
    expect(waiting).to_contain_text("3 drafts waiting for review")
    waiting.get_by_role("link", name="3 drafts waiting for review").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    screenshot(page, "curator-path-editor-2-queue")
    page.get_by_role("link", name=str(source)).first.click()
    page.get_by_role("link", name="Review the source with its 2 claims").click()
    expect(page.get_by_role("heading", name=f"Review “{source}” with its claims")).to_be_visible()
    for _, name, _ in CLAIMS:
        expect(page.get_by_role("checkbox", name=re.compile(name))).to_be_checked()
    screenshot(page, "curator-path-editor-3-review")
    page.get_by_role("button", name="Publish the checked, reject the others").click()
    expect(page.locator(".messagelist")).to_contain_text("with 2 of its claims; rejected 0")
    screenshot(page, "curator-path-editor-4-published")
    source.refresh_from_db()
    assert source.status == Status.PUBLISHED
    assert {f.status for f in Finding.objects.filter(source=source)} == {Status.PUBLISHED}
    log_out(page)

    # --- A reader: the source's page and each abnormality's page show the claims -------
    page.goto(f"{live_server.url}/sources/")
    page.get_by_role("link", name=re.compile(re.escape(REFERENCE["title"][:40]))).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(REFERENCE["title"])
    expect(page.get_by_role("link", name=f"PMID {REFERENCE['pmid']}")).to_be_visible()
    expect(page.get_by_role("link", name=REFERENCE["doi"], exact=True)).to_be_visible()
    statements = page.locator(".statement")
    expect(statements).to_have_count(2)
    for statement in statements.all():
        expect(statement).to_have_text(REFERENCE["outcome_summary"])
    expect(page.locator(".plain-summary")).to_have_text([PLAIN_SUMMARY] * 2)
    screenshot(page, "curator-path-reader-1-source")
    for abnormality in abnormalities:
        page.goto(f"{live_server.url}{abnormality.get_absolute_url()}")
        expect(page.get_by_role("heading", level=1)).to_have_text(abnormality.name)
        expect(page.get_by_text(REFERENCE["outcome_summary"], exact=True)).to_be_visible()
        screenshot(page, f"curator-path-reader-2-{abnormality.slug}")

    assert page.bad_responses == []
    assert page.script_errors == []
