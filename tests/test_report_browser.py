"""The committed report opens in a real browser: every figure loads, no console errors.

Headless Chromium (Debian package ``chromium`` + ``chromium-driver``) driven by Selenium loads
``reports/default/index.html`` from disk (``file://``), checks every ``<img>`` with
``img.complete && img.naturalWidth > 0``, reads the browser console log and keeps a full-page
screenshot as ``artifacts/report-screenshot.png``.

Skipped when Chromium or Selenium is missing, unless ``L2L_REQUIRE_BROWSER=1`` (CI sets it), in
which case a missing browser fails the test.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "reports" / "default" / "index.html"
ARTIFACT = ROOT / "artifacts" / "report-screenshot.png"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver",)
# Chromium as root in a container: no sandbox, no GPU, no /dev/shm, nothing from the network.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1600",
)
# Page load and script timeouts (s): the page is a few hundred kB from local disk.
PAGE_TIMEOUT_S = 60


def _which(names: tuple[str, ...]) -> str | None:
    for n in names:
        path = shutil.which(n)
        if path:
            return path
    return None


def _missing(reason: str) -> None:
    if os.environ.get("L2L_REQUIRE_BROWSER") == "1":
        pytest.fail(f"L2L_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def driver() -> Any:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[browser]')")
    browser = _which(CHROMIUM_NAMES)
    chromedriver = _which(DRIVER_NAMES)
    if browser is None or chromedriver is None:
        _missing("chromium / chromedriver not found (apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="l2l-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(browser)
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=str(chromedriver)), options=opts)
    drv.set_page_load_timeout(PAGE_TIMEOUT_S)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_committed_report_renders_in_chromium(driver: Any) -> None:
    assert REPORT.exists(), "reports/default/index.html is missing: run `l2l-verify report`"
    driver.get(REPORT.as_uri())
    images = driver.execute_script(
        "return Array.from(document.images).map(function (img) {"
        " return [img.getAttribute('src'), img.complete && img.naturalWidth > 0]; });"
    )
    assert len(images) >= 10, f"expected the report's figures, found {len(images)} <img>"
    broken = [src for src, ok in images if not ok]
    assert not broken, f"{len(broken)} of {len(images)} images did not load: {broken}"
    errors = [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]
    assert not errors, f"console errors: {errors}"
    heading = driver.execute_script("return document.querySelector('h1').textContent")
    assert "precision report" in heading
    # full-page screenshot: resize the window to the document height first
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height), 16000))
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACT)), "screenshot failed"
    assert ARTIFACT.stat().st_size > 0


def test_a_broken_image_is_detected(driver: Any, tmp_path: Path) -> None:
    """The image check can fail: a page with a missing PNG is reported as broken."""
    page = tmp_path / "index.html"
    page.write_text('<!DOCTYPE html><html><body><img src="figures/missing.png"></body></html>')
    driver.get(page.as_uri())
    ok = driver.execute_script(
        "return Array.from(document.images).map(function (i) {"
        " return i.complete && i.naturalWidth > 0; });"
    )
    assert ok == [False]
