"""The curators' admin at 1366 x 768 in a real browser (Debian's chromium through
Playwright): every list shows its status column without scrolling sideways, in
compact rows; the index lists the tasks; a review button on a page with unsaved
changes refuses and keeps them. Screenshots go to screenshots/."""

from __future__ import annotations

import pytest

from curation.models import Contribution, ContributionKind, Status
from curation.services import record_reject, record_submit
from tests import factories
from tests.browser import has_sideways_scroll
from tests.browser import screenshot as take_screenshot
from treatments.models import TherapyEvidence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
PASSWORD = "correct horse battery staple"

LISTS = [
    "findings/source",
    "findings/finding",
    "findings/abnormality",
    "findings/labtest",
    "treatments/therapy",
    "treatments/therapyevidence",
    "treatments/regulatorystatus",
]

# Lengths and shapes of the seed's longest values (titles, keys, statements).
LONG_STATEMENT = (
    "At week 40, placebo-adjusted exercise tolerance improved 21.3% (ITT, p=0.047), or "
    "28% in per-protocol patients, and the use of concomitant drugs fell; the trial "
    "selected patients with a severe, debilitating course of at least a year."
)


@pytest.fixture
def page(browser):
    """A laptop-sized page of the session's chromium (tests/conftest.py)."""
    context = browser.new_context(viewport=LAPTOP, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Script errors (the admin has no favicon: the browser's request for one is a 404
    # in the console, and not this page's fault).
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    yield page
    context.close()


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def wrote(user, record) -> None:
    from django.contrib.contenttypes.models import ContentType

    Contribution.objects.create(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        user=user,
        kind=ContributionKind.EDITED,
    )


def fill_like_the_seed(curator) -> None:
    therapy = factories.make_therapy(
        name="Intravenous immunoglobulin", aliases="IVIG\nImmunoglobulin G therapy"
    )
    abnormality = factories.make_abnormality(name="NK-cell TRPM3 ion-channel dysfunction")
    for n in range(6):
        source = factories.make_source(
            key=f"reg_inosine_pranobex_uk_smpc_{n}",
            title="IMUNOVIR 500 mg Tablets - Summary of Product Characteristics, electronic "
            "Medicines Compendium, revised edition",
            authors="Hemispherx Biopharma (sponsor), Strayer DR, Carter WA",
            doi=f"10.1186/1479-5876-9-8{n}",
            pmid=f"2161966{n}",
            retracted=n == 0,
        )
        records = [
            source,
            factories.make_evidence(
                therapy=therapy,
                abnormality=abnormality,
                source=source,
                statement=LONG_STATEMENT,
                link_kind="rationale",
                direction="does_not_support",
                status=Status.SUBMITTED,
            ),
            factories.make_finding(
                abnormality=abnormality, source=source, statement=LONG_STATEMENT
            ),
            factories.make_regulatory_status(
                therapy=therapy,
                source=source,
                jurisdiction="European Union",
                regulatory_status="approved_other",
                date_note="Since 2000 per Wikipedia (2025-08 snapshot); not checked.",
                statement=LONG_STATEMENT,
            ),
            factories.make_lab_test(measures=LONG_STATEMENT),
        ]
        for record in records:
            wrote(curator, record)
    for record in (therapy, abnormality):
        wrote(curator, record)


def test_every_curated_list_shows_its_status_column_at_1366_px(live_server, page):
    factories.make_editor(username="erin")
    fill_like_the_seed(factories.make_curator(username="ana.long-name@example.org"))
    log_in(page, live_server, "erin")

    for name in LISTS:
        page.goto(f"{live_server.url}/admin/{name}/")
        take_screenshot(page, f"admin-list-{name.replace('/', '-')}-1366")
        assert not has_sideways_scroll(page), name
        table = page.locator("#changelist .results")
        # The table does not scroll inside its own box either.
        assert table.evaluate("e => e.scrollWidth <= e.clientWidth"), name
        status = page.locator("#result_list thead th.column-status_shown")
        box = status.bounding_box()
        assert box is not None and box["x"] + box["width"] <= LAPTOP["width"], name
        author = page.locator("#result_list tbody td.field-author").first
        assert author.inner_text() == "ana.long-name", name
        heights = page.locator("#result_list tbody tr").evaluate_all(
            "rows => rows.map(r => r.getBoundingClientRect().height)"
        )
        # Two to four lines a row (the list used to take ~150 px a row).
        assert max(heights) <= 100, (name, heights)
    assert page.script_errors == []


def test_the_index_lists_the_tasks_one_line_each(live_server, page):
    factories.make_editor(username="erin")
    log_in(page, live_server, "erin")

    take_screenshot(page, "admin-index-by-task-1366")
    findings = page.locator(".task-line.task-finding th")
    assert findings.inner_text() == "Findings: is this abnormality seen in ME/CFS?"
    line_height = page.locator(".task-line.task-therapyevidence").bounding_box()["height"]
    assert line_height < 40  # one line
    assert not has_sideways_scroll(page)


def test_a_review_button_on_a_page_with_unsaved_changes_refuses_and_keeps_them(live_server, page):
    curator = factories.make_curator(username="ana")
    record = factories.make_evidence(status=Status.DRAFT, created_by=curator, statement="Old.")
    log_in(page, live_server, "ana")
    url = f"{live_server.url}/admin/treatments/therapyevidence/{record.pk}/change/"

    page.goto(url)
    # A draft's note for the history is folded away under its name.
    note = page.locator("details", has_text="Note for the history (optional)")
    assert note.count() == 1 and note.get_attribute("open") is None
    page.fill("#id_statement", "Typed, not saved.")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_selector(".errornote")

    take_screenshot(page, "admin-unsaved-refused-1366")
    assert "Save your changes first" in page.locator("#content-main").inner_text()
    assert page.input_value("#id_statement") == "Typed, not saved."
    assert TherapyEvidence.objects.get(pk=record.pk).status == Status.DRAFT

    # Save, then the same button works.
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_selector(".messagelist")
    assert "Submitted for review" in page.locator(".messagelist").inner_text()
    record.refresh_from_db()
    assert (record.status, record.statement) == (Status.SUBMITTED, "Typed, not saved.")


def test_the_history_shows_each_reason_in_full(live_server, page):
    curator = factories.make_curator(username="ana")
    factories.make_editor(username="erin")
    note = (
        "The quote on page 4 is not in the paper: it is the review's summary of the "
        "trial, not the trial's own words. Please give the level as E."
    )
    record = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    record_submit(record=record, user=curator)
    record_reject(record=record, user=factories.make_editor(), note=note)
    log_in(page, live_server, "erin")

    page.goto(f"{live_server.url}/admin/treatments/therapyevidence/{record.pk}/history/")

    take_screenshot(page, "admin-history-reasons-1366")
    reasons = page.locator("#change-history td.history-reason").all_inner_texts()
    assert reasons[0] == f"Rejected: {note}"
    assert reasons[-1] == "Created (no reason given)"
    assert "None" not in page.locator("#change-history").inner_text()
