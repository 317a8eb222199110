"""The three readers' tasks (issue 18), walked in a real browser on the seed knowledge
base, on a phone (390 x 844) and a laptop (1366 x 900):

- a patient on a phone: what was tried for low NK cell cytotoxicity, and how well;
- a clinician: a therapy's evidence, its harms and where it can be had;
- a researcher: the evidence-gap map, a pair's evidence and its download.

They fail if the answer moves below the first screen (nothing scrolled), if the for and
against counts of one pair differ between the matrix, the therapy list filtered by the
abnormality and the pair page, or if an internal key (a citation key, a slug, "Anon.")
reaches a reader. Run alone with ``pytest -m browser``; screenshots go to screenshots/.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from findings.models import Abnormality
from tests.browser import DESKTOP, PHONE, has_sideways_scroll, screenshot, served_once
from treatments.models import Therapy

# Plain database tests: the seed is committed once for the module and served by its own
# live server (``seeded_server``, tests/browser.py ``served_once``); each test runs in a
# transaction rolled back after it.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
NK = "Low NK cell cytotoxicity"
NK_SLUG = "low-nk-cell-cytotoxicity"
COUNTS = re.compile(r"(\d+) for\b.*?(\d+) against\b", re.S)
# Keys curators use for sources ("baraniuk2024_nk_meta", "polo2019_ldn",
# "rintatolimod_drugprofile2016"): lower-case words joined by "_", with a year.
CITATION_KEY = re.compile(r"\b(?=[a-z0-9_]*\d{4})(?=[a-z0-9]*_)[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def load_seed() -> None:
    call_command("load_seed", verbosity=0)
    call_command("load_literature", verbosity=0)


@pytest.fixture(scope="module")
def seeded_server(request, django_db_setup, django_db_blocker):
    """A live server over the seed and the literature, loaded once for the module's
    tests, which only read, and removed after them."""
    with served_once(request, django_db_blocker, load_seed) as server:
        yield server


def open_page(browser, width: str):
    context = browser.new_context(viewport=WIDTHS[width], reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def on_first_screen(page, locator, what: str) -> None:
    """The element is in the viewport as the page opened: nothing was scrolled."""
    assert page.evaluate("window.scrollY") == 0, f"{what}: the page opened scrolled"
    locator.wait_for()
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    assert box is not None, f"{what} is not shown"
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (
        f"{what} is {box['y'] + box['height']:.0f} px down, below the first screen ({height} px)"
    )


def counts(text: str) -> tuple[int, int]:
    match = COUNTS.search(text)
    assert match, f"no 'N for … M against' in {text!r}"
    return int(match[1]), int(match[2])


def pair_path(therapy_slug: str, abnormality_slug: str) -> str:
    return f"/treatments/{therapy_slug}/abnormalities/{abnormality_slug}/"


def the_patients_journey(page, seeded_server, width: str) -> dict:
    """Home → "Low NK cell cytotoxicity" → "Show therapies" → the first therapy's pair
    page. Fails at the first answer that is not on the first screen; returns the texts
    read on the way (the list's cards by therapy slug)."""
    page.goto(seeded_server.url + "/")
    start = page.get_by_role("heading", name="Start from an abnormality")
    on_first_screen(page, start, f"{width}: home's 'Start from an abnormality'")
    on_first_screen(page, page.get_by_role("button", name="Show therapies"), "the button")
    # The matrix is one tap away.
    on_first_screen(page, page.get_by_role("link", name="the evidence matrix"), "matrix link")
    screenshot(page, f"journey-patient-{width}-1-home")

    page.get_by_label("Abnormality", exact=True).select_option(label=NK)
    page.get_by_role("button", name="Show therapies").click()
    page.wait_for_url(f"**/treatments/?abnormality={NK_SLUG}")
    cards = page.locator("#results .card")
    first = cards.first
    on_first_screen(page, first.locator("h3"), f"{width}: the first therapy's name")
    # The evidence about the chosen abnormality (not all of the therapy's).
    evidence = first.locator(".facts .selected-counts", has_text=f"Evidence about {NK}")
    on_first_screen(page, evidence, f"{width}: the first therapy's for and against")
    on_first_screen(page, page.locator("#filter-summary"), "the filter panel's summary")
    assert "1 active" in page.locator("#filter-summary").inner_text()
    assert not has_sideways_scroll(page)
    screenshot(page, f"journey-patient-{width}-2-list")
    listed = {}
    for card in cards.all():
        href = card.locator("h3 a").get_attribute("href")
        listed[href.strip("/").split("/")[-1]] = card.inner_text()

    first.locator(".ties a", has_text=NK).click()
    page.wait_for_url(f"**/abnormalities/{NK_SLUG}/")
    answer = page.locator(".certainty-sentence")
    if not answer.count():
        answer = page.locator("dl.facts").first
    on_first_screen(page, answer, f"{width}: how well it worked, on the pair page")
    screenshot(page, f"journey-patient-{width}-3-pair")
    return {"listed": listed}


def test_a_patient_finds_what_was_tried_for_low_nk_cytotoxicity_on_the_first_screen(
    seeded_server, browser
):
    for width in WIDTHS:
        context, page = open_page(browser, width)
        try:
            seen = the_patients_journey(page, seeded_server, width)
        finally:
            context.close()
        assert {"low-dose-naltrexone", "inosine-pranobex"} <= set(seen["listed"])


def test_the_for_and_against_counts_of_a_pair_agree_on_the_matrix_the_list_and_its_page(
    seeded_server, browser
):
    context, page = open_page(browser, "phone")
    try:
        seen = the_patients_journey(page, seeded_server, "phone")
        page.goto(seeded_server.url + "/")
        disagreements = []
        for slug, card in seen["listed"].items():
            path = pair_path(slug, NK_SLUG)
            cell = page.locator(f'table.matrix a[href="{path}"]')
            on_matrix = counts(cell.inner_text()) if cell.count() else None
            in_list = counts(card.split(f"Evidence about {NK}", 1)[-1])
            pair = context.new_page()
            pair.goto(seeded_server.url + path)
            on_its_page = counts(pair.locator("dl.facts").first.inner_text())
            pair.close()
            if len({on_matrix or on_its_page, in_list, on_its_page}) > 1:
                disagreements.append(
                    f"{slug}: matrix {on_matrix}, list {in_list}, pair page {on_its_page}"
                )
        assert disagreements == [], "\n".join(disagreements)
    finally:
        context.close()


def the_clinicians_journey(page, seeded_server, width: str, slug: str) -> None:
    """A therapy's page: its name, its summary and one tap to its evidence, harms and
    access on the first screen; on a laptop the evidence in brief (level and counts per
    abnormality) too."""
    page.goto(f"{seeded_server.url}/treatments/{slug}/")
    on_first_screen(page, page.get_by_role("heading", level=1), f"{width}: the therapy's name")
    summary = page.locator("main p.lede")
    summary_top = summary.bounding_box()["y"]
    # Its first lines at least (a summary can be long).
    assert summary_top + 100 <= page.viewport_size["height"], f"{width}: the summary starts low"
    if width == "desktop":
        ties = page.locator("#targets-heading + ul.ties li, #targets-heading + p").first
        on_first_screen(page, ties, f"{width}: the abnormalities it is tied to, with counts")
    nav = page.get_by_role("navigation", name="On this page")
    for name in ("Evidence", "Where it can be had", "Harms and risks"):
        link = nav.get_by_role("link", name=name, exact=True)
        on_first_screen(page, link, f"{width}: the link to {name}")
    screenshot(page, f"journey-clinician-{width}-{slug}")
    for name, heading in [
        ("Evidence", "#targets-heading"),
        ("Harms and risks", "#harms-heading"),
        ("Where it can be had", "#access-heading"),
    ]:
        nav.get_by_role("link", name=name, exact=True).click()
        target = page.locator(heading)
        assert target.is_visible()
        box = target.bounding_box()
        assert -1 <= box["y"] < page.viewport_size["height"], f"{width}: {name} not in view"
        page.evaluate("window.scrollTo(0, 0)")
    assert not has_sideways_scroll(page)


def test_a_clinician_reads_a_therapys_evidence_harms_and_access_from_its_first_screen(
    seeded_server, browser
):
    for width in WIDTHS:
        context, page = open_page(browser, width)
        try:
            for slug in ("rintatolimod", "low-dose-naltrexone", "ivig"):
                if Therapy.objects.filter(slug=slug).exists():
                    the_clinicians_journey(page, seeded_server, width, slug)
        finally:
            context.close()


def the_researchers_journey(page, seeded_server, width: str) -> str:
    """The gap map: its tally and its download on the first screen; then a pairing's
    evidence. Returns the pair page's path."""
    page.goto(seeded_server.url + "/gaps/")
    on_first_screen(page, page.locator("#gaps-heading"), f"{width}: the gap map's tally")
    download = page.get_by_role("link", name="CSV (spreadsheet)")
    on_first_screen(page, download, f"{width}: the gap map's download")
    screenshot(page, f"journey-researcher-{width}-1-gaps")
    cell = page.locator(".gap-list li a" if width == "phone" else ".gap-table td a").first
    path = cell.get_attribute("href")
    cell.click()
    page.wait_for_url(f"**{path}")
    on_first_screen(page, page.get_by_role("heading", level=1), f"{width}: the pair's name")
    answer = page.locator(".certainty-sentence")
    on_first_screen(page, answer, f"{width}: how sure we are of the pair")
    screenshot(page, f"journey-researcher-{width}-2-pair")
    assert not has_sideways_scroll(page)
    return path


def test_a_researcher_reaches_the_gap_map_and_a_pairs_evidence_on_their_first_screens(
    seeded_server, browser
):
    for width in WIDTHS:
        context, page = open_page(browser, width)
        try:
            the_researchers_journey(page, seeded_server, width)
        finally:
            context.close()


def test_a_researcher_downloads_the_evidence_behind_a_pair_from_its_page(seeded_server, browser):
    context, page = open_page(browser, "desktop")
    try:
        the_researchers_journey(page, seeded_server, "desktop")
        for name in ("CSV", "JSON"):
            link = page.locator("main a[download]", has_text=name)
            assert link.count() >= 1, f"the pair page has no {name} download"
            response = page.request.get(seeded_server.url + link.first.get_attribute("href"))
            assert response.status == 200
    finally:
        context.close()


def internal_words(text: str, slugs: list[str]) -> list[str]:
    found = CITATION_KEY.findall(text)
    found += [slug for slug in slugs if slug in text]
    if "Anon." in text:
        found.append("Anon.")
    return found


def test_no_internal_key_reaches_a_reader_on_the_journeys(seeded_server, browser):
    # Slugs with two hyphens or more: a word of the language has none.
    slugs = [
        slug
        for model in (Therapy, Abnormality)
        for slug in model.objects.values_list("slug", flat=True)
        if slug.count("-") >= 2
    ]
    context, page = open_page(browser, "desktop")
    problems = []

    def read(what: str) -> None:
        found = internal_words(page.locator("main").inner_text(), slugs)
        if found:
            problems.append(f"{what} ({page.url}): {sorted(set(found))}")

    try:
        page.goto(seeded_server.url + "/")
        read("home and matrix")
        page.goto(f"{seeded_server.url}/treatments/?abnormality={NK_SLUG}")
        read("therapy list filtered by low NK cytotoxicity")
        therapy_paths = page.locator("#results .card h3 a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        for path in therapy_paths:
            page.goto(seeded_server.url + path)
            read("therapy page")
            page.goto(seeded_server.url + path + f"abnormalities/{NK_SLUG}/")
            read("pair page")
        for therapy in ("rintatolimod", "ivig"):
            page.goto(f"{seeded_server.url}/treatments/{therapy}/")
            read("therapy page")
        page.goto(f"{seeded_server.url}/abnormalities/{NK_SLUG}/")
        read("abnormality page")
        page.goto(seeded_server.url + "/gaps/")
        read("gap map")
        page.goto(seeded_server.url + "/search/?q=NK+cell+function")
        read("search")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


def test_the_internal_key_check_catches_what_it_is_meant_to():
    """The patterns above, on the issue's examples and on ordinary text."""
    slugs = ["low-nk-cell-cytotoxicity"]
    assert internal_words("see baraniuk2024_nk_meta and polo2019_ldn", slugs) == [
        "baraniuk2024_nk_meta",
        "polo2019_ldn",
    ]
    assert internal_words("PKR (rintatolimod_drugprofile2016); proposed", slugs) == [
        "rintatolimod_drugprofile2016"
    ]
    assert internal_words("Anon. n.d. A report", slugs) == ["Anon."]
    assert internal_words("tied to low-nk-cell-cytotoxicity", slugs) == ["low-nk-cell-cytotoxicity"]
    ordinary = "Low-dose naltrexone (LDN), 2019: 2 for · 0 against; IgG1, CD56bright, 2'-5'"
    assert internal_words(ordinary, slugs) == []
