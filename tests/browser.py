"""Shared set-up for the browser tests (tests/test_browser_*.py): one Debian chromium
per test session, driven by Playwright for Python; screenshots go to screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"


def require_chromium() -> None:
    """Skip without a browser, except in CI where a missing browser is a failure."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def has_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


# Rules whose violations fail a test: axe-core's two highest impacts.
SERIOUS_IMPACTS = ("serious", "critical")


def axe_violations(page, *, impacts=SERIOUS_IMPACTS) -> list[dict]:
    """Runs axe-core (bundled in the axe-playwright-python package, no download) on the
    page as it is now; returns the violations of the given impacts."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v["impact"] in impacts]


def axe_report(url: str, violations: list[dict]) -> str:
    """One line per violation and element: the rule, its impact, the element and where
    the rule is explained."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(
                f"{url}: {violation['id']} ({violation['impact']}) at {target}: "
                f"{violation['help']} — {violation['helpUrl']}\n"
                f"    {node['html'][:200]}\n    {node.get('failureSummary', '')[:400]}"
            )
    return "\n".join(lines)
