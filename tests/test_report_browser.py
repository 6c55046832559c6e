"""The committed report opens in a real browser: every figure loads, no console errors.

Headless Chromium (Debian package ``chromium`` + ``chromium-driver``) driven by Selenium loads
``reports/default/index.html`` from disk (``file://``), checks every ``<img>`` with
``img.complete && img.naturalWidth > 0``, reads the browser console log and keeps a full-page
screenshot as ``artifacts/report-screenshot.png`` (the CI artifact) plus screenshots of the two
regime maps as the browser shows them, each checked for visible structure.

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
# A map "has visible structure" when no single colour covers this share of its plot area (a
# map drawn on a scale that does not fit its data is one flat colour, about 90% of the area).
MAX_DOMINANT_SHARE = 0.6
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


def _dominant_share(png: Path) -> float:
    """Share of the plot area (the figure's middle, away from labels and colour bar) taken
    by its most common colour, quantized to 4 bits per channel."""
    import numpy as np
    from matplotlib.image import imread

    img = imread(str(png))[..., :3]
    h, w = img.shape[:2]
    area = img[int(0.15 * h) : int(0.85 * h), int(0.15 * w) : int(0.8 * w)]
    q = np.round(area * 15).astype(int).reshape(-1, 3)
    _, counts = np.unique(q, axis=0, return_counts=True)
    return float(counts.max() / counts.sum())


def test_regime_maps_show_structure_in_the_browser(driver: Any) -> None:
    """Both regime maps, as the browser renders them, are not one flat colour (the log map
    used to share the naive map's +-40 decade scale and showed as a uniform band)."""
    from selenium.webdriver.common.by import By

    driver.get(REPORT.as_uri())
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    for obj in ("naive", "log"):
        img = driver.find_element(By.CSS_SELECTOR, f'img[src="figures/regime_map_{obj}.png"]')
        driver.execute_script("arguments[0].scrollIntoView();", img)
        shot = ARTIFACT.with_name(f"report-regime-{obj}.png")
        assert img.screenshot(str(shot)), f"screenshot of the {obj} map failed"
        share = _dominant_share(shot)
        assert share < MAX_DOMINANT_SHARE, (
            f"the {obj} regime map is {100 * share:.0f}% one colour: no visible structure"
        )


def test_a_flat_map_is_detected(tmp_path: Path) -> None:
    """The structure check can fail: a map drawn on a scale far wider than its data is flat."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    z = np.linspace(-2, 2, 200).reshape(10, 20)  # 4 decades of data on a +-40 scale
    ax.pcolormesh(z, cmap="coolwarm", vmin=-40, vmax=40)
    flat = tmp_path / "flat.png"
    fig.savefig(flat, dpi=100)
    ax.pcolormesh(z, cmap="coolwarm", vmin=-2, vmax=2)
    fig.savefig(tmp_path / "fit.png", dpi=100)
    plt.close(fig)
    assert _dominant_share(flat) >= MAX_DOMINANT_SHARE
    assert _dominant_share(tmp_path / "fit.png") < MAX_DOMINANT_SHARE
