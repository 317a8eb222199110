"""A reader in a real browser (Debian's chromium through Playwright), on a phone too.

Run alone with ``pytest -m browser``. Without /usr/bin/chromium these tests skip,
except with CI=true, where they fail.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from curation.models import Status
from curation.services import record_retract
from findings.models import Direction, Level
from tests import factories
from tests.browser import (
    PHONE,
    SCREENSHOTS,
    axe_report,
    axe_violations,
    has_sideways_scroll,
    screenshot,
)

pytestmark = [
    pytest.mark.browser,
    # The flush after a live-server test deletes the staff groups too; curation
    # creates them again on post_migrate, which the flush sends (curation/apps.py).
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=PHONE, reduced_motion="reduce")
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def build_knowledge_base():
    """The canonical names and slugs the seed uses, with made-up test claims."""
    nk = factories.make_abnormality(
        name="Low NK cell cytotoxicity",
        slug="low-nk-cell-cytotoxicity",
        component="NK cells",
        summary="Natural killer cells kill infected or abnormal cells less well.",
    )
    rnase = factories.make_abnormality(
        name="RNase L pathway dysfunction",
        slug="rnase-l-pathway-dysfunction",
        category="molecular_pathway",
        component="RNase L",
        change="dysfunctional",
    )
    igg1 = factories.make_abnormality(
        name="IgG1 subclass deficiency", slug="igg1-subclass-deficiency", category="humoral"
    )
    ldn = factories.make_therapy(
        name="Low-dose naltrexone", slug="low-dose-naltrexone", aliases="LDN"
    )
    inosine = factories.make_therapy(
        name="Inosine pranobex", slug="inosine-pranobex", aliases="Isoprinosine"
    )
    rintatolimod = factories.make_therapy(
        name="Rintatolimod", slug="rintatolimod", aliases="Ampligen", kind="biologic"
    )
    ivig = factories.make_therapy(
        name="Intravenous immunoglobulin", slug="ivig", aliases="IVIG", kind="biologic"
    )
    factories.make_evidence(therapy=ldn, abnormality=nk, level=Level.D)
    factories.make_evidence(therapy=inosine, abnormality=nk, level=Level.C)
    factories.make_evidence(
        therapy=inosine, abnormality=nk, level=Level.E, direction=Direction.DOES_NOT_SUPPORT
    )
    factories.make_evidence(therapy=rintatolimod, abnormality=rnase, level=Level.B)
    factories.make_evidence(therapy=rintatolimod, abnormality=None, level=Level.B)
    factories.make_evidence(therapy=ivig, abnormality=igg1, level=Level.C)
    factories.make_regulatory_status(therapy=rintatolimod, jurisdiction="Argentina")
    factories.make_finding(abnormality=nk, level=Level.B)
    # Never shown: a draft therapy tied to the same abnormality.
    draft = factories.make_therapy(name="Draft remedy", slug="draft-remedy", status=Status.DRAFT)
    factories.make_evidence(therapy=draft, abnormality=nk, level=Level.A)
    return {"nk": nk, "rnase": rnase, "rintatolimod": rintatolimod}


def therapy_names(page) -> list[str]:
    return page.locator("#results .card h3 > a").all_inner_texts()


def wait_for_cards(page, count: int) -> None:
    """Wait for htmx to swap in ``count`` result cards. A locator, not wait_for_function:
    that evaluates its predicate with eval(), which the site's Content-Security-Policy
    (no 'unsafe-eval') refuses."""
    from playwright.sync_api import expect

    expect(page.locator("#results .card")).to_have_count(count)


def test_a_reader_filters_by_low_nk_cell_cytotoxicity_and_sees_ldn_and_inosine_pranobex(
    live_server, page
):
    build_knowledge_base()
    page.goto(live_server.url + "/")
    page.get_by_label("Abnormality", exact=True).select_option(label="Low NK cell cytotoxicity")
    page.get_by_role("button", name="Show therapies").click()
    page.wait_for_url("**/treatments/?abnormality=low-nk-cell-cytotoxicity")

    assert therapy_names(page) == ["Inosine pranobex", "Low-dose naltrexone"]
    assert page.get_by_text("2 therapies found.").is_visible()
    screenshot(page, "therapies-filtered-phone")
    assert not has_sideways_scroll(page)
    assert page.console_errors == []


def test_a_reader_sees_retracted_evidence_on_the_pair_page_apart_with_its_reason(live_server, page):
    kb = build_knowledge_base()
    inosine = factories.make_therapy(name="Isoprinosine trial arm", slug="isoprinosine-arm")
    withdrawn = factories.make_evidence(
        therapy=inosine,
        abnormality=kb["nk"],
        level=Level.A,
        statement="Two randomised trials agreed that NK cytotoxicity rose.",
    )
    factories.make_evidence(therapy=inosine, abnormality=kb["nk"], level=Level.C)
    record_retract(
        record=withdrawn,
        user=factories.make_editor(),
        note="Only one of the two trials exists; the second citation is a duplicate.",
    )
    page.goto(
        live_server.url + "/treatments/isoprinosine-arm/abnormalities/low-nk-cell-cytotoxicity/"
    )

    # The summary counts the one published item: the retracted A lifts nothing.
    facts = page.locator("dl.facts").first.inner_text()
    assert "1 counted" in facts and "Uncontrolled clinical" in facts
    assert page.locator("#pair-evidence-heading ~ article.evidence").count() == 1
    group = page.get_by_role("region", name="Retracted evidence")
    assert group.is_visible()
    item = group.locator("article.retracted")
    assert item.count() == 1
    assert item.get_by_text("Retracted", exact=True).is_visible()
    assert "Only one of the two trials exists" in item.locator(".retraction-reason").inner_text()
    screenshot(page, "pair-retracted-phone")
    assert not has_sideways_scroll(page)
    assert page.console_errors == []


def test_a_reader_opens_the_matrix_cell_for_rnase_l_and_rintatolimod(live_server, page):
    build_knowledge_base()
    page.goto(live_server.url + "/")
    cell = page.get_by_role("link", name="RNase L pathway dysfunction and Rintatolimod: level B")
    cell.click()
    page.wait_for_url("**/treatments/rintatolimod/abnormalities/rnase-l-pathway-dysfunction/")

    assert page.get_by_role("heading", level=1).inner_text() == (
        "Rintatolimod and RNase L pathway dysfunction"
    )
    assert page.locator("article.evidence").count() == 1
    screenshot(page, "pair-rintatolimod-rnase-l-phone")
    assert page.console_errors == []


def test_on_a_phone_the_matrix_reads_as_a_list_per_abnormality_with_the_same_cells(
    live_server, page
):
    build_knowledge_base()
    page.goto(live_server.url + "/")
    # One tap from the top of the page to the matrix.
    page.get_by_role("link", name="the evidence matrix").click()
    page.wait_for_url("**/#matrix")
    box = page.locator(".matrix-box")
    assert not box.evaluate("el => el.scrollWidth > el.clientWidth")
    # A card per abnormality, its name first, then each filled cell on a line of its own
    # that names the therapy; the same links and numbers as the desktop's grid.
    row = page.locator("table.matrix tbody tr", has_text="Low NK cell cytotoxicity")
    cells = row.locator("td.cell a")
    assert cells.count() == 2
    names = [cell.locator(".cell-therapy").inner_text() for cell in cells.all()]
    assert sorted(names) == ["Inosine pranobex", "Low-dose naltrexone"]
    inosine = row.locator("td.cell a", has_text="Inosine pranobex")
    assert inosine.locator(".cell-therapy").is_visible()
    assert "1 for · 1 against" in inosine.inner_text()
    header = row.locator("th")
    assert header.bounding_box()["y"] < inosine.bounding_box()["y"]
    # Empty cells are not listed; a row with no filled cell says so.
    assert row.locator("td.cell-empty").first.is_hidden()
    screenshot(page, "home-matrix-list-phone")
    assert not has_sideways_scroll(page)


def test_on_a_narrow_laptop_the_matrix_scrolls_in_its_box_with_headers_in_view(
    live_server, browser
):
    kb = build_knowledge_base()
    for number in range(4):  # more columns than fit
        therapy = factories.make_therapy(name=f"Therapy {number}", slug=f"therapy-{number}")
        factories.make_evidence(therapy=therapy, abnormality=kb["nk"])
    context = browser.new_context(viewport={"width": 720, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/")
    box = page.locator(".matrix-box")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    row_header = page.get_by_role("rowheader", name="RNase L pathway dysfunction")
    box_left = box.bounding_box()["x"]
    # The row header is sticky: still at the left edge of the box after scrolling.
    assert abs(row_header.bounding_box()["x"] - box_left) < 3
    box.screenshot(path=str(SCREENSHOTS / "matrix-box-scrolled-narrow.png"))
    assert not has_sideways_scroll(page)
    context.close()


def test_the_filters_work_by_keyboard_only(live_server, page):
    build_knowledge_base()
    page.goto(live_server.url + "/treatments/")
    checkbox = page.get_by_role("checkbox", name="Low NK cell cytotoxicity")
    # On a phone the filters are folded: Tab to the panel's summary, Enter opens it.
    summary = page.locator("#filter-summary")
    for _ in range(20):
        page.keyboard.press("Tab")
        if summary.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the filter panel was never reached with Tab")
    page.keyboard.press("Enter")
    # Tab on until the checkbox has focus: it is reachable.
    for _ in range(40):
        page.keyboard.press("Tab")
        if checkbox.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the abnormality checkbox was never reached with Tab")
    assert checkbox.evaluate("el => getComputedStyle(el).outlineStyle") != "none"

    page.keyboard.press("Space")
    # htmx swaps the results in place and puts the filters in the address bar.
    page.wait_for_url("**/treatments/?**abnormality=low-nk-cell-cytotoxicity**")
    wait_for_cards(page, 2)
    assert therapy_names(page) == ["Inosine pranobex", "Low-dose naltrexone"]
    assert checkbox.evaluate("el => el === document.activeElement")
    # The panel's summary follows (htmx swaps it out of band).
    assert "1 active" in page.locator("#filter-summary").inner_text()

    level = page.get_by_label("Evidence level at least")
    level.focus()
    for _ in range(3):  # "any level" → "A or better" → "B or better" → "C or better"
        page.keyboard.press("ArrowDown")
    wait_for_cards(page, 1)
    assert therapy_names(page) == ["Inosine pranobex"]
    assert "level=C" in page.url
    screenshot(page, "therapies-keyboard-phone")
    assert page.console_errors == []


def test_the_filters_work_without_javascript(browser, live_server):
    build_knowledge_base()
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/treatments/")
    # The folded panel opens without JavaScript (a <details>).
    page.get_by_text("Filters", exact=True).click()
    page.get_by_role("checkbox", name="RNase L pathway dysfunction").check()
    page.get_by_role("button", name="Show therapies").click()
    page.wait_for_url("**abnormality=rnase-l-pathway-dysfunction**")
    assert therapy_names(page) == ["Rintatolimod"]
    # Folded again, the panel says what is chosen.
    summary = page.locator("#filter-summary")
    assert "1 active" in summary.inner_text()
    assert "RNase L pathway dysfunction" in summary.inner_text()
    assert page.locator("#results .card").first.is_visible()
    context.close()


def test_every_page_fits_a_phone_without_sideways_scroll_or_console_errors(live_server, page):
    kb = build_knowledge_base()
    source = kb["rintatolimod"].evidence.first().source
    factories.make_source(
        title="A retracted study with an extraordinarily long unbroken identifier",
        doi="10.1234/averyveryveryveryveryveryveryverylongdoisuffix-without-any-breaks-at-all",
        retracted=True,
        retraction_note="Withdrawn by the publisher.",
    )
    paths = {
        "home": "/",
        "therapies": "/treatments/",
        "therapy": "/treatments/rintatolimod/",
        "pair": "/treatments/inosine-pranobex/abnormalities/low-nk-cell-cytotoxicity/",
        "abnormalities": "/abnormalities/",
        "abnormality": "/abnormalities/low-nk-cell-cytotoxicity/",
        "sources": "/sources/",
        "source": source.get_absolute_url(),
        "search": "/search/?q=Ampligen",
        "bad-filter": "/treatments/?level=Z",
        "not-found": "/treatments/no-such-therapy/",
    }
    expected_status = {"bad-filter": 400, "not-found": 404}
    for name, path in paths.items():
        page.console_errors.clear()
        response = page.goto(live_server.url + path)
        status = expected_status.get(name, 200)
        assert response.status == status, (name, response.status)
        assert page.get_by_text("Not medical advice.").first.is_visible(), name
        screenshot(page, f"{name}-phone")
        assert not has_sideways_scroll(page), f"{name} scrolls sideways at 390px"
        # Chromium reports the page's own 400/404 status as a console error; nothing else may.
        own_status = f"the server responded with a status of {status}"
        errors = [e for e in page.console_errors if status == 200 or own_status not in e]
        assert errors == [], name


def test_with_the_seed_a_reader_finds_therapies_for_low_nk_function_and_their_sources(
    live_server, page
):
    """The issue's "done when", on the real seed knowledge base."""
    call_command("load_seed", verbosity=0)
    page.goto(live_server.url + "/")
    page.get_by_label("Abnormality", exact=True).select_option(label="Low NK cell cytotoxicity")
    page.get_by_role("button", name="Show therapies").click()
    page.wait_for_url("**/treatments/?abnormality=low-nk-cell-cytotoxicity")
    found = therapy_names(page)
    assert {"Low-dose naltrexone", "Inosine pranobex"} <= set(found)
    screenshot(page, "seed-therapies-low-nk-phone")

    page.get_by_role("link", name="Low-dose naltrexone").first.click()
    page.wait_for_url("**/treatments/low-dose-naltrexone/")
    page.locator("article.evidence dd a").first.click()
    page.wait_for_url("**/sources/*/")
    assert page.get_by_role("heading", name="Cite this").is_visible()
    screenshot(page, "seed-source-phone")

    page.goto(live_server.url + "/")
    page.locator(
        'a[href="/treatments/rintatolimod/abnormalities/rnase-l-pathway-dysfunction/"]'
    ).click()
    page.wait_for_url("**/treatments/rintatolimod/abnormalities/rnase-l-pathway-dysfunction/")
    assert page.locator("article.evidence").count() >= 1
    screenshot(page, "seed-pair-rintatolimod-rnase-l-phone")
    assert not has_sideways_scroll(page)
    assert page.console_errors == []


def test_fixing_a_bad_filter_in_place_clears_the_message(live_server, page):
    build_knowledge_base()
    response = page.goto(live_server.url + "/treatments/?level=Z")
    assert response.status == 400
    assert page.get_by_role("alert").is_visible()

    page.get_by_label("Evidence level at least").select_option("B")

    page.wait_for_url("**/treatments/?**level=B**")
    wait_for_cards(page, 1)
    assert page.get_by_role("alert").count() == 0
    assert therapy_names(page) == ["Rintatolimod"]


def test_on_the_seed_pair_page_every_card_opens_with_its_plain_summary(live_server, page):
    """Issue 12: the plain-language line is read first, above the level and the jargon."""
    call_command("load_seed", verbosity=0)
    page.goto(
        live_server.url + "/treatments/rintatolimod/abnormalities/rnase-l-pathway-dysfunction/"
    )
    cards = page.locator("article.evidence:not(.retracted)")
    assert cards.count() >= 4
    for i in range(cards.count()):
        card = cards.nth(i)
        summary = card.locator(".plain-summary")
        assert summary.is_visible()
        assert summary.inner_text().strip()
        top = summary.bounding_box()["y"]
        assert top < card.locator(".evidence-head").bounding_box()["y"]
        assert top < card.locator(".statement").bounding_box()["y"]
    screenshot(page, "pair-plain-summary-phone")
    assert not has_sideways_scroll(page)
    assert page.console_errors == []


def _tab_to(page, name: str) -> None:
    """Tab from where the focus is until the link named ``name`` has it."""
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    pytest.fail(f"the link {name!r} was never reached with Tab")


def test_a_reader_pages_through_an_abnormalitys_findings_by_keyboard(
    live_server, page, monkeypatch
):
    from playwright.sync_api import expect

    monkeypatch.setattr("findings.views.FINDINGS_PAGE_SIZE", 2)
    abnormality = factories.make_abnormality(name="Busy abnormality", slug="busy")
    for n in range(3):
        factories.make_finding(abnormality=abnormality, statement=f"Supporting finding {n}.")
    for n in range(2):
        factories.make_finding(
            abnormality=abnormality,
            direction=Direction.DOES_NOT_SUPPORT,
            level=Level.A,
            statement=f"Finding against {n}.",
        )
    page.goto(f"{live_server.url}/abnormalities/busy/?view=all")
    expect(page.get_by_text("Showing findings 1\N{EN DASH}2 of 5")).to_be_visible()

    _tab_to(page, "Next page")
    page.keyboard.press("Enter")

    page.wait_for_url("**/abnormalities/busy/?view=all&page=2#findings-heading")
    expect(page.get_by_text("Showing findings 3\N{EN DASH}4 of 5")).to_be_visible()
    expect(page.get_by_text("Supporting finding 2.")).to_be_visible()
    expect(page.get_by_text("Finding against 0.")).to_be_visible()
    expect(page.get_by_text("Findings that support it (3)")).to_be_visible()
    assert not axe_violations(page), axe_report("page 2", axe_violations(page))
    screenshot(page, "abnormality-findings-page-2-phone")

    _tab_to(page, "Previous page")
    page.keyboard.press("Enter")
    page.wait_for_url("**/abnormalities/busy/?view=all&page=1#findings-heading")
    expect(page.get_by_text("Supporting finding 0.")).to_be_visible()
    assert page.console_errors == []


def test_a_search_result_on_page_2_of_its_pair_opens_at_the_item(live_server, page, monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setattr("treatments.views.PAIR_PAGE_SIZE", 2)
    therapy = factories.make_therapy(name="Busy therapy", slug="busy")
    nk = factories.make_abnormality(name="Low NK", slug="low-nk")
    source = factories.make_source()
    with factories.rated_once():
        for level in [Level.A, Level.B, Level.C]:
            factories.make_evidence(
                therapy=therapy,
                abnormality=nk,
                source=source,
                level=level,
                statement=f"Stronger item at level {level}.",
            )
        item = factories.make_evidence(
            therapy=therapy,
            abnormality=nk,
            source=source,
            level=Level.E,
            plain_summary="The item the reader looked for.",
            statement="Quinoxaline lowered fatigue in one case report.",
        )
    page.goto(f"{live_server.url}/search/?q=quinoxaline")

    page.get_by_role("link", name="Busy therapy and Low NK").click()

    page.wait_for_url(f"**/treatments/busy/abnormalities/low-nk/?page=2#evidence-{item.pk}")
    card = page.locator(f"#evidence-{item.pk}")
    expect(card).to_be_in_viewport()
    expect(card.get_by_text("The item the reader looked for.")).to_be_visible()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    assert page.console_errors == []
    # What the reader sees on arrival (not the whole page): the item at the top.
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "search-to-evidence-page-2-phone.png"))
