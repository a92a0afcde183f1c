"""The end-to-end tests' own guard: no chromium fails on CI, skips elsewhere."""

from __future__ import annotations

import pytest

from tests.viz import browser


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)


def test_missing_chromium_fails_on_ci(no_chromium: None,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is missing"):
        browser.chromium_path()


def test_missing_chromium_skips_elsewhere(no_chromium: None,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        browser.chromium_path()
