"""The evidence-gap map and the pair page's certainty box in a real browser (Debian's
chromium through Playwright), on a phone (390 px) and a laptop (1366 px).

Run alone with ``pytest -m browser``. Without /usr/bin/chromium these tests skip,
except with CI=true, where they fail.
"""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser import PHONE, axe_violations, has_sideways_scroll, screenshot, served_once
from treatments.certainty import certainty_recompute

# Plain database tests: the records are committed once for the module and served by its
# own live server (``built_server``, tests/browser.py ``served_once``); each test runs in
# a transaction rolled back after it.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

LAPTOP = {"width": 1366, "height": 900}
TRIAL = {
    "design": "rct",
    "risk_of_bias": "low",
    "risk_of_bias_reason": "Randomised, blinded, no losses.",
    "selected_for_abnormality": "yes",
    "outcome_type": "clinical",
}


def build():
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")
    igg = factories.make_abnormality(name="Low IgG subclasses", slug="low-igg")
    ivig = factories.make_therapy(name="IVIG", slug="ivig")
    ldn = factories.make_therapy(name="Low dose naltrexone", slug="ldn")
    rationale = factories.make_therapy(name="Rationale only", slug="rationale-only")
    factories.make_evidence(therapy=ivig, abnormality=igg, patients=30, **TRIAL)
    for _ in range(2):
        factories.make_evidence(therapy=ldn, abnormality=nk, design="cohort", level="C")
    factories.make_evidence(
        therapy=rationale, abnormality=nk, design="expert_opinion", level="E", link_kind="rationale"
    )
    certainty_recompute()


@pytest.fixture(scope="module")
def built_server(request, django_db_setup, django_db_blocker):
    """A live server over ``build()``, made once for the module's tests, which only
    read, and removed after them."""
    with served_once(request, django_db_blocker, build) as server:
        yield server


@pytest.fixture
def open_page(browser):
    contexts = []

    def make(viewport):
        context = browser.new_context(viewport=viewport, reduced_motion="reduce")
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def test_on_a_phone_the_gap_map_is_a_list_per_abnormality(built_server, open_page):
    page = open_page(PHONE)
    page.goto(built_server.url + "/gaps/")

    assert page.locator(".gap-grid").is_hidden()
    lists = page.locator(".gap-list")
    assert lists.count() == 2
    nk = page.locator(".gap-list", has_text="Low NK cell cytotoxicity")
    assert "Synthesis gap" in nk.locator("li", has_text="Low dose naltrexone").inner_text()
    assert "Absolute gap" in nk.locator("li", has_text="Rationale only").inner_text()
    assert not has_sideways_scroll(page)
    assert axe_violations(page) == []
    screenshot(page, "gaps-phone")


def test_on_a_laptop_the_gap_map_is_a_grid_with_a_legend(built_server, open_page):
    page = open_page(LAPTOP)
    page.goto(built_server.url + "/gaps/")

    assert page.locator(".gap-lists").is_hidden()
    grid = page.locator(".gap-table")
    assert grid.is_visible()
    cell = grid.locator("td.gap-cell", has_text="Synthesis gap")
    assert "2 studies · 2 clinical · 0 controlled" in cell.inner_text()
    assert page.locator(".certainty-legend").first.is_visible()
    assert axe_violations(page) == []
    screenshot(page, "gaps-laptop")

    cell.locator("a").click()
    page.wait_for_url("**/treatments/ldn/abnormalities/low-nk/")
    assert page.locator(".certainty-box").is_visible()


def test_the_pair_page_opens_with_its_certainty_box_on_a_phone(built_server, open_page):
    page = open_page(PHONE)
    page.goto(built_server.url + "/treatments/ivig/abnormalities/low-igg/")

    box = page.locator(".certainty-box")
    assert "Low certainty that IVIG helps people with low IgG subclasses" in box.inner_text()
    assert not has_sideways_scroll(page)
    assert axe_violations(page) == []
    screenshot(page, "pair-certainty-phone")


def test_the_matrix_shows_certainty_marks_on_a_laptop(built_server, open_page):
    page = open_page(LAPTOP)
    page.goto(built_server.url + "/")

    assert "●●○○" in page.locator("table.matrix").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "matrix-certainty-laptop")
