"""Every reader page: accessible, self-contained HTML that a strict CSP will allow."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from tests import factories

pytestmark = pytest.mark.django_db

EVENT_HANDLER_PREFIX = "on"
# Attributes that name other elements by id: each id must be on the page, or a screen
# reader announces nothing (issue 18: #id_match and #id_level pointed at no element).
IDREF_ATTRIBUTES = ("aria-describedby", "aria-labelledby", "aria-controls", "aria-owns")


class PageParser(HTMLParser):
    """Collects what the checks below need from one page."""

    def __init__(self):
        super().__init__()
        self.inline_scripts = 0
        self.script_srcs: list[str] = []
        self.stylesheets: list[str] = []
        self.handlers: list[str] = []
        self.style_attributes = 0
        self.controls: list[dict] = []
        self.label_fors: set[str] = set()
        self.ids: list[str] = []
        self.idrefs: list[tuple[str, str, str]] = []
        self._in_label = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for name in IDREF_ATTRIBUTES:
            self.idrefs += [(tag, name, ref) for ref in (attrs.get(name) or "").split()]
        self.handlers += [name for name in attrs if name.startswith(EVENT_HANDLER_PREFIX)]
        if "style" in attrs:
            self.style_attributes += 1
        if tag == "script":
            self._in_script = True
            if "src" in attrs:
                self.script_srcs.append(attrs["src"])
        if tag == "style":
            self.inline_scripts += 1  # inline styles are refused by a strict CSP too
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.stylesheets.append(attrs["href"])
        if tag == "label":
            self._in_label += 1
            if attrs.get("for"):
                self.label_fors.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.controls.append({**attrs, "_wrapped": self._in_label > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self._in_label -= 1
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


@pytest.fixture
def pages():
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod", aliases="Ampligen")
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")
    evidence = factories.make_evidence(therapy=therapy, abnormality=nk, quote="verbatim")
    factories.make_finding(abnormality=nk, source=evidence.source)
    factories.make_regulatory_status(therapy=therapy)
    return [
        "/",
        "/treatments/",
        "/treatments/?abnormality=low-nk&level=B",
        "/treatments/?level=Z",
        "/treatments/rintatolimod/",
        "/treatments/rintatolimod/abnormalities/low-nk/",
        "/abnormalities/",
        "/abnormalities/low-nk/",
        "/sources/",
        evidence.source.get_absolute_url(),
        "/search/",
        "/search/?q=Ampligen",
        "/search/?q=zzzzqqq",
        "/gaps/",
        "/changes/",
        "/no-such-page/",
    ]


def parse(client, url) -> tuple[str, PageParser]:
    response = client.get(url)
    assert response.status_code in (200, 400, 404), url
    html = response.content.decode()
    parser = PageParser()
    parser.feed(html)
    return html, parser


def test_no_page_has_inline_script_style_or_event_handlers(client, pages):
    for url in pages:
        _html, page = parse(client, url)
        assert page.inline_scripts == 0, url
        assert page.handlers == [], url
        assert page.style_attributes == 0, url


def test_every_script_and_stylesheet_comes_from_our_static_files(client, pages):
    for url in pages:
        _html, page = parse(client, url)
        for asset in page.script_srcs + page.stylesheets:
            assert asset.startswith("/static/"), (url, asset)
            relative = asset.split("static/", 1)[1]
            assert (Path(settings.BASE_DIR) / "static" / relative).is_file(), asset


def test_every_form_control_has_a_label(client, pages):
    for url in pages:
        _html, page = parse(client, url)
        for control in page.controls:
            labelled = (
                control["_wrapped"]
                or control.get("id") in page.label_fors
                or control.get("aria-label")
                or control.get("aria-labelledby")
            )
            assert labelled, (url, control)


def test_ids_are_unique_on_every_page(client, pages):
    for url in pages:
        _html, page = parse(client, url)
        assert len(page.ids) == len(set(page.ids)), url


def test_every_id_an_attribute_points_at_is_on_the_page(client, pages):
    for url in pages:
        _html, page = parse(client, url)
        ids = set(page.ids)
        dangling = [ref for ref in page.idrefs if ref[2] not in ids]
        assert dangling == [], url
        assert page.label_fors <= ids, url


def test_every_page_says_it_is_not_medical_advice(client, pages):
    for url in pages:
        html, _page = parse(client, url)
        assert "<strong>Not medical advice.</strong>" in html, url
        assert '<html lang="en">' in html
        assert '<main id="main"' in html
        assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in html


def test_the_htmx_file_is_vendored_with_its_licence():
    vendor = Path(settings.BASE_DIR) / "static" / "vendor"
    assert (vendor / "htmx-2.0.11.min.js").stat().st_size > 10_000
    assert "Zero-Clause BSD" in (vendor / "htmx-2.0.11.LICENSE").read_text()


def test_the_500_page_needs_no_database_or_request():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")

    assert "Something went wrong on our side" in html
    assert "Not medical advice." in html


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_colours_meet_wcag_aa_contrast():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "site.css").read_text()
    colours = dict(re.findall(r"--([a-zA-Z-]+): (#[0-9a-fA-F]{6});", css))
    pairs = [
        ("text", "bg"),
        ("text", "panel"),
        ("muted", "bg"),
        ("muted", "panel"),
        ("link", "bg"),
        ("link", "panel"),
        ("text", "notice-bg"),
        ("text", "error-bg"),
        ("error-line", "error-bg"),
    ]
    pairs += [("text", f"level-{letter}") for letter in "ABCDE"]
    for foreground, background in pairs:
        ratio = contrast(colours[foreground], colours[background])
        assert ratio >= 4.5, (foreground, background, round(ratio, 2))
    # Level borders are a non-text signal beside the letter: 3:1 against the fill.
    for letter in "ABCDE":
        assert contrast(colours[f"level-{letter}-line"], colours[f"level-{letter}"]) >= 3
