"""The browser tests skip without chromium, except under CI=true, where they fail."""

import pytest

from tests import browser


def test_without_chromium_the_browser_tests_skip_with_a_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="no-chromium is missing"):
        browser.require_chromium()


def test_without_chromium_under_ci_the_browser_tests_fail(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        browser.require_chromium()
